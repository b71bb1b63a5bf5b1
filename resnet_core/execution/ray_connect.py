"""The driver joining a Ray cluster (the CLI's sweep, the app's job runner): `ray.init`, with what went wrong
said in one sentence that names the fix, and without Ray's wall of retry lines.

Ray turns token authentication on for the clusters it starts (2.59: `ray.init()` of a local cluster, and
`ray start --head` on a machine that has a token; 2.61: every cluster). A node or a driver then needs
RAY_AUTH_MODE=token and the cluster's token: RAY_AUTH_TOKEN, else the file RAY_AUTH_TOKEN_PATH names, else
~/.ray/auth_token. Ray does not switch token mode on by itself for an explicit address (RAY_ADDRESS or
`--address`), and a driver without it retries for 20 s, writing a line a second from Ray's C++ GCS client
("Failed to get cluster ID from GCS server: Unauthenticated"), then ends "Failed to connect" with the reason
lost. A driver with token mode and no token at all aborts the process in Ray's C++ token loader. So before
`ray.init`, for an address HOST:PORT:

1. a TCP connection to it (a few seconds at most): nothing listening there is said at once;
2. with token mode, a token must be found (Ray's own loader, asked so that it raises rather than aborts);
3. one request to the cluster's GCS through Ray's own client (so Ray's own token rules): a refused token
   is an AuthenticationError within milliseconds. Its C++ warning line goes to file descriptor 2 whatever
   RAY_BACKEND_LOG_LEVEL says (that variable is read only once Ray's core worker starts its log), so the
   descriptor is pointed at /dev/null for the few milliseconds of the request.

Then `ray.init` itself, with Ray's Python logging at WARNING (no "Connecting to existing Ray cluster" or
package-upload lines). A failure there is worded as well: a driver must run on a machine of the cluster
(Ray drivers talk to the raylet of their own machine).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

TCP_TIMEOUT_SECONDS = 5.0
GCS_TIMEOUT_MS = 5000
_STDERR_LOCK = threading.Lock()

TOKEN_WHERE = (
    "the head's token (`ray get-auth-token` there prints it) in ~/.ray/auth_token on this machine, "
    "or in RAY_AUTH_TOKEN (which takes precedence)"
)


class RayConnectError(ValueError):
    """The cluster cannot be joined; the message says why and what to do (a ValueError: the CLI exits 2)."""


def connect(init: Callable[..., object], address: str | None, **options) -> None:
    """`init(address=address, **options)` (ray.init, or a wrapper of it) once the cluster at `address` has
    answered and accepted this process (see the module docstring); RayConnectError saying what to do
    otherwise. `address` None or "auto": a local cluster, started or found by Ray itself."""
    target = gcs_address(address)
    if target is not None:
        check_cluster(target)
    options.setdefault("logging_level", logging.WARNING)
    try:
        init(address=address, **options)
    except Exception as err:  # ConnectionError, RuntimeError, ValueError, ray's own RayError subclasses
        raise RayConnectError(explain_init_failure(address, err)) from err


def gcs_address(address: str | None) -> str | None:
    """HOST:PORT of a cluster's head to check before `ray.init`, or None: a local cluster ("auto", None) or a
    Ray Client address (ray://…), which `ray.init` alone handles."""
    if not address or address in ("auto", "local") or "://" in address:
        return None
    host, _, port = address.rpartition(":")
    return address if host and port.isdigit() else None


def check_cluster(address: str) -> None:
    """RayConnectError unless a Ray cluster's GCS answers at HOST:PORT `address` and accepts this process."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=TCP_TIMEOUT_SECONDS).close()
    except OSError as err:
        reason = "timed out" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise RayConnectError(
            f"nothing answers at {address} ({reason}): start the cluster there first "
            f"(`ray start --head --port {port}` on the head machine) or correct the address"
        ) from None
    try:
        import ray
        from ray._raylet import InnerGcsClient
    except ImportError:  # a Ray without this client: ray.init alone decides
        return
    token_mode = auth_mode() == "token"
    if token_mode:
        problem = token_problem()
        if problem is not None:
            raise RayConnectError(
                f"RAY_AUTH_MODE=token is set here but {problem}: put {TOKEN_WHERE} (or set RAY_AUTH_MODE=disabled "
                "if the cluster runs without authentication)"
            )
    try:
        with quiet_stderr():
            InnerGcsClient.standalone(address, None, GCS_TIMEOUT_MS)
    except ray.exceptions.AuthenticationError:
        raise RayConnectError(refused_message(address, token_mode)) from None
    except Exception as err:
        raise RayConnectError(
            f"{address} answers, but not as a Ray cluster's head ({type(err).__name__}: {err}): give the port "
            "`ray start --head --port` was given"
        ) from None


def refused_message(address: str, token_mode: bool) -> str:
    """Why a cluster refused this driver, and the setting that fixes it."""
    if token_mode:
        return (
            f"the Ray cluster at {address} refused this machine's authentication token: it is not the "
            f"cluster's. Use {TOKEN_WHERE}"
        )
    return (
        f"the Ray cluster at {address} requires token authentication (Ray's default): set RAY_AUTH_MODE=token "
        f"where the driver runs, with {TOKEN_WHERE} (README: Sweeps, here or on a Ray cluster)"
    )


def explain_init_failure(address: str | None, err: BaseException) -> str:
    """`ray.init`'s failure as what to do: its cause is often only in the exception chain's text."""
    text = " ".join(f"{type(e).__name__}: {e}" for e in _chain(err))
    where = address or "this machine"
    if "No node info found matching" in text:
        return (
            f"the Ray cluster at {where} answers, but this machine is not one of its nodes: a Ray driver runs on "
            "a machine of the cluster (the head, or one where `ray start --address …` ran)"
        )
    if "AuthenticationError" in text or "InvalidAuthToken" in text or "Unauthenticated" in text:
        return refused_message(where, auth_mode() == "token")
    return f"could not connect to the Ray cluster at {where}: {err}"


def auth_mode() -> str:
    """The authentication mode Ray uses in this process: "token" or "disabled" (RAY_AUTH_MODE, as Ray read it)."""
    try:
        from ray._raylet import AuthenticationMode, get_authentication_mode

        return "token" if get_authentication_mode() == AuthenticationMode.TOKEN else "disabled"
    except ImportError:
        return os.environ.get("RAY_AUTH_MODE", "disabled").lower()


def token_problem() -> str | None:
    """Why no token would be sent (None: one is found), asked of Ray's own loader in the way that raises
    rather than aborting the process."""
    try:
        from ray._raylet import AuthenticationTokenLoader
    except ImportError:
        return None
    loader = AuthenticationTokenLoader.instance()
    try:
        found = loader.has_token(ignore_auth_mode=True)
    except Exception as err:  # RAY_AUTH_TOKEN_PATH names a missing or empty file
        return str(err).split(". ")[0]
    return None if found else "no token is found (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token)"


@contextlib.contextmanager
def quiet_stderr():
    """File descriptor 2 pointed at /dev/null for the duration (Ray's C++ logging writes there directly).
    Only around calls of a few milliseconds: other threads' stderr is lost meanwhile."""
    with _STDERR_LOCK:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _chain(err: BaseException | None):
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__

"""The driver joining a Ray cluster (the CLI's sweep, the app's job runner): `ray.init`, with what went wrong
said in one sentence that names the fix, and without Ray's wall of retry lines.

Ray turns token authentication on for the clusters it starts (2.59: `ray.init()` of a local cluster, and
`ray start --head` on a machine that has a token; 2.61: every cluster). Every node and driver then needs
RAY_AUTH_MODE=token and the cluster's token: RAY_AUTH_TOKEN, else the file RAY_AUTH_TOKEN_PATH names, else
~/.ray/auth_token. Ray does not switch token mode on by itself for an explicit address (RAY_ADDRESS or
`--address`), and what goes wrong is hard to read:
- a driver without token mode retries for 20 s, writing a line a second from Ray's C++ GCS client ("Failed
  to get cluster ID from GCS server: Unauthenticated"), then ends "Failed to connect", the reason lost;
- a driver with token mode and no token aborts the whole process in Ray's C++ token loader;
- a driver with token mode joins a cluster without authentication, but the cluster's workers cannot answer
  it (its own endpoints ask them for a token): its tasks' results never arrive, and runs wait forever.
So before `ray.init`, for an address HOST:PORT:
1. a TCP connection to it (a few seconds at most): nothing listening there is said at once;
2. with token mode, a token must be found (asked of Ray's loader in the way that raises, not aborts);
3. one request to the cluster's GCS through Ray's own client (Ray's own token rules): a refused token is an
   AuthenticationError within milliseconds; with token mode, a second request without the token tells a
   cluster that runs without authentication. The C++ warning a refused request writes goes to file
   descriptor 2 whatever RAY_BACKEND_LOG_LEVEL says (read only once Ray's core worker starts its log), so
   the descriptor points at /dev/null for the few milliseconds of these requests.
Then `ray.init` itself, with Ray's Python logging at WARNING (no "Connecting to existing Ray cluster" or
package-upload lines); a failure there is worded too (a driver must run on a machine of the cluster: a Ray
driver works through the raylet of its own machine).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable

TCP_TIMEOUT_SECONDS = 5.0
GCS_TIMEOUT_MS = 5000
_PROCESS_STATE = threading.Lock()  # file descriptor 2 and Ray's process-wide authentication mode
README = "(README: Sweeps, here or on a Ray cluster)"
TOKEN_FROM_HEAD = "the head's token (`ray get-auth-token` there prints it)"


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
                f"RAY_AUTH_MODE=token is set here but {problem}: put {TOKEN_FROM_HEAD} in ~/.ray/auth_token on "
                "this machine or in RAY_AUTH_TOKEN, or set RAY_AUTH_MODE=disabled if the cluster runs without "
                f"authentication {README}"
            )

    def ask_gcs() -> None:
        InnerGcsClient.standalone(address, None, GCS_TIMEOUT_MS)

    try:
        with _PROCESS_STATE, quiet_stderr():
            ask_gcs()
    except ray.exceptions.AuthenticationError:
        raise RayConnectError(refused_message(address, token_mode)) from None
    except Exception as err:
        raise RayConnectError(
            f"{address} answers, but not as a Ray cluster's head ({type(err).__name__}: {err}): give the port "
            "that `ray start --head --port` was given"
        ) from None
    if token_mode and _answers_without_token(ask_gcs):
        raise RayConnectError(
            f"the Ray cluster at {address} runs without authentication, but RAY_AUTH_MODE=token is set here: its "
            "workers could not answer this driver and its runs would wait forever. Set RAY_AUTH_MODE=disabled "
            f"here as on the cluster, or restart the cluster with token authentication {README}"
        )


def refused_message(address: str, token_mode: bool) -> str:
    """Why a cluster refused this driver, and the setting that fixes it."""
    if token_mode:
        return (
            f"the Ray cluster at {address} refused the authentication token of this machine (from "
            f"{token_source()}): it is not the cluster's. Use {TOKEN_FROM_HEAD} there instead {README}"
        )
    return (
        f"the Ray cluster at {address} requires token authentication (Ray's default): set RAY_AUTH_MODE=token "
        f"where the driver runs, with {TOKEN_FROM_HEAD} in ~/.ray/auth_token on this machine or in "
        f"RAY_AUTH_TOKEN {README}"
    )


def explain_init_failure(address: str | None, err: BaseException) -> str:
    """`ray.init`'s failure as what to do: its cause is often only in the exception chain's text."""
    text = " ".join(f"{type(e).__name__}: {e}" for e in _chain(err))
    where = address or "this machine"
    if "No node info found matching" in text:
        return (
            f"the Ray cluster at {where} answers, but this machine is not one of its nodes: run the driver on a "
            f"machine of the cluster (the head, or one where `ray start --address …` ran) {README}"
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


def token_source() -> str:
    """Where Ray takes this process's token from (its order of precedence)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    if os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return f"the file RAY_AUTH_TOKEN_PATH names, {os.environ['RAY_AUTH_TOKEN_PATH']}"
    return "~/.ray/auth_token"


def token_problem() -> str | None:
    """Why no token would be sent (None: one is found), asked of Ray's own loader in the way that raises
    rather than aborting the process."""
    try:
        from ray._raylet import AuthenticationTokenLoader
    except ImportError:
        return None
    try:
        found = AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True)
    except Exception:  # RAY_AUTH_TOKEN_PATH names a missing or empty file
        return f"no token can be read from {token_source()}"
    return None if found else "no token is found (not in RAY_AUTH_TOKEN, nor in ~/.ray/auth_token)"


def _answers_without_token(ask: Callable[[], None]) -> bool:
    """Whether the GCS answers a request that carries no token: `ask()` with Ray's authentication mode turned
    off for the moment (process-wide, as Ray itself turns it on: the environment, then its config reread)."""
    try:
        from ray._raylet import Config
    except ImportError:
        return False
    with _PROCESS_STATE:
        saved = os.environ.get("RAY_AUTH_MODE")
        os.environ["RAY_AUTH_MODE"] = "disabled"
        Config.initialize("")
        try:
            with quiet_stderr():
                ask()
            return True
        except Exception:  # refused: the cluster wants a token
            return False
        finally:
            if saved is None:
                os.environ.pop("RAY_AUTH_MODE", None)
            else:
                os.environ["RAY_AUTH_MODE"] = saved
            Config.initialize("")


@contextlib.contextmanager
def quiet_stderr():
    """File descriptor 2 pointed at /dev/null for the duration (Ray's C++ logging writes there directly).
    Only around calls of a few milliseconds: other threads' stderr is lost meanwhile."""
    if sys.stderr is not None:
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

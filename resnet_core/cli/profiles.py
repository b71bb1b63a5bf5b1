"""`python -m resnet_core profiles`: compute the Gradients page's costly profiles once and keep them.

A 1202-layer profile is a forward and a backward pass of two 1202-layer nets: tens of seconds on a 2-core
CPU, longer than a page may make its reader wait. The page shows a kept profile when one matches exactly
(the same net, seed and probe batch: analysis/profiles.profile_key) and otherwise offers a button.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime


def int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None


def add_profiles(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("profiles", help="keep the Gradients page's costly gradient profiles")
    p.add_argument("--depths", type=int_list, default=[110, 1202], help="CIFAR depths (default 110,1202)")
    p.add_argument("--batch", type=int_list, default=[64], help="probe batch sizes (default 64)")
    p.add_argument("--norms", default="batch", help="comma-separated: batch, none (default batch)")
    p.add_argument("--activations", default="relu", help="comma-separated: relu, sigmoid, tanh (default relu)")
    p.add_argument("--preact", action="store_true", help="pre-activation nets too")
    p.set_defaults(handler=run_profiles)


def run_profiles(args: argparse.Namespace) -> int:
    # Imported here: `python -m resnet_core runs` must not pay for torch (tests/test_cli_requests.py).
    import torch

    from ..analysis.profiles import (
        KEPT_FILE,
        batch_fingerprint,
        init_gradient_profile,
        keep_profiles,
        kept_profiles,
        probe_batch,
        profile_key,
    )
    from ..data.datasets import load_dataset
    from ..model.spec import NetSpec

    data = load_dataset("shapes")
    kept = kept_profiles(KEPT_FILE)
    for batch_size in args.batch:
        images, labels = probe_batch(data, batch_size)
        fingerprint = batch_fingerprint(images, labels)
        for depth in args.depths:
            for norm in args.norms.split(","):
                for activation in args.activations.split(","):
                    for preact in (False, True) if args.preact else (False,):
                        for skip in (True, False):
                            spec = NetSpec(depth=depth, norm=norm, activation=activation, preact=preact, skip=skip)
                            start = time.perf_counter()
                            kept[profile_key(spec, fingerprint)] = init_gradient_profile(spec, images, labels)
                            print(
                                f"{spec.name} ({norm}, {activation}, preact={preact}), batch {batch_size}: "
                                f"{time.perf_counter() - start:.1f} s",
                                flush=True,
                            )
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    note = f"python -m resnet_core profiles, {when}, torch {torch.__version__}, {platform.machine()}"
    keep_profiles(kept, KEPT_FILE, note)
    print(f"kept {len(kept)} profiles in {KEPT_FILE}")
    return 0

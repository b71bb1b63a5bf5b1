"""Command line: `python -m resnet_core COMMAND ...` (installed: `resnet-lab COMMAND ...`).

    python -m resnet_core train --depth 56 [--plain] [--epochs 10] [--train-size 5000] ...
    python -m resnet_core runs [--json] | resume RUN | stop RUN | delete RUN
    python -m resnet_core degradation [--depths 20,56] [--device cpu]
    python -m resnet_core reference [--out DIR] [--depths 8,14 --epochs 1 --train-size 200]  (the app's reference runs)
    python -m resnet_core sweep --depths 20,56 --twins --seeds 3 [--executor ray [--address ADDR]]
    python -m resnet_core profiles [--depths 110,1202]  (the Gradients page's kept profiles)
    python -m resnet_core bench [--quick] [--device cpu] [--models 20,56] [--steps 25] [--json]

Each command is a pair of functions: `add_<name>(subparsers)` declares its flags and sets `handler`,
and the handler takes the parsed arguments and returns the exit status. The run commands live in
cli/runs.py; to add a command, write the pair and append its `add_` function to `COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..store.run_store import StoreCorrupt
from .bench import add_bench
from .degradation import add_degradation
from .profiles import add_profiles
from .reference import add_reference
from .runs import COMMANDS as RUN_COMMANDS
from .runs import damaged_store_advice
from .sweep import add_sweep

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    *RUN_COMMANDS,
    add_degradation,
    add_reference,
    add_sweep,
    add_bench,
    add_profiles,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resnet-lab",
        description="ResNet Lab from the shell.",
        # The app's class mode checks who may act on a run (store/access.py); the shell does not: whoever can
        # run it here can read and write the runs folder anyway.
        epilog="The command line is the local administrator: it sees, stops, resumes and deletes every run in "
        "the runs folder, whoever started it in the app's class mode (`runs --json` says each run's owner).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:  # invalid choices the library reports (bad depth, unavailable device)
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StoreCorrupt as error:  # runs.sqlite damaged: name it and say what to do, no traceback
        print(damaged_store_advice(error), file=sys.stderr)
        return 1


def console() -> None:
    """The `resnet-lab` console script (pyproject.toml)."""
    sys.exit(main())

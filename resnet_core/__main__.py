"""`python -m resnet_core COMMAND ...`: the command line lives in `resnet_core.cli.main`."""

from .cli.main import console

console()

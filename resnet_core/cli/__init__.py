"""The command line (`python -m resnet_core …` or `resnet-lab …`) and the benchmarks it runs."""

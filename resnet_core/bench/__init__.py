"""Benchmarks: `python -m resnet_core bench …` (the trainer, the pages, twins side by side, the executors).

They ship in the wheel because a speed is only meaningful on the machine that runs the app: anyone who
installed resnet-lab can measure theirs. BENCHMARKS.md records the results with the machine.
"""

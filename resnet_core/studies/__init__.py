"""Studies made of runs: the degradation experiment, sweeps, background analyses and the reference bundle."""

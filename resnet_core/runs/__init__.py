"""Runs: the SQLite run store (the only channel between the UI and training), the job runner and its
worker processes, and the experiments built from runs (the degradation study)."""

"""Running runs: the job runner, the local worker process, the Ray executor, and the one run lifecycle they
share."""

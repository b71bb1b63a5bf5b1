"""Training: the loop (`train`), its events, atomic safetensors checkpoints, and the device choice."""

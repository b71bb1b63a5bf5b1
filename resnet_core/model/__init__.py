"""The model: what a net is (`NetSpec`), its parts (norms, activations, shortcuts, blocks), the net with
its layout (the table of layers every view reads), and what it costs (parameters, multiply-adds)."""

"""Presentation: plotly figure builders as pure functions (data in, `go.Figure` out), the net diagram,
the palette every chart shares, and what the app and the CLI say about runs (labels, rows, CSV)."""

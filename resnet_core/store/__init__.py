"""The run store: SQLite rows and checkpoint files, the only channel between the UI and training, and the
read interface every reader of runs is typed against."""

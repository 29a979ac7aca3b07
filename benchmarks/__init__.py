"""Benchmarks: `python -m benchmarks.<name>` prints a table comparing vowkeep with a baseline run alongside."""

"""vowkeep's benchmarks: one module per benchmark, each runnable as `python -m benchmarks.NAME`."""

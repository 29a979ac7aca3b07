"""Benchmarks: one module per benchmark, each with a `main()` that prints its table (`python -m benchmarks NAME`)."""

"""vowkeep's benchmarks: each module measures one thing against a baseline in the same run and prints a table.

`python -m benchmarks` runs them all; `python -m benchmarks gate_read collect_http` runs some.
"""

"""`vowkeep policy check` wall time (a CLI should answer in well under a second), vs the Python start-up alone."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._instance import SAMPLE
from benchmarks._table import table

RUNS = 10


def _wall(args: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    vowkeep = str(Path(sys.executable).with_name("vowkeep"))
    rows = []
    for name, args in (
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        ("vowkeep --help", [vowkeep, "--help"]),
        ("vowkeep policy check wsoutsourcer.yaml", [vowkeep, "policy", "check", str(SAMPLE)]),
        ("vowkeep policy lint wsoutsourcer.yaml", [vowkeep, "policy", "lint", str(SAMPLE)]),
    ):
        times = _wall(args)
        rows.append([name, f"{statistics.median(times) * 1000:.0f}", f"{min(times) * 1000:.0f}"])
    print(table(["command", "median ms", "best ms"], rows))
    print(f"\n{RUNS} runs each.")

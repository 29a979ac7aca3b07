"""Standing targets: `vowkeep serve` healthy in under 2 s and under 120 MB RSS at idle; the default install (no
extras) under 150 MB. The baseline is the bare FastAPI app under uvicorn, measured the same way."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._http import free_port, python, server
from benchmarks._instance import ROOT, make
from benchmarks._table import table


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def directory_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def install_size() -> tuple[float, float]:
    """(MB of a fresh venv with `pip install .`, MB of that venv before installing) — pip's cache is used."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        empty = directory_mb(venv)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], check=True, capture_output=True)
        return directory_mb(venv), empty


def main() -> None:
    _, _, data_dir = make()
    rows = []
    port = free_port()
    with server(
        [python(), "-m", "uvicorn", "benchmarks._bare_app:app", "--port", str(port), "--log-level", "warning"],
        port=port,
    ) as (process, seconds):
        time.sleep(2)
        rows.append(["bare FastAPI app under uvicorn (baseline)", f"{seconds:.2f}", f"{rss_mb(process.pid):.0f}"])
    port = free_port()
    with server(
        [python(), "-m", "vowkeep.cli", "serve", "--port", str(port)],
        port=port,
        env={"VOWKEEP_DATA_DIR": str(data_dir)},
    ) as (process, seconds):
        time.sleep(2)
        rows.append(["vowkeep serve (with its worker)", f"{seconds:.2f}", f"{rss_mb(process.pid):.0f}"])
    print(table(["server", "seconds to healthy", "RSS MB at idle"], rows))
    total, empty = install_size()
    print()
    print(
        table(
            ["install", "MB"],
            [
                ["empty venv (pip, setuptools)", f"{empty:.0f}"],
                ["venv after `pip install .` (no extras)", f"{total:.0f}"],
                ["vowkeep and its dependencies", f"{total - empty:.0f}"],
            ],
        )
    )

"""`vowkeep verify` on an instance of N subjects against a raw read of the same data: `python -m benchmarks verify`.

The instance (SQLite, the sample declaration) gets `--subjects` subjects (default 1,000) through the gate at the
inquiry form — e-mail, first and last name, message: four items each — and one audited read of each for support.
Two baselines read the same bytes with no vowkeep at all: a raw `sqlite3` `SELECT *` of every table of both
databases plus a read of every database file; and the same plus a naive search of the files and the rows for every
known value (`bytes.find`, value by value). `vowkeep verify` does all of its ten checks, which includes decrypting
every item, scanning every column of every table and the raw database, WAL and key store files.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from benchmarks._instance import fill, make
from benchmarks._table import table


def _raw_read(data_dir: Path) -> tuple[list[bytes], list[bytes]]:
    """Every row of every table of both databases (as bytes), and every database file's bytes."""
    cells: list[bytes] = []
    for name in ("vowkeep.db", "keys.db"):
        con = sqlite3.connect(data_dir / name)
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table_name in tables:
            for row in con.execute(f'SELECT * FROM "{table_name}"'):
                cells.extend(v if isinstance(v, bytes) else str(v).encode() for v in row if v is not None)
        con.close()
    files = [p.read_bytes() for p in sorted(data_dir.iterdir()) if p.name.startswith(("vowkeep.db", "keys.db"))]
    return cells, files


def _naive_search(cells: list[bytes], files: list[bytes], needles: list[bytes]) -> int:
    blob = b"\x00".join(cells).lower()
    found = 0
    for data in [blob, *(f.lower() for f in files)]:
        for needle in needles:
            found += data.find(needle) >= 0
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000, help="subjects in the instance (default 1,000)")
    args = parser.parse_args(argv or [])

    from vowkeep.vault.actors import Actor
    from vowkeep.verify import report

    instance, _, data_dir = make()
    try:
        started = time.perf_counter()
        ids = fill(instance, args.subjects)
        reader = Actor.system("benchmark-reader")
        for subject_id in ids:
            with instance.vault.transaction() as conn:
                instance.vault.read(conn, actor=reader, purpose="support", subject_id=subject_id)
        print(f"built {len(ids):,} subjects in {time.perf_counter() - started:.1f} s")
        needles = [
            v.lower().encode()
            for i in range(args.subjects)
            for v in (f"person{i}@example.org", f"First{i}", f"Last{i}", f"Question number {i}")
        ]

        began = time.perf_counter()
        cells, files = _raw_read(data_dir)
        raw_seconds = time.perf_counter() - began
        began = time.perf_counter()
        cells, files = _raw_read(data_dir)
        _naive_search(cells, files, needles)
        naive_seconds = time.perf_counter() - began
        size = sum(len(f) for f in files)

        result = report.run(instance)
        assert result.ok, report.render_text(result)
        rows = [
            ["raw sqlite3 SELECT * of every table + read of every file", f"{raw_seconds:.2f}", "100 %"],
            [
                f"the same + naive search for the {len(needles):,} known values",
                f"{naive_seconds:.2f}",
                f"{100 * naive_seconds / raw_seconds:,.0f} %",
            ],
            ["vowkeep verify (10 checks)", f"{result.seconds:.2f}", f"{100 * result.seconds / raw_seconds:,.0f} %"],
        ]
        rows += [
            [f"  of which {name}", f"{seconds:.2f}", f"{100 * seconds / raw_seconds:,.0f} %"]
            for name, seconds in result.timings.items()
        ]
        print(f"{len(ids):,} subjects, {len(cells):,} stored cells, {size:,} bytes of database files\n")
        print(table(["run", "seconds", "vs raw read"], rows))
    finally:
        instance.close()
        shutil.rmtree(data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Run benchmarks by name (default: all) and print their tables."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    # Benchmarks with their own options (rights, sweep) read sys.argv when run alone; here they take their defaults.
    sys.argv = sys.argv[:1]
    for name in names:
        started = time.perf_counter()
        print(f"\n## {name}\n")
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"\n({name} took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

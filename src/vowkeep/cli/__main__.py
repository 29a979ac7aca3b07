"""`python -m vowkeep.cli …` — the same as the `vowkeep` command."""

from vowkeep.cli import main

main()

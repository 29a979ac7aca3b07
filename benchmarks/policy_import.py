"""`policy import` (TOOL-2) on the five seed policies and an unseen sixth: recall and precision per dimension.

Each seed text is imported and its draft compared with the hand-written declaration (`vowkeep.policy.importer.
measure` documents each dimension's rule). The sixth text (tests/fixtures/import/harbourlight.html) was written,
with its declaration, before the importer was run on it; it shows the lexicon is not tuned to the seeds. The import
wall time per text is the median of `REPEAT` runs, after one warm-up run that pays for loading fideslang; it
includes validating the draft with `load_text` (PyYAML's pure-Python loader, about half of the time).

The baseline, measured in the same run, uses the same lexicon without the rest of the importer: every phrase found
anywhere in the text counts, with no statements, classes, negation, subjects or section context. It shows what the
reading around the lexicon adds.

The last column measures retention against every period of the hand-written declaration instead of the periods
its text states: most of those periods are the author's choices, so it is shown for information, not as a target.

    python -m benchmarks policy_import
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
UNSEEN = ROOT / "tests" / "fixtures" / "import"
POLICIES = ROOT / "examples" / "policies"
REPEAT = 5
TODAY = "2026-01-01"


@dataclass(frozen=True)
class Case:
    name: str
    text: Path
    declaration: Path
    # The retention periods the text itself states. The seed declarations choose a period for every purpose where the
    # seed states none (examples/policies/README.md, "No retention period in the seed": 000, 001, 003, 004); the only
    # period a seed states is WS Outsourcer's cap, "far longer than a month". None: every period of the declaration.
    stated_retention: tuple[str, ...] | None


CASES = (
    Case("wespro", SEEDS / "000_4cfecbb56c2b2a6e.txt", POLICIES / "wespro.yaml", ()),
    Case("wescom", SEEDS / "001_5ffb2f286a488132.txt", POLICIES / "wescom.yaml", ()),
    Case("wsoutsourcer", SEEDS / "002_7bbfe2b80795aa5d.txt", POLICIES / "wsoutsourcer.yaml", ("P1M",)),
    Case("retailer", SEEDS / "003_d376061113b7be31.txt", POLICIES / "retailer.yaml", ()),
    Case("spera", SEEDS / "004_7430b612c1ad7840.txt", POLICIES / "spera.yaml", ()),
    Case("harbourlight (unseen)", UNSEEN / "harbourlight.html", UNSEEN / "harbourlight.yaml", None),
)


def _day() -> dt.date:
    return dt.date.fromisoformat(TODAY)


def measure(case: Case):
    """(ImportResult, {dimension: Score}) for one case."""
    from vowkeep.policy import load_file
    from vowkeep.policy.importer import import_file
    from vowkeep.policy.importer.measure import compare_import

    result = import_file(case.text, today=_day())
    gold = load_file(case.declaration).policy
    return result, compare_import(result, gold, gold_retention=case.stated_retention)


def baseline(text: str) -> dict[str, list[str]]:
    """The sets a phrase scan finds: every lexicon phrase anywhere in the text, in any sentence, even negated."""
    from vowkeep.policy.importer import lexicon as lx
    from vowkeep.policy.importer.extract import find_terms
    from vowkeep.policy.importer.reader import read_blocks

    plain = "\n".join(block.text for block in read_blocks(text))
    terms = find_terms(plain, lx.CATEGORIES)
    categories = {lx.CUSTOM_CATEGORIES.get(k, (k,))[0] for term, _ in terms for k in term.keys}
    purposes = {".".join(lx.PURPOSES[k].data_use.split(".")[:2]) for k, _ in find_terms(plain, lx.PURPOSE_CUES)}
    kinds = {lx.RECIPIENTS[k].kind for k, _ in find_terms(plain, lx.RECIPIENT_CUES)}
    periods = [lx.iso_duration(m.group(1), m.group(2)) for m in lx.DURATION.finditer(plain)]
    age = re.search(r"\b(?:under|below|younger than|at least)\s+(?:the age of\s+)?(\d{1,2})\b", plain, re.I)
    return {
        "categories": sorted(categories),
        "purposes": sorted(purposes),
        "recipients": sorted(kinds),
        "retention": periods,
        "minimum_age": [age.group(1)] if age else [],
    }


def measure_baseline(case: Case):
    """{dimension: Score} of the phrase-scan baseline for one case."""
    from vowkeep.policy import load_file
    from vowkeep.policy.importer.measure import compare_sets, distinct_periods, sets
    from vowkeep.policy.importer.reader import decode

    found = baseline(decode(case.text.read_bytes(), str(case.text)))
    found["retention"] = distinct_periods(found["retention"])
    gold = load_file(case.declaration).policy
    return compare_sets(found, sets(gold, retention=case.stated_retention))


def timing(case: Case) -> float:
    """Median wall time of one import, in seconds."""
    from vowkeep.policy.importer import import_file

    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        import_file(case.text, today=_day())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _cells(scores, dimensions) -> list[str]:
    return [f"{scores[d].cell('recall')} / {scores[d].cell('precision')}" for d in dimensions]


def main() -> None:
    from vowkeep.policy import load_file
    from vowkeep.policy.importer.measure import DIMENSIONS, compare

    measure(CASES[0])  # warm-up: loads fideslang and compiles the lexicon
    header = ["text", *[f"{d} R / P" for d in DIMENSIONS], "statements", "left over", "TODO", "time"]
    header.append("retention vs every hand-written period R / P")
    rows = []
    for case in CASES:
        result, scores = measure(case)
        every = compare(result.policy, load_file(case.declaration).policy)["retention"]
        counts = [str(len(result.statements)), str(len(result.unmatched)), str(len(result.todos))]
        rows.append([case.name, *_cells(scores, DIMENSIONS), *counts, f"{timing(case) * 1000:.0f} ms"])
        rows[-1].append(f"{every.cell('recall')} / {every.cell('precision')}")
        rows.append(["  baseline: phrases anywhere", *_cells(measure_baseline(case), DIMENSIONS), "", "", "", "", ""])
    print("policy import (TOOL-2): recall / precision per dimension against the hand-written declaration")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"time: median of {REPEAT} imports after a warm-up, validating the draft with `load_text` included")


if __name__ == "__main__":
    main()

"""Measuring a draft against a hand-written declaration of the same policy: recall and precision per dimension.

Each dimension reduces both declarations to a set and compares the sets:

- **categories** — the declared category keys, each custom key replaced by the fideslang key it `extends`. A
  hand-written key is *recalled* when some draft key covers it or is covered by it (`user.contact` and
  `user.contact.email` match either way, as fideslang keys nest); a draft key is *precise* when some hand-written
  key covers it or is covered by it. Unrelated keys (`user.device.device_id` against `user.device.ip_address`) never
  match.
- **purposes** — the purposes' fideslang data uses cut to their first two segments (`marketing.communications`,
  `essential.service`), compared exactly.
- **recipients** — the set of recipient kinds (processor, affiliate, partner, advertiser, authority, acquirer).
- **retention** — the retention periods the text states, compared by length (`P12M` = `P1Y`). On the draft side
  these are the periods the importer read (`ImportResult.stated_periods`), not the placeholders it filled in. On the
  hand-written side they are the periods of `gold_retention` when given: the seed declarations choose a period for
  every purpose where the seed states none (examples/policies/README.md: "No retention period in the seed"), and a
  chosen period is not something an importer can find in the text. Without `gold_retention`, every period of the
  hand-written declaration counts (purposes, holds and the cap).
- **minimum_age** — `{minimum_age}`, or the empty set when it is 0 (no age promised).

Recall is `matched gold / gold`, precision `matched draft / draft`; when a set is empty the score is 1.0 (nothing
to find, or nothing wrongly found) and the row says so with `n/a`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vowkeep.policy.duration import Duration
from vowkeep.policy.model import Policy
from vowkeep.policy.taxonomy import covers

DIMENSIONS = ("categories", "purposes", "recipients", "retention", "minimum_age")


@dataclass(frozen=True)
class Score:
    """Recall and precision of one dimension, with the sets behind them."""

    dimension: str
    gold: tuple[str, ...]
    draft: tuple[str, ...]
    recalled: tuple[str, ...]
    precise: tuple[str, ...]

    @property
    def recall(self) -> float:
        return len(self.recalled) / len(self.gold) if self.gold else 1.0

    @property
    def precision(self) -> float:
        return len(self.precise) / len(self.draft) if self.draft else 1.0

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(g for g in self.gold if g not in self.recalled)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(d for d in self.draft if d not in self.precise)

    def cell(self, which: str) -> str:
        """`0.86 (6/7)`, or `n/a` for an empty set."""
        if which == "recall":
            return f"{self.recall:.2f} ({len(self.recalled)}/{len(self.gold)})" if self.gold else "n/a (0/0)"
        return f"{self.precision:.2f} ({len(self.precise)}/{len(self.draft)})" if self.draft else "n/a (0/0)"


def fideslang_key(policy: Policy, key: str) -> str:
    """A declared category key at fideslang level: a custom key becomes the key it extends."""
    category = policy.category_by_key.get(key)
    return category.extends if category is not None and category.extends else key


def categories(policy: Policy) -> list[str]:
    return sorted({fideslang_key(policy, c.key) for c in policy.categories})


def purposes(policy: Policy) -> list[str]:
    return sorted({".".join(p.data_use.split(".")[:2]) for p in policy.purposes})


def recipients(policy: Policy) -> list[str]:
    return sorted({r.kind.value for r in policy.recipients})


def periods(policy: Policy) -> list[str]:
    found = [p.retention.period for p in policy.purposes] + [h.retention for h in policy.holds]
    if policy.limits.retention_cap is not None:
        found.append(policy.limits.retention_cap)
    return distinct_periods(d.text for d in found)


def minimum_age(policy: Policy) -> list[str]:
    return [str(policy.minors.minimum_age)] if policy.minors.minimum_age else []


def distinct_periods(texts: Iterable[str]) -> list[str]:
    out: dict[float, str] = {}
    for text in texts:
        out.setdefault(round(Duration.parse(text).nominal_days, 3), text)
    return [out[k] for k in sorted(out)]


def _same_period(a: str, b: str) -> bool:
    return round(Duration.parse(a).nominal_days, 3) == round(Duration.parse(b).nominal_days, 3)


def _score(dimension: str, gold: list[str], draft: list[str], match) -> Score:
    recalled = tuple(g for g in gold if any(match(d, g) for d in draft))
    precise = tuple(d for d in draft if any(match(d, g) for g in gold))
    return Score(dimension, tuple(gold), tuple(draft), recalled, precise)


def sets(policy: Policy, *, retention: Iterable[str] | None = None) -> dict[str, list[str]]:
    """A declaration reduced to the set compared in each dimension; `retention` overrides its periods."""
    return {
        "categories": categories(policy),
        "purposes": purposes(policy),
        "recipients": recipients(policy),
        "retention": distinct_periods(retention) if retention is not None else periods(policy),
        "minimum_age": minimum_age(policy),
    }


_MATCH = {
    "categories": lambda d, g: covers(d, g) or covers(g, d),
    "purposes": str.__eq__,
    "recipients": str.__eq__,
    "retention": _same_period,
    "minimum_age": str.__eq__,
}


def compare_sets(draft: dict[str, list[str]], gold: dict[str, list[str]]) -> dict[str, Score]:
    """Score reduced sets (from `sets`, or from any other extractor) dimension by dimension."""
    return {d: _score(d, list(gold[d]), list(draft[d]), _MATCH[d]) for d in DIMENSIONS}


def compare(
    draft: Policy,
    gold: Policy,
    *,
    draft_retention: Iterable[str] | None = None,
    gold_retention: Iterable[str] | None = None,
) -> dict[str, Score]:
    """Score every dimension of `draft` against `gold` (see the module docstring for each rule)."""
    return compare_sets(sets(draft, retention=draft_retention), sets(gold, retention=gold_retention))


def compare_import(result, gold: Policy, *, gold_retention: Iterable[str] | None = None) -> dict[str, Score]:
    """Score an `ImportResult` against a hand-written declaration, retention by the periods the text states."""
    return compare(result.policy, gold, draft_retention=result.stated_periods, gold_retention=gold_retention)

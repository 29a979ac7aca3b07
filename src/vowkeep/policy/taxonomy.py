"""The fideslang default taxonomy: which data-category and data-use keys exist.

The lists come from the `fideslang` package itself (never copied here), loaded once on first use
because importing fideslang costs about 0.2 s, which a CLI that only prints help should not pay.
"""

from __future__ import annotations

import difflib
from functools import cache

# Categories under these roots are financial data: USE-2 lets them serve only completing a transaction.
FINANCIAL_ROOTS = ("user.financial", "user.payment")
# The fideslang data use that stands for "completing a transaction".
TRANSACTION_DATA_USE = "essential.service.payment_processing"


@cache
def _taxonomy() -> tuple[dict[str, str], dict[str, str]]:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    categories = {c.fides_key: c.name or c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    uses = {u.fides_key: u.name or u.fides_key for u in DEFAULT_TAXONOMY.data_use}
    return categories, uses


def data_categories() -> dict[str, str]:
    """Every fideslang data-category key with its display name."""
    return _taxonomy()[0]


def data_uses() -> dict[str, str]:
    """Every fideslang data-use key with its display name."""
    return _taxonomy()[1]


def covers(declared: str, category: str) -> bool:
    """Whether a declared category includes `category` (itself or a descendant, fideslang style)."""
    return category == declared or category.startswith(declared + ".")


def is_financial(category: str) -> bool:
    """Whether the category is financial data (USE-2)."""
    return any(covers(root, category) for root in FINANCIAL_ROOTS)


def nearest(word: str, choices) -> str | None:
    """The closest valid key to a misspelt one, for `did you mean` hints."""
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, choices) -> str:
    """` — did you mean 'x'?` or nothing, to append to an error message."""
    match = nearest(word, choices)
    return f" — did you mean '{match}'?" if match else ""

"""Checks that every key a declaration names exists: taxonomy keys and references between sections.

These are errors of `policy check` (the declaration cannot be loaded), unlike `lint`, which reports
contradictions in a declaration whose every name is valid.
"""

from __future__ import annotations

from collections.abc import Iterable

from vowkeep.policy.errors import Path, Problem
from vowkeep.policy.model import Policy
from vowkeep.policy.taxonomy import data_categories, data_uses, did_you_mean


def check_references(policy: Policy) -> list[Problem]:
    """Every unknown or duplicated key in the declaration, each with its path."""
    problems: list[Problem] = []
    fides = data_categories()
    custom = _custom_categories(policy, fides, problems)
    known_categories = set(fides) | custom

    def category(path: Path, key: str) -> None:
        if key not in known_categories:
            problems.append(
                Problem(path, f"unknown category '{key}'{did_you_mean(key, known_categories)}", rule="taxonomy")
            )

    def ref(path: Path, key: str, kind: str, choices: Iterable[str]) -> None:
        choices = list(choices)
        if key not in choices:
            problems.append(Problem(path, f"unknown {kind} '{key}'{did_you_mean(key, choices)}", rule="reference"))

    purposes = [p.key for p in policy.purposes]
    recipients = [r.key for r in policy.recipients]
    cookie_categories = [c.key for c in policy.cookie_categories]

    for name, items in (
        ("categories", [c.key for c in policy.categories]),
        ("collection_points", [c.key for c in policy.collection_points]),
        ("purposes", purposes),
        ("roles", [r.key for r in policy.roles]),
        ("recipients", recipients),
        ("reports", [r.key for r in policy.reports]),
        ("cookie_categories", cookie_categories),
        ("cookies", [c.name for c in policy.cookies]),
        ("holds", [h.key for h in policy.holds]),
    ):
        seen: set[str] = set()
        for i, key in enumerate(items):
            if key in seen:
                problems.append(Problem((name, i), f"'{key}' is declared twice", rule="duplicate"))
            seen.add(key)

    for i, point in enumerate(policy.collection_points):
        for j, purpose in enumerate(point.purposes):
            ref(("collection_points", i, "purposes", j), purpose, "purpose", purposes)
        names = [f.name for f in point.fields]
        seen_fields: set[str] = set()
        for j, field in enumerate(point.fields):
            category(("collection_points", i, "fields", j, "category"), field.category)
            if field.name in seen_fields:
                problems.append(
                    Problem(
                        ("collection_points", i, "fields", j),
                        f"field '{field.name}' is declared twice",
                        rule="duplicate",
                    )
                )
            seen_fields.add(field.name)
        for j, name in enumerate(point.identify_by):
            ref(("collection_points", i, "identify_by", j), name, "field", names)

    uses = data_uses()
    for i, purpose in enumerate(policy.purposes):
        if purpose.data_use not in uses:
            problems.append(
                Problem(
                    ("purposes", i, "data_use"),
                    f"unknown data use '{purpose.data_use}'{did_you_mean(purpose.data_use, uses)}",
                    rule="taxonomy",
                )
            )
        for j, key in enumerate(purpose.categories):
            category(("purposes", i, "categories", j), key)

    roles_purposes = [(i, r) for i, r in enumerate(policy.roles)]
    for i, role in roles_purposes:
        for j, purpose in enumerate(role.purposes):
            ref(("roles", i, "purposes", j), purpose, "purpose", purposes)

    for i, recipient in enumerate(policy.recipients):
        for j, key in enumerate(recipient.categories):
            category(("recipients", i, "categories", j), key)
        for j, purpose in enumerate(recipient.purposes):
            ref(("recipients", i, "purposes", j), purpose, "purpose", purposes)

    for i, report in enumerate(policy.reports):
        if report.key == "traffic":
            # `GET /api/v1/reports/traffic` is the operators' usage statistics; a report of that name is unreachable.
            problems.append(
                Problem(("reports", i, "key"), "'traffic' is reserved for the usage statistics report", rule="reserved")
            )
        ref(("reports", i, "recipient"), report.recipient, "recipient", recipients)
        ref(("reports", i, "purpose"), report.purpose, "purpose", purposes)

    for i, transfer in enumerate(policy.storage.transfers):
        for j, recipient in enumerate(transfer.recipients):
            ref(("storage", "transfers", i, "recipients", j), recipient, "recipient", recipients)

    for i, cookie_category in enumerate(policy.cookie_categories):
        for j, purpose in enumerate(cookie_category.purposes):
            ref(("cookie_categories", i, "purposes", j), purpose, "purpose", purposes)
    for i, cookie in enumerate(policy.cookies):
        ref(("cookies", i, "category"), cookie.category, "cookie category", cookie_categories)
        if cookie.purpose is not None:
            ref(("cookies", i, "purpose"), cookie.purpose, "purpose", purposes)

    for i, hold in enumerate(policy.holds):
        ref(("holds", i, "purpose"), hold.purpose, "purpose", purposes)
        for j, key in enumerate(hold.categories):
            category(("holds", i, "categories", j), key)

    for j, key in enumerate(policy.limits.never_store):
        category(("limits", "never_store", j), key)

    if policy.usage_data is not None:
        if cookie_categories:
            ref(
                ("usage_data", "cookie_category"),
                policy.usage_data.cookie_category,
                "cookie category",
                cookie_categories,
            )
        for j, purpose in enumerate(policy.usage_data.purposes):
            ref(("usage_data", "purposes", j), purpose, "purpose", purposes)

    return problems


def _custom_categories(policy: Policy, fides: dict[str, str], problems: list[Problem]) -> set[str]:
    """Custom categories declared with `extends`, checked to really extend a fideslang key."""
    custom: set[str] = set()
    for i, cat in enumerate(policy.categories):
        path: Path = ("categories", i)
        if cat.extends is None:
            if cat.key not in fides:
                hint = did_you_mean(cat.key, fides)
                problems.append(
                    Problem(
                        (*path, "key"),
                        f"unknown category '{cat.key}'{hint or ''}; a custom category needs "
                        "`extends:` naming the fideslang category it refines",
                        rule="taxonomy",
                    )
                )
            continue
        if cat.extends not in fides:
            problems.append(
                Problem(
                    (*path, "extends"),
                    f"'{cat.extends}' is not a fideslang category{did_you_mean(cat.extends, fides)}",
                    rule="taxonomy",
                )
            )
        elif cat.key in fides:
            problems.append(
                Problem(
                    (*path, "key"), f"'{cat.key}' is already a fideslang category; remove `extends`", rule="taxonomy"
                )
            )
        elif not cat.key.startswith(cat.extends + "."):
            problems.append(
                Problem(
                    (*path, "key"),
                    f"custom category '{cat.key}' must be named under the key it extends ('{cat.extends}.…')",
                    rule="taxonomy",
                )
            )
        else:
            custom.add(cat.key)
    return custom

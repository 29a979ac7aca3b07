"""Cookie categories as the banner offers them (CK-1), and Global Privacy Control (CK-3).

A category's choice is kept in the ledger per purpose of the category: accepting "analytics" records a given
consent for each of its purposes, so the gate sees a banner choice like any other consent. Essential categories are
always on and never asked. `Sec-GPC: 1` — exactly that value — is an opt-out of advertising, sale and sharing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vowkeep.policy.model import Policy

GPC_HEADER = "sec-gpc"
# The banner's own cookies; it sets each only where the declaration lists it (CK-4 keeps the page in sync).
CONSENT_COOKIE = "vk_consent"
VISITOR_COOKIE = "vk_visitor"


@dataclass(frozen=True)
class BannerCategory:
    key: str
    label: str
    description: str | None
    essential: bool
    advertising: bool
    purposes: tuple[str, ...]
    cookies: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "essential": self.essential,
            "advertising": self.advertising,
            "purposes": list(self.purposes),
            "cookies": list(self.cookies),
        }


class UnknownCategory(ValueError):
    """A choice named a cookie category the declaration does not have."""


def banner_categories(policy: Policy) -> list[BannerCategory]:
    """Every declared cookie category, essential ones first, with the cookies that belong to it."""
    cookies: dict[str, list[str]] = {}
    for cookie in policy.cookies:
        cookies.setdefault(cookie.category, []).append(cookie.name)
    found = [
        BannerCategory(
            key=c.key,
            label=c.label,
            description=c.description,
            essential=c.essential,
            advertising=c.advertising,
            purposes=tuple(c.purposes),
            cookies=tuple(cookies.get(c.key, ())),
        )
        for c in policy.cookie_categories
    ]
    return sorted(found, key=lambda c: not c.essential)


def optional_categories(policy: Policy) -> list[BannerCategory]:
    """The categories a visitor is asked about: every one but the essential ones."""
    return [c for c in banner_categories(policy) if not c.essential]


def check_categories(policy: Policy, keys) -> set[str]:
    """The given category keys, refused if any is not declared."""
    declared = {c.key for c in policy.cookie_categories}
    unknown = sorted(set(keys) - declared)
    if unknown:
        raise UnknownCategory(f"not a declared cookie category: {', '.join(unknown)}")
    return set(keys)


def purpose_choices(policy: Policy, accepted: set[str], *, gpc: bool = False) -> dict[str, tuple[bool, bool]]:
    """For each purpose of the optional categories: (given, refused because of GPC).

    A purpose shared by several categories counts as given only if every one of them was accepted; with GPC an
    advertising category counts as declined whatever was clicked.
    """
    result: dict[str, tuple[bool, bool]] = {}
    for category in optional_categories(policy):
        blocked = gpc and category.advertising
        given = category.key in accepted and not blocked
        for purpose in category.purposes:
            before = result.get(purpose, (True, False))
            result[purpose] = (before[0] and given, before[1] or blocked)
    return result


def is_gpc(value: str | None) -> bool:
    """Whether a `Sec-GPC` header value signals an opt-out: the value `1`, exactly (CK-3)."""
    return value == "1"


def gpc_purposes(policy: Policy) -> list[str]:
    """Consent-based purposes a GPC signal opts out of: advertising, sale and sharing.

    Those of advertising cookie categories, those whose data use is advertising, and those whose data goes to a
    recipient that pays for it or uses it for its own promotions.
    """
    keys: set[str] = set()
    for category in policy.cookie_categories:
        if category.advertising:
            keys.update(category.purposes)
    for purpose in policy.purposes:
        if purpose.data_use.startswith("marketing.advertising") or purpose.data_use.startswith("third_party_sharing"):
            keys.add(purpose.key)
    for recipient in policy.recipients:
        if recipient.pays_for_data or recipient.own_promotions:
            keys.update(recipient.purposes)
    declared = policy.purpose_by_key
    return sorted(k for k in keys if k in declared and declared[k].consent_based)


def gpc_document(last_update: dt.date) -> dict:
    """`/.well-known/gpc.json`: this site honours Global Privacy Control (GPC specification, section 3.5)."""
    return {"gpc": True, "lastUpdate": last_update.isoformat()}


def cookie_spec(
    policy: Policy, name: str, *, essential: bool | None = None, category: str | None = None
) -> dict | None:
    """The declared cookie `name` as the banner sets it ({name, maxAge seconds or None for a session cookie}), or
    None when the declaration does not list it (in the expected category): then the banner does not set it."""
    for cookie in policy.cookies:
        if cookie.name != name:
            continue
        declared = policy.cookie_category_by_key.get(cookie.category)
        if declared is None or (essential is not None and declared.essential != essential):
            return None
        if category is not None and cookie.category != category:
            return None
        if cookie.lifetime == "session":
            return {"name": name, "maxAge": None}
        from vowkeep.policy.duration import Duration

        return {"name": name, "maxAge": int(Duration.parse(cookie.lifetime).nominal_days * 86400)}
    return None


def banner_config(policy: Policy, *, version: int, reconsent_since: dict[str, int], change=None) -> dict:
    """What the banner script needs to know, built from the declaration in force."""
    usage = policy.usage_data
    usage_category = usage.cookie_category if usage and usage.cookie_category in policy.cookie_category_by_key else None
    categories = banner_categories(policy)
    return {
        "version": version,
        "organization": policy.organization.name,
        "categories": [{k: v for k, v in c.as_dict().items() if k != "purposes"} for c in categories],
        "reconsent": {c.key: max(reconsent_since.get(p, 0) for p in c.purposes) for c in categories if c.purposes},
        "usage": {"category": usage_category, "signals": [s.value for s in usage.collect]} if usage_category else None,
        "cookies": {
            "consent": cookie_spec(policy, CONSENT_COOKIE, essential=True),
            "visitor": cookie_spec(policy, VISITOR_COOKIE, category=usage_category) if usage_category else None,
        },
        "cookiesUrl": "privacy/cookies",
        "policyChange": (
            {"version": change.version, "message": change.message, "url": f"privacy/versions/{change.version}"}
            if change is not None
            else None
        ),
    }

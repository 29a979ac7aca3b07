"""The banner's choices in the ledger (CK-1, CK-2, CK-3): per visitor, and per subject once the visitor is known.

A visitor is the random id kept in the essential consent cookie; it only ever identifies a set of cookie choices.
Each choice becomes ledger records for the purposes of the categories chosen on; a record is appended only when
something changed (the choice, or the policy version it was made under), so re-saving the same choice adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, select, update

from vowkeep import clock
from vowkeep.consent import ledger
from vowkeep.consent.cookies import check_categories, gpc_purposes, optional_categories, purpose_choices
from vowkeep.consent.ledger import Choice, Method
from vowkeep.policy.model import Policy
from vowkeep.store.tables import visitor_links

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class InvalidVisitor(ValueError):
    """A visitor id that the banner could not have made."""


def check_visitor_id(visitor_id: object) -> str:
    if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
        raise InvalidVisitor("the visitor id must be 16 to 64 letters, digits, '-' or '_'")
    return visitor_id


@dataclass
class BannerResult:
    visitor_id: str
    accepted: list[str]
    declined: list[str]
    gpc: bool
    subject_id: str | None
    records: list[int] = field(default_factory=list)


def linked_subject(conn: Connection, *, visitor_id: str) -> str | None:
    return conn.execute(select(visitor_links.c.subject_id).where(visitor_links.c.visitor_id == visitor_id)).scalar()


def _same(record: ledger.ConsentRecord | None, choice: Choice, version: int) -> bool:
    if record is None or record.policy_version != version:
        return False
    return (record.choice == Choice.given) == (choice == Choice.given)


def record_banner_choice(
    conn: Connection,
    *,
    policy: Policy,
    policy_version: int,
    visitor_id: str,
    accepted: Iterable[str],
    gpc: bool = False,
    evidence: dict | None = None,
) -> BannerResult:
    """Record what a visitor chose on the banner; with GPC, advertising is refused whatever was clicked."""
    check_visitor_id(visitor_id)
    chosen = check_categories(policy, accepted)
    optional = optional_categories(policy)
    blocked = {c.key for c in optional if gpc and c.advertising}
    result = BannerResult(
        visitor_id=visitor_id,
        accepted=sorted({c.key for c in optional if c.key in chosen} - blocked),
        declined=sorted({c.key for c in optional if c.key not in chosen} | blocked),
        gpc=gpc,
        subject_id=linked_subject(conn, visitor_id=visitor_id),
    )
    base = {**(evidence or {}), "accepted": result.accepted, "declined": result.declined, "gpc": gpc}
    mine = ledger.latest_by_purpose(conn, visitor_id=visitor_id)
    for purpose, (given, by_gpc) in sorted(purpose_choices(policy, chosen, gpc=gpc).items()):
        before = mine.get(purpose)
        if given:
            choice = Choice.given
        else:
            choice = Choice.withdrawn if before is not None and before.choice == Choice.given else Choice.refused
        if _same(before, choice, policy_version):
            continue
        result.records.append(
            ledger.record(
                conn,
                purpose=purpose,
                choice=choice,
                method=Method.gpc if by_gpc else Method.banner,
                policy_version=policy_version,
                subject_id=result.subject_id,
                visitor_id=visitor_id,
                evidence=base,
            )
        )
    if gpc and result.subject_id is not None:
        result.records += record_gpc_for_subject(
            conn, policy=policy, policy_version=policy_version, subject_id=result.subject_id, evidence=base
        )
    return result


def record_gpc_for_subject(
    conn: Connection, *, policy: Policy, policy_version: int, subject_id: str, evidence: dict | None = None
) -> list[int]:
    """A known subject's browser sent GPC: opt them out of advertising, sale and sharing (CK-3)."""
    added = []
    for purpose in gpc_purposes(policy):
        state = ledger.current(conn, subject_id=subject_id, purpose=purpose)
        if state is not None and state.choice != Choice.given:
            continue
        added.append(
            ledger.record(
                conn,
                purpose=purpose,
                choice=Choice.withdrawn if state is not None else Choice.refused,
                method=Method.gpc,
                policy_version=policy_version,
                subject_id=subject_id,
                evidence={**(evidence or {}), "signal": "Sec-GPC: 1"},
            )
        )
    return added


def link_visitor(
    conn: Connection,
    *,
    visitor_id: str,
    subject_id: str,
    policy: Policy | None = None,
    policy_version: int | None = None,
) -> list[int]:
    """The visitor became a known subject: link them and copy the visitor's current choices to the subject.

    With the declaration in force (`policy`, `policy_version`), a browser that sent GPC opts the subject out of
    advertising, sale and sharing too (CK-3).
    """
    check_visitor_id(visitor_id)
    now = clock.now()
    existing = linked_subject(conn, visitor_id=visitor_id)
    if existing is None:
        conn.execute(insert(visitor_links).values(visitor_id=visitor_id, subject_id=subject_id, linked_at=now))
    elif existing != subject_id:
        # A shared browser: the latest person to sign in on it is the one its choices now belong to.
        conn.execute(
            update(visitor_links)
            .where(visitor_links.c.visitor_id == visitor_id)
            .values(subject_id=subject_id, linked_at=now)
        )
    copied = ledger.adopt_visitor(conn, visitor_id=visitor_id, subject_id=subject_id)
    latest = ledger.history(conn, visitor_id=visitor_id)
    if latest and latest[-1].evidence.get("gpc") is True and policy is not None:
        # The browser sent Global Privacy Control: the person it now belongs to is opted out of sale and sharing.
        copied += record_gpc_for_subject(
            conn, policy=policy, policy_version=policy_version, subject_id=subject_id, evidence={"visitor": visitor_id}
        )
    return copied


def category_accepted_fast(
    fast, *, policy: Policy, visitor_id: str, category: str, reconsent_since: dict[str, int]
) -> bool:
    """Whether the visitor's latest choices accept every purpose of a cookie category (CK-2), as prepared SQL.

    A purpose changed materially after the visitor's choice (NTC-2) counts as not accepted until they choose again.
    """
    declared = policy.cookie_category_by_key.get(category)
    if declared is None:
        return False
    if declared.essential:
        return True
    if not declared.purposes:
        return False
    for purpose in declared.purposes:
        found = ledger.visitor_choice_fast(fast, visitor_id=visitor_id, purpose=purpose)
        if found is None or found[0] != Choice.given:
            return False
        if found[1] < reconsent_since.get(purpose, 0):
            return False
    return True

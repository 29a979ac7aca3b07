"""Data keys match subjects (SEC-1, RET-4): an erased subject has no data key (crypto-shredding) unless held items
still need it, every live subject has one, and no key outlives a rolled-back collection for long."""

from __future__ import annotations

from sqlalchemy import func, select

from vowkeep.retention.sweeper import ORPHAN_KEY_GRACE
from vowkeep.store.tables import items, subjects
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural


def data_keys(ctx: Context) -> CheckResult:
    keystore = ctx.instance.keystore
    keyed = set(keystore.subject_ids_with_keys())
    with ctx.engine.connect() as conn:
        states = dict(conn.execute(select(subjects.c.id, subjects.c.state)).all())
        with_items = dict(conn.execute(select(items.c.subject_id, func.count()).group_by(items.c.subject_id)).all())
        conn.rollback()
    findings = []
    for subject_id, state in sorted(states.items()):
        refs = {"subject": subject_id, "state": state}
        has_key = subject_id in keyed
        if state == "erased":
            if has_key and not with_items.get(subject_id):
                findings.append(
                    Finding(f"subject {subject_id} is erased and nothing of it is held, but its data key exists", refs)
                )
            elif not has_key and with_items.get(subject_id):
                findings.append(
                    Finding(
                        f"subject {subject_id} is erased with {plural(with_items[subject_id], 'held item')} and no "
                        "data key to read them",
                        refs,
                    )
                )
        elif not has_key:
            findings.append(
                Finding(f"subject {subject_id} is {state} and has no data key: its data is unreadable", refs)
            )
    orphans = sorted(keyed - states.keys())
    if orphans:
        ages = keystore.key_ages(orphans)
        limit = ctx.now - ORPHAN_KEY_GRACE - ctx.grace
        for subject_id in orphans:
            if subject_id in ages and ages[subject_id] < limit:
                findings.append(
                    Finding(
                        f"data key {subject_id} belongs to no subject (a rolled-back collection) and was not removed",
                        {"subject": subject_id},
                    )
                )
    live = sum(1 for s in states.values() if s != "erased")
    return outcome(
        "data-keys",
        "Data keys match subjects",
        ("SEC-1", "RET-4"),
        findings,
        ok=f"{plural(live, 'live subject')} with a data key, {plural(len(states) - live, 'erased subject')} "
        f"without one (or with held items), {plural(len(keyed), 'key')} in all",
        bad="{n} subject(s) whose data key is missing or left behind",
    )

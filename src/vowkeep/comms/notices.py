"""Policy-change notices (NTC-2): a version with material changes is mailed to every subject with an address, and
a banner shows on the pages for the declared notice period.

Publishing queues one `policy.notify` job in the publishing transaction; the job walks the subjects in batches,
queues a service message to each (it informs people of their rights, so no marketing opt-out stops it) and records
the subject in `policy_notices`, so a job that runs again never mails anyone twice. Consent-based purposes the
change concerns need a new consent before the gate lets them run (`PolicyState.reconsent_since`).
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, insert, or_, select

from vowkeep import clock
from vowkeep.comms import outbox
from vowkeep.policy import versions
from vowkeep.policy.model import Policy
from vowkeep.store import jobs
from vowkeep.store.tables import items, policy_notices, subjects
from vowkeep.vault.decisions import SUBJECT_RIGHTS

JOB = "policy.notify"
BATCH = 200
DEFAULT_BANNER_DAYS = 30
EMAIL = "user.contact.email"


@dataclass(frozen=True)
class PolicyChange:
    version: int
    published_at: dt.datetime
    effective_date: dt.date
    changes: list[str]
    reconsent: list[str]
    banner_until: dt.datetime

    @property
    def message(self) -> str:
        return (
            f"We changed our privacy policy on {self.published_at:%d %B %Y} (version {self.version}), "
            f"effective {self.effective_date:%d %B %Y}."
        )


def _banner_period(policy: Policy) -> dt.timedelta:
    period = policy.changes.notice_period
    return dt.timedelta(days=period.nominal_days if period is not None else DEFAULT_BANNER_DAYS)


def latest_material_change(conn: Connection, policy: Policy) -> PolicyChange | None:
    """The newest published version with material changes, if any."""
    for version in versions.list_all(conn):
        if version.material:
            return PolicyChange(
                version=version.version,
                published_at=version.published_at,
                effective_date=version.effective_date,
                changes=[c["summary"] for c in version.changes if c.get("material")],
                reconsent=list(version.reconsent),
                banner_until=version.published_at + _banner_period(policy),
            )
    return None


_banner_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def banner_change(instance) -> PolicyChange | None:
    """The change the pages' banner announces now, or None (cached per published version)."""
    vault = instance.vault
    policy = vault.policy
    if "banner" not in policy.changes.notify:
        return None
    cached = _banner_cache.get(vault)
    if cached is None or cached[0] != vault.policy_version:
        with instance.engine.connect() as conn:
            change = latest_material_change(conn, policy)
        cached = (vault.policy_version, change)
        _banner_cache[vault] = cached
    change = cached[1]
    if change is None or clock.now() >= change.banner_until:
        return None
    return change


def on_publish(conn: Connection, *, policy: Policy, version) -> bool:
    """In the publishing transaction: queue the notices of a material change if the declaration mails them."""
    if not version.material or "email" not in policy.changes.notify:
        return False
    jobs.enqueue(
        conn, kind=JOB, payload={"version": version.version, "after": ""}, unique_key=f"{JOB}:{version.version}:"
    )
    return True


def send_policy_notices(instance, job) -> None:
    """Worker handler for `policy.notify`: queue the notice to the next batch of subjects with an address."""
    vault = instance.vault
    number, after = job.payload["version"], job.payload.get("after", "")
    with vault.transaction() as conn:
        version = versions.get(conn, version=number)
        if version is None:
            jobs.complete(conn, job=job)
            return
        policy = vault.policy
        has_email = exists().where(
            items.c.subject_id == subjects.c.id,
            or_(items.c.category == EMAIL, items.c.category.like(EMAIL + ".%")),
        )
        notified = exists().where(
            and_(policy_notices.c.version == number, policy_notices.c.subject_id == subjects.c.id)
        )
        batch = list(
            conn.execute(
                select(subjects.c.id)
                .where(subjects.c.id > after, subjects.c.state != "erased", has_email, ~notified)
                .order_by(subjects.c.id)
                .limit(BATCH)
            ).scalars()
        )
        context = _context(instance, policy, version)
        now = clock.now()
        for subject_id in batch:
            outbox.queue(
                conn,
                vault=vault,
                template="policy_change",
                kind="service",
                context=context,
                subject_id=subject_id,
                purpose=SUBJECT_RIGHTS,
            )
            conn.execute(insert(policy_notices).values(version=number, subject_id=subject_id, queued_at=now))
        if len(batch) == BATCH:
            jobs.enqueue(
                conn,
                kind=JOB,
                payload={"version": number, "after": batch[-1]},
                unique_key=f"{JOB}:{number}:{batch[-1]}",
            )
        jobs.complete(conn, job=job)


def _context(instance, policy: Policy, version) -> dict:
    base = instance.settings.base_url
    purposes = policy.purpose_by_key
    return {
        "organization": policy.organization.name,
        "version": version.version,
        "published": f"{version.published_at:%d %B %Y}",
        "effective": f"{version.effective_date:%d %B %Y}",
        "changes": [c["summary"] for c in version.changes if c.get("material")],
        "reconsent": [purposes[k].label if k in purposes else k for k in version.reconsent],
        "url": f"{base}/privacy/versions/{version.version}",
        "center": f"{base}/center",
    }

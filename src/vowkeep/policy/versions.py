"""Published versions of the declaration (NTC-1): each one kept whole, with its diff against the one before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, insert, select

from vowkeep import clock
from vowkeep.policy.errors import PolicyError, Problem
from vowkeep.policy.load import LoadedPolicy, load_text
from vowkeep.policy.model import Policy
from vowkeep.store.tables import policy_versions


@dataclass
class PolicyVersion:
    version: int
    published_at: datetime
    effective_date: date
    digest: str
    text: str
    changes: list[dict]
    material: bool
    reconsent: list[str]
    published_by: str

    @property
    def policy(self) -> Policy:
        return load_text(self.text, f"version {self.version}").policy


class LintErrors(PolicyError):
    """Publishing was refused: the declaration has lint errors."""


def latest_number(conn: Connection) -> int | None:
    return conn.execute(select(func.max(policy_versions.c.version))).scalar()


def get(conn: Connection, *, version: int) -> PolicyVersion | None:
    row = conn.execute(select(policy_versions).where(policy_versions.c.version == version)).first()
    return PolicyVersion(**row._mapping) if row else None


def get_current(conn: Connection) -> PolicyVersion | None:
    number = latest_number(conn)
    return get(conn, version=number) if number is not None else None


def list_all(conn: Connection) -> list[PolicyVersion]:
    rows = conn.execute(select(policy_versions).order_by(policy_versions.c.version.desc())).all()
    return [PolicyVersion(**r._mapping) for r in rows]


def reconsent_since(conn: Connection) -> dict[str, int]:
    """For each consent-based purpose, the latest version that changed it materially."""
    since: dict[str, int] = {}
    for version, purposes in conn.execute(
        select(policy_versions.c.version, policy_versions.c.reconsent).order_by(policy_versions.c.version)
    ):
        for purpose in purposes or []:
            since[purpose] = version
    return since


def publish(conn: Connection, *, loaded: LoadedPolicy, published_by: str) -> tuple[PolicyVersion, object | None]:
    """Add a version (refused if lint finds errors); returns it and its diff against the previous version."""
    from vowkeep.policy.diff import diff
    from vowkeep.policy.lint import lint

    errors = [p for p in lint(loaded.policy) if p.severity == "error"]
    if errors:
        raise LintErrors(errors, loaded.source)
    current = get_current(conn)
    if current is not None and current.digest == loaded.digest:
        raise PolicyError([Problem((), f"is identical to the published version {current.version}")], loaded.source)
    changes = diff(current.policy, loaded.policy) if current is not None else None
    number = (current.version + 1) if current is not None else 1
    version = PolicyVersion(
        version=number,
        published_at=clock.now(),
        effective_date=loaded.policy.effective_date,
        digest=loaded.digest,
        text=loaded.text,
        changes=changes.as_dict()["changes"] if changes is not None else [],
        material=bool(changes and changes.material),
        reconsent=sorted(changes.purposes_needing_reconsent()) if changes is not None else [],
        published_by=published_by,
    )
    conn.execute(insert(policy_versions).values(**version.__dict__))
    return version, changes

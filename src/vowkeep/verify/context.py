"""What every check reads: the instance, the moment of the run, and the declaration in force at any moment."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from vowkeep.policy import versions
from vowkeep.policy.model import Policy

# Work the system does on a schedule (the hourly retention sweep, erasure jobs) is given this long before a late
# result counts as a violation: an item whose retention ran out ten minutes ago is not yet a broken promise.
GRACE = timedelta(hours=1, minutes=5)


@dataclass
class Context:
    instance: object
    now: datetime
    policy_file: Path | None = None
    grace: timedelta = GRACE
    _parsed: dict[int, Policy] = field(default_factory=dict, repr=False)

    @property
    def vault(self):
        return self.instance.vault

    @property
    def engine(self):
        return self.instance.engine

    @property
    def policy(self) -> Policy:
        return self.instance.vault.policy

    @cached_property
    def versions(self) -> list[versions.PolicyVersion]:
        """Every published version, oldest first."""
        with self.engine.connect() as conn:
            found = list(reversed(versions.list_all(conn)))
            conn.rollback()
        return found

    def version_at(self, moment: datetime) -> versions.PolicyVersion:
        """The version in force at `moment` (the first one for moments before any was published)."""
        times = [v.published_at for v in self.versions]
        index = max(bisect.bisect_right(times, moment) - 1, 0)
        return self.versions[index]

    def policy_at(self, moment: datetime) -> Policy:
        version = self.version_at(moment)
        if version.version not in self._parsed:
            self._parsed[version.version] = version.policy
        return self._parsed[version.version]

    def reconsent_since_at(self, moment: datetime) -> dict[str, int]:
        """For each purpose, the latest version published by `moment` that changed it materially (NTC-2)."""
        since: dict[str, int] = {}
        for version in self.versions:
            if version.published_at > moment and version is not self.versions[0]:
                break
            for purpose in version.reconsent or []:
                since[purpose] = version.version
        return since

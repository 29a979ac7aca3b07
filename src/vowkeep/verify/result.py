"""What a check returns: a name, the promises it proves, a status, and findings that never hold a value."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# A report lists this many findings per check; the count says how many there were in all.
MAX_FINDINGS = 200


class Status(StrEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "not_applicable"
    error = "error"


@dataclass(frozen=True)
class Finding:
    """One violation: a message without values, and references (subject, item, table, file, offset…)."""

    message: str
    refs: dict[str, str | int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"message": self.message, **({"refs": dict(self.refs)} if self.refs else {})}


@dataclass
class CheckResult:
    name: str
    title: str
    promises: tuple[str, ...]
    status: Status
    summary: str
    findings: list[Finding] = field(default_factory=list)
    total_findings: int = 0

    @property
    def failed(self) -> bool:
        return self.status in (Status.failed, Status.error)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "promises": list(self.promises),
            "status": self.status.value,
            "passed": not self.failed,
            "summary": self.summary,
            "findings": [f.as_dict() for f in self.findings],
            "total_findings": self.total_findings,
        }


def outcome(
    name: str,
    title: str,
    promises: tuple[str, ...],
    findings: list[Finding],
    *,
    ok: str,
    bad: str,
) -> CheckResult:
    """A pass (`ok` as the summary) when there are no findings, else a failure (`bad`, formatted with the count)."""
    count = len(findings)
    if not count:
        return CheckResult(name, title, promises, Status.passed, ok)
    return CheckResult(
        name, title, promises, Status.failed, bad.format(n=count), findings[:MAX_FINDINGS], total_findings=count
    )


def not_applicable(name: str, title: str, promises: tuple[str, ...], why: str) -> CheckResult:
    return CheckResult(name, title, promises, Status.not_applicable, why)


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"

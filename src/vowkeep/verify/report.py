"""Run every conformance check and render the report as text, JSON or a self-contained HTML page (TOOL-3)."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from vowkeep import clock
from vowkeep.verify.audit_chain import audit_chain
from vowkeep.verify.consent import consent_at_read
from vowkeep.verify.context import Context
from vowkeep.verify.declaration import published_policy
from vowkeep.verify.keys import data_keys
from vowkeep.verify.minors import minimum_age
from vowkeep.verify.plaintext import no_plaintext
from vowkeep.verify.result import CheckResult, Status
from vowkeep.verify.retention import declared_categories, retention
from vowkeep.verify.rights import request_deadlines
from vowkeep.verify.sharing import disclosures_declared

Check = Callable[[Context], CheckResult]
CHECKS: tuple[Check, ...] = (
    audit_chain,
    retention,
    declared_categories,
    disclosures_declared,
    consent_at_read,
    request_deadlines,
    minimum_age,
    data_keys,
    no_plaintext,
    published_policy,
)
TITLES = {
    audit_chain: ("audit-chain", "Audit chain intact", ("SEC-3",)),
    retention: ("retention", "No item past its retention", ("RET-1", "RET-2", "RET-3")),
    declared_categories: ("declared-categories", "Only declared categories stored", ("COL-1", "USE-1")),
    disclosures_declared: ("disclosures", "Disclosures only to declared recipients", ("SHR-1", "SHR-2", "SHR-3")),
    consent_at_read: ("consent-at-read", "Consent at every consent-based read", ("USE-3", "SHR-6", "NTC-2")),
    request_deadlines: ("request-deadlines", "Requests answered within their deadline", ("RIG-9",)),
    minimum_age: ("minimum-age", "No subject below the minimum age", ("MIN-1", "MIN-2", "MIN-3")),
    data_keys: ("data-keys", "Data keys match subjects", ("SEC-1", "RET-4")),
    no_plaintext: ("no-plaintext", "Encrypted, and no plaintext anywhere", ("SEC-1",)),
    published_policy: ("published-policy", "Published version matches the declaration file", ("NTC-1",)),
}


@dataclass
class Report:
    organization: str
    version: int
    checked_at: datetime
    results: list[CheckResult]
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.results)

    def counts(self) -> dict[str, int]:
        found = {s.value: 0 for s in Status}
        for r in self.results:
            found[r.status.value] += 1
        return found

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "organization": self.organization,
            "policy_version": self.version,
            "checked_at": self.checked_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "checks": [r.as_dict() for r in self.results],
        }


def run(instance, *, policy_file: Path | None = None, checks: tuple[Check, ...] = CHECKS) -> Report:
    """Run `checks` against an open instance. A check that raises is reported as an error (a failure), by the
    exception's type only: an exception's text could carry a value."""
    instance.vault.settle_audit()  # the checks read the audit log: reads waiting in the journal belong in it
    ctx = Context(instance=instance, now=clock.now(), policy_file=policy_file)
    started = time.perf_counter()
    results = []
    timings = {}
    for check in checks:
        began = time.perf_counter()
        try:
            results.append(check(ctx))
        except Exception as exc:  # one broken check must not hide the others' results
            name, title, promises = TITLES.get(check, (check.__name__.replace("_", "-"), check.__name__, ()))
            results.append(
                CheckResult(name, title, promises, Status.error, f"the check could not run: {type(exc).__name__}")
            )
        timings[results[-1].name] = time.perf_counter() - began
    return Report(
        organization=instance.vault.policy.organization.name,
        version=instance.vault.policy_version,
        checked_at=ctx.now,
        results=results,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


LABELS = {Status.passed: "PASS", Status.failed: "FAIL", Status.not_applicable: "N/A ", Status.error: "ERR "}


def render_text(report: Report, *, max_findings: int = 20) -> str:
    lines = [
        f"vowkeep verify — {report.organization}, policy version {report.version}, "
        f"{report.checked_at.isoformat(timespec='seconds')}"
    ]
    width = max(len(r.name) for r in report.results)
    for r in report.results:
        lines.append(f"{LABELS[r.status]}  {r.name:<{width}}  [{' '.join(r.promises)}]  {r.summary}")
        for finding in r.findings[:max_findings]:
            lines.append(f"      - {finding.message}")
        hidden = r.total_findings - min(len(r.findings), max_findings)
        if hidden > 0:
            lines.append(f"      … and {hidden:,} more (--json or --html lists up to {len(r.findings)})")
    counts = report.counts()
    verdict = "conforms to its declaration" if report.ok else "DOES NOT conform to its declaration"
    lines.append(
        f"{len(report.results)} checks: {counts['pass']} passed, {counts['fail'] + counts['error']} failed, "
        f"{counts['not_applicable']} not applicable — the instance {verdict} ({report.seconds:.2f} s)"
    )
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;
padding:.4rem .5rem;border-bottom:1px solid #ddd}.pass{color:#0a6b2d}.fail,.error{color:#a4000f;font-weight:600}
.not_applicable{color:#555}ul{margin:.3rem 0 0 1rem;padding:0}code{font-size:.9em}
.verdict{padding:.6rem;border:2px solid}.verdict.ok{border-color:#0a6b2d}.verdict.bad{border-color:#a4000f}
"""


def render_html(report: Report) -> str:
    """A standalone page: inline CSS, no script, every text escaped."""
    e = html.escape
    rows = []
    for r in report.results:
        findings = ""
        if r.findings:
            items = "".join(f"<li>{e(f.message)}</li>" for f in r.findings)
            more = r.total_findings - len(r.findings)
            extra = f"<li>… and {more:,} more</li>" if more > 0 else ""
            findings = f"<ul>{items}{extra}</ul>"
        rows.append(
            f'<tr><td class="{e(r.status.value)}">{e(LABELS[r.status].strip())}</td><td><strong>{e(r.title)}</strong>'
            f"<br><code>{e(r.name)}</code></td><td>{e(' '.join(r.promises))}</td><td>{e(r.summary)}{findings}</td></tr>"
        )
    verdict = "conforms to its declaration" if report.ok else "does not conform to its declaration"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Conformance report — {e(report.organization)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>Conformance report — {e(report.organization)}</h1>"
        f"<p>Policy version {report.version}, checked {e(report.checked_at.isoformat(timespec='seconds'))}.</p>"
        f'<p class="verdict {"ok" if report.ok else "bad"}">The instance {e(verdict)}.</p>'
        "<table><thead><tr><th>Result</th><th>Check</th><th>Promises</th><th>Findings</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></main></body></html>\n"
    )

"""The operator console's sections, and who may open each one.

A section is open to an operator whose role holds one of the section's permissions — the same permissions the JSON
API checks for the same data (`web/api/*`), so the console never shows more than the API would give that operator.
The nav lists only the sections the role may open; any other section answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request

from vowkeep.vault import operators
from vowkeep.web import sessions
from vowkeep.web.deps import Caller, operator_caller
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.templating import environment, page


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    path: str
    # Any one of these permissions opens the section; None: every signed-in operator.
    permissions: frozenset[str] | None


SECTIONS = (
    Section("requests", "Requests", "/admin/requests", frozenset({"review_requests"})),
    # The declaration names `answer_inbox` for exactly this work; `review_requests` alone does not open it.
    Section("inbox", "Privacy inbox", "/admin/inbox", frozenset({"answer_inbox"})),
    # As `GET /api/v1/disclosures`: operators who approve disclosures or read the audit.
    Section("disclosures", "Disclosures", "/admin/disclosures", frozenset({"approve_disclosures", "read_audit"})),
    Section("holds", "Holds", "/admin/holds", frozenset({"manage_holds"})),
    Section("retention", "Retention", "/admin/retention", frozenset({"manage_holds", "read_audit"})),
    Section("audit", "Audit log", "/admin/audit", frozenset({"read_audit"})),
    # The auditor's view (`vowkeep verify`): it names subjects, items and records, so as the audit log.
    Section("conformance", "Conformance", "/admin/conformance", frozenset({"read_audit"})),
    Section("charts", "Consent and traffic", "/admin/charts", frozenset({"read_reports"})),
    # The versions are public on /privacy/versions; the console adds their diffs.
    Section("policy", "Policy versions", "/admin/policy", None),
)
SECTION_BY_KEY = {s.key: s for s in SECTIONS}


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in operator and what the gate and the permission checks see of them."""

    operator: operators.Operator
    caller: Caller

    def may(self, section: Section) -> bool:
        if section.permissions is None:
            return True
        held = self.caller.permissions
        return "*" in held or bool(section.permissions & held)

    def holds(self, permission: str) -> bool:
        return "*" in self.caller.permissions or permission in self.caller.permissions


def console_user(request: Request, operator: operators.Operator = Depends(sessions.current_operator)) -> ConsoleUser:
    return ConsoleUser(operator, operator_caller(request.app.state.instance, operator))


def section(key: str):
    """A dependency: the signed-in operator, if their role may open section `key`; 403 otherwise."""
    wanted = SECTION_BY_KEY[key]

    def dependency(user: ConsoleUser = Depends(console_user)) -> ConsoleUser:
        if not user.may(wanted):
            raise ApiError(403, "forbidden", f"your role may not open the {wanted.label.lower()} section", rule="role")
        return user

    return dependency


def console_nav(request: Request, operator: operators.Operator) -> list[Section]:
    """The sections this operator's role may open (for the console's nav)."""
    user = ConsoleUser(operator, operator_caller(request.app.state.instance, operator))
    return [s for s in SECTIONS if user.may(s)]


environment.globals["console_nav"] = console_nav


def when(value) -> str:
    """An ISO timestamp as operators read it: `2026-11-02 06:51 UTC`."""
    if not value:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:16].replace("T", " ") + " UTC" if len(text) >= 16 else text


environment.filters["when"] = when


def console_page(request: Request, user: ConsoleUser, template: str, *, current: str, status_code: int = 200, **ctx):
    """Render a console page with the operator and the section it belongs to (for the nav's aria-current)."""
    return page(request, template, status_code=status_code, operator=user.operator, current=current, **ctx)


def routers():
    """The console's section routers, for `web.app` (imported here so the app needs one line)."""
    from vowkeep.web.pages.console import (
        audit,
        charts,
        conformance,
        disclosures,
        holds,
        inbox,
        policy,
        requests,
        retention,
    )

    return [m.router for m in (requests, inbox, disclosures, holds, retention, audit, conformance, charts, policy)]

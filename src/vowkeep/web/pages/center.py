"""The privacy centre `/center` for the people whose data is held.

Sign in with a code mailed to the address (RIG-8; `vowkeep.rights.center`); then see everything held with its
purposes, sources, retention and disclosures (RIG-1, SHR-2), correct it (RIG-2), download a portable copy (RIG-7),
give or withdraw consent per purpose (USE-3, NTC-2), opt out of marketing or of all non-essential mail (RIG-5,
RIG-6), deactivate or delete the account (RIG-4, RIG-3), follow requests, and write to the privacy inbox (NTC-3).
Everything that a right covers is filed as a request through `vowkeep.rights`, so it is recorded and audited like
any other. The session is a random token in an HttpOnly, SameSite=Lax cookie limited to `/center`; only its hash
is stored, and it is apart from operators' sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from vowkeep.comms import inbox, preferences
from vowkeep.consent import ledger
from vowkeep.policy.model import FieldType
from vowkeep.policy.taxonomy import covers
from vowkeep.rights import center, report
from vowkeep.rights import requests as service
from vowkeep.rights.errors import RequestError
from vowkeep.rights.states import State
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import Decision, GateDenied
from vowkeep.web import csrf
from vowkeep.web.api.requests import client_of, limiter, report_response
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.requests import COOKIE as REQUEST_COOKIE
from vowkeep.web.pages.templating import page

router = APIRouter(prefix="/center", tags=["center"], include_in_schema=False)
COOKIE = "vk_center"
PATH = "/center"
CENTER = Actor.system("center")
_INPUT_TYPES = {FieldType.email: "email", FieldType.date: "date"}


# --- the session ----------------------------------------------------------------------------------------------------


def _session(request: Request) -> center.CenterSession | None:
    instance = request.app.state.instance
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    with instance.engine.connect() as conn:
        return center.session_or_none(conn, vault=instance.vault, token=token)


def _sign_in_page(request: Request, *, status_code: int = 200, error: str | None = None, email: str = ""):
    return page(request, "center/sign_in.html", status_code=status_code, error=error, email=email)


@router.get("")
def home(request: Request, done: str | None = None):
    session = _session(request)
    if session is None:
        return _sign_in_page(request)
    return _dashboard(request, session, done=_DONE.get(done or ""))


@router.post("/sign-in")
def sign_in(request: Request, email: str = Form("", max_length=320), csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    if not limiter(request, "center-sign-in", 20, 3600).hit(client_of(request)):
        return _sign_in_page(request, status_code=429, error="Too many sign-ins from here; wait an hour.")
    try:
        with instance.vault.transaction() as conn:
            signin_id = center.start(conn, instance=instance, email=email)
    except RequestError as exc:
        status = 429 if exc.status == 429 else 422
        message = exc.message if status == 429 else "Please enter a valid e-mail address."
        return _sign_in_page(request, status_code=status, error=message, email=email)
    # The same answer for every address: a code was mailed, whether or not we hold anything about it.
    return RedirectResponse(f"{PATH}/code/{signin_id}", status_code=303)


def _code_page(request: Request, signin_id: str, *, status_code: int = 200, error: str | None = None):
    return page(request, "center/code.html", status_code=status_code, signin_id=signin_id, error=error)


@router.get("/code/{signin_id}")
def code_form(signin_id: str, request: Request):
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        pending = center.pending_or_none(conn, signin_id=signin_id)
    if pending is None:
        return _sign_in_page(request, status_code=404, error="That sign-in is over. Ask for a new code.")
    return _code_page(request, signin_id)


@router.post("/code/{signin_id}")
def code_submit(signin_id: str, request: Request, code: str = Form("", max_length=20), csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    if not limiter(request, "center-code", 30, 3600).hit(client_of(request)):
        return _code_page(request, signin_id, status_code=429, error="Too many tries; wait an hour.")
    with instance.vault.transaction() as conn:
        result = center.verify(conn, instance=instance, signin_id=signin_id, code=code)
    if not result.ok:
        if result.problem == "wrong":
            return _code_page(
                request, signin_id, status_code=400, error=f"That code is not right. {result.attempts_left} tries left."
            )
        messages = {
            "expired": "That code has expired. Ask for a new one.",
            "exhausted": "Too many wrong codes. Ask for a new one.",
            "none": "That sign-in is over. Ask for a new code.",
        }
        return _sign_in_page(request, status_code=400, error=messages[result.problem])
    response = RedirectResponse(PATH, status_code=303)
    response.set_cookie(
        COOKIE,
        result.token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=PATH,
        max_age=int(center.SESSION_TTL.total_seconds()),
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: str = Form("")):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    session = _session(request)
    if session is not None:
        with instance.vault.transaction() as conn:
            center.end(conn, vault=instance.vault, session=session)
    response = RedirectResponse(PATH, status_code=303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


def _required(request: Request) -> center.CenterSession:
    session = _session(request)
    if session is None:
        raise ApiError(401, "signed_out", "Your privacy-centre session has ended: sign in again at /center.")
    return session


# --- the dashboard --------------------------------------------------------------------------------------------------


@dataclass
class ConsentRow:
    key: str
    label: str
    description: str
    mode: str
    given: bool
    reconsent: bool


@dataclass
class Reports:
    """What is held about each of the person's subjects, and which of them were erased."""

    reports: list[dict] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)


def _reports(conn, instance, session: center.CenterSession) -> Reports:
    held = Reports()
    for subject_id in session.subject_ids:
        try:
            held.reports.append(report.subject_report(conn, vault=instance.vault, subject_id=subject_id))
        except GateDenied as denied:
            if denied.rule != "subject-erased":
                raise
            held.erased.append(subject_id)
    return held


def _declared_field(policy, item: dict):
    point = policy.collection_point_by_key.get(item["collection_point"])
    return next((f for f in point.fields if f.name == item["field"]), None) if point else None


def _grouped(policy, subject_report: dict) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {}
    for item in subject_report["items"]:
        declared = _declared_field(policy, item)
        # A password is held only as a hash: saying so is enough, showing the hash helps nobody but a guesser.
        hidden = declared is not None and declared.type == FieldType.password
        groups.setdefault(item["category_label"], []).append({**item, "hidden": hidden})
    return sorted(groups.items())


def _correctable(policy, reports: list[dict]) -> list[dict]:
    """The fields a person may correct here: every field held, but passwords (changed in the account itself)."""
    fields: dict[str, dict] = {}
    for subject_report in reports:
        for item in subject_report["items"]:
            declared = _declared_field(policy, item)
            if declared is None or declared.type == FieldType.password or item["field"] in fields:
                continue
            value = item["value"]
            fields[item["field"]] = {
                "name": item["field"],
                "label": item["category_label"],
                "value": value if isinstance(value, str) else "" if value is None else str(value),
                "type": _INPUT_TYPES.get(declared.type, "text"),
            }
    return sorted(fields.values(), key=lambda f: f["name"])


def _consents(conn, instance, reports: list[dict]) -> list[ConsentRow]:
    """Consent-based purposes the person's data was collected for, or that they chose on, with the choice now."""
    state = instance.vault.policy_state
    policy = state.policy
    relevant = {p for r in reports for i in r["items"] for p in i["purposes"]} | {
        c["purpose"] for r in reports for c in r["consents"]
    }
    rows = []
    for purpose in policy.purposes:
        if not purpose.consent_based or purpose.key not in relevant:
            continue
        allowed, rule, reconsent = True, "allowed", False
        for r in reports:
            current = ledger.current(conn, subject_id=r["subject_id"], purpose=purpose.key)
            ok, why = ledger.allows(purpose.consent, current, reconsent_since=state.reconsent_since.get(purpose.key))
            allowed, rule = allowed and ok, why if not ok else rule
            reconsent = reconsent or why == "reconsent-required"
        rows.append(
            ConsentRow(
                key=purpose.key,
                label=purpose.label,
                description=purpose.description or "",
                mode=purpose.consent.value,
                given=allowed,
                reconsent=reconsent,
            )
        )
    return rows


def _dashboard(request: Request, session: center.CenterSession, *, done: str | None = None, error: str | None = None):
    instance = request.app.state.instance
    policy = instance.vault.policy
    with instance.vault.transaction() as conn:
        held = _reports(conn, instance, session)
        consents = _consents(conn, instance, held.reports)
        filed = center.requests_of(conn, vault=instance.vault, session=session)
        asked = inbox.of_subjects(conn, vault=instance.vault, subject_ids=session.subject_ids)
    states = {r["state"] for r in held.reports}
    return page(
        request,
        "center/dashboard.html",
        status_code=400 if error else 200,
        session=session,
        reports=held.reports,
        erased=bool(held.erased) and not held.reports,
        grouped=[(r, _grouped(policy, r)) for r in held.reports],
        correctable=_correctable(policy, held.reports),
        consents=consents,
        reconsent=[c for c in consents if c.reconsent],
        requests=filed,
        inquiries=asked,
        offered=service.offered(policy),
        deactivated="deactivated" in states,
        done=done,
        error=error,
    )


_DONE = {
    "corrected": "Your data was corrected.",
    "consent": "Your choice is recorded and applies now.",
    "reconsent": "Thank you: your consent under the new policy is recorded.",
    "unsubscribed": "You are unsubscribed. We will send you no more of that mail.",
    "deactivated": "Your account is deactivated: we do not process your data any more.",
    "reactivated": "Your account is active again.",
    "erase-review": "Your deletion request is recorded; we review it and tell you by e-mail.",
    "asked": "Your message is recorded. We answer by e-mail.",
}


def _file(request: Request, session: center.CenterSession, kind: str, **details) -> service.RightsRequest:
    """File a request for the signed-in person; the request page's cookie is set on the response by the caller."""
    instance = request.app.state.instance
    with instance.vault.transaction() as conn:
        found, token = service.file_in_center(conn, instance=instance, kind=kind, email=session.email, **details)
    request.state.request_cookie = (found.id, token)
    return found


def _redirect(request: Request, done: str) -> RedirectResponse:
    response = RedirectResponse(f"{PATH}?done={done}", status_code=303)
    _request_cookie(request, response)
    return response


def _request_cookie(request: Request, response) -> None:
    """Let the person open the request's own page (`/requests/{id}`), as its verify link would."""
    filed = getattr(request.state, "request_cookie", None)
    if filed:
        request_id, token = filed
        response.set_cookie(
            REQUEST_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=f"/requests/{request_id}",
            max_age=int(service.KEEP_AFTER_DECISION.total_seconds()),
        )


@router.post("/correct")
async def correct(request: Request):
    """RIG-2: the changed values are filed as a correction, validated as their collection point declares them."""
    form = await request.form()
    csrf.verify(request, form.get("csrf_token"))
    session = _required(request)
    instance = request.app.state.instance
    with instance.vault.transaction() as conn:
        fields = _correctable(instance.vault.policy, _reports(conn, instance, session).reports)
    changes = {}
    for f in fields:
        value = form.get(f"field_{f['name']}")
        if isinstance(value, str) and value.strip() != f["value"]:
            changes[f["name"]] = value.strip()
    if not changes:
        return _dashboard(request, session, error="Nothing was changed.")
    try:
        found = _file(request, session, "rectify", values=changes)
    except RequestError as exc:
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in exc.extra.get("problems", []))
        return _dashboard(request, session, error=f"The correction was refused: {problems or exc.message}.")
    if found.state != State.fulfilled:
        return _dashboard(request, session, error="The correction could not be made: " + _why(found))
    if "email" in changes:
        with instance.vault.transaction() as conn:
            center.change_address(conn, vault=instance.vault, session=session, email=changes["email"])
    return _redirect(request, "corrected")


def _why(found: service.RightsRequest) -> str:
    return " ".join(line for line in service.outcome_lines(found) if line) or found.state.replace("_", " ")


@router.post("/export")
def export(request: Request, format: str = Form("json"), csrf_token: str = Form("")):
    """RIG-7: a portable copy, filed and fulfilled as a portability (or access) request, downloaded at once."""
    csrf.verify(request, csrf_token)
    session = _required(request)
    instance = request.app.state.instance
    offered = service.offered(instance.vault.policy)
    kind = "portability" if "portability" in offered else "access"
    if kind not in offered:
        return _dashboard(request, session, error="This business does not offer a copy of your data.")
    try:
        found = _file(request, session, kind)
    except RequestError as exc:
        return _dashboard(request, session, error=exc.message)
    if found.state != State.fulfilled:
        return _dashboard(request, session, error="Your copy could not be made: " + _why(found))
    response = report_response(instance, found, "csv" if format == "csv" else "json")
    _request_cookie(request, response)
    return response


@router.post("/consent")
def consent(
    request: Request,
    purpose: str = Form("", max_length=64),
    choice: str = Form("", max_length=16),
    csrf_token: str = Form(""),
):
    """USE-3, NTC-2: give or withdraw consent for a consent-based purpose; the gate honours it at once."""
    csrf.verify(request, csrf_token)
    session = _required(request)
    instance = request.app.state.instance
    declared = instance.vault.policy.purpose_by_key.get(purpose)
    if declared is None or not declared.consent_based or choice not in ("given", "withdrawn"):
        return _dashboard(request, session, error="Choose a purpose that rests on your consent, and give or withdraw.")
    with instance.vault.transaction() as conn:
        reports = _reports(conn, instance, session).reports
        for subject_report in reports:
            subject_id = subject_report["subject_id"]
            before = ledger.current(conn, subject_id=subject_id, purpose=purpose)
            recorded = choice
            if choice == "withdrawn" and before is None:
                recorded = "refused"  # nothing was given to withdraw: the record says no
            record_id = ledger.record(
                conn,
                purpose=purpose,
                choice=recorded,
                method=ledger.Method.center,
                policy_version=instance.vault.policy_version,
                subject_id=subject_id,
                evidence={"session": session.id},
            )
            instance.vault.audit(
                conn,
                actor=Actor.subject(subject_id),
                action="consent",
                decision=Decision(True, recorded, "consent recorded"),
                purpose=purpose,
                subject_id=subject_id,
                detail={"choice": recorded, "method": "center", "record": record_id},
            )
    return RedirectResponse(f"{PATH}?done=consent", status_code=303)


@router.post("/reconsent")
def reconsent(request: Request, csrf_token: str = Form("")):
    """NTC-2: consent again, under the current policy version, to every purpose a material change concerns."""
    csrf.verify(request, csrf_token)
    session = _required(request)
    instance = request.app.state.instance
    with instance.vault.transaction() as conn:
        reports = _reports(conn, instance, session).reports
        rows = [c for c in _consents(conn, instance, reports) if c.reconsent]
        for row in rows:
            for subject_report in reports:
                subject_id = subject_report["subject_id"]
                record_id = ledger.record(
                    conn,
                    purpose=row.key,
                    choice=ledger.Choice.given,
                    method=ledger.Method.center,
                    policy_version=instance.vault.policy_version,
                    subject_id=subject_id,
                    evidence={"session": session.id, "reconsent": True},
                )
                instance.vault.audit(
                    conn,
                    actor=Actor.subject(subject_id),
                    action="consent",
                    decision=Decision(True, "given", "consent recorded"),
                    purpose=row.key,
                    subject_id=subject_id,
                    detail={"choice": "given", "method": "center", "record": record_id, "reconsent": True},
                )
    return RedirectResponse(f"{PATH}?done=reconsent", status_code=303)


@router.post("/unsubscribe")
def unsubscribe(request: Request, scope: str = Form("marketing", max_length=32), csrf_token: str = Form("")):
    """RIG-5, RIG-6: opt out of marketing, or of all non-essential mail; the address goes on the suppression list."""
    csrf.verify(request, csrf_token)
    session = _required(request)
    if scope not in preferences.SCOPES:
        return _dashboard(request, session, error="Choose marketing or all non-essential mail.")
    instance = request.app.state.instance
    with instance.vault.transaction() as conn:
        for subject_id in session.subject_ids:
            preferences.opt_out(
                conn,
                vault=instance.vault,
                subject_id=subject_id,
                scope=scope,
                method=ledger.Method.center,
                actor=Actor.subject(subject_id),
                evidence={"session": session.id},
            )
    return RedirectResponse(f"{PATH}?done=unsubscribed", status_code=303)


@router.post("/deactivate")
def deactivate(request: Request, csrf_token: str = Form("")):
    """RIG-4: the account stops being processed; nothing is deleted, and it can be reactivated."""
    return _state_change(request, csrf_token, "deactivate", "deactivated")


@router.post("/reactivate")
def reactivate(request: Request, csrf_token: str = Form("")):
    return _state_change(request, csrf_token, "reactivate", "reactivated")


def _state_change(request: Request, csrf_token: str, kind: str, done: str):
    csrf.verify(request, csrf_token)
    session = _required(request)
    instance = request.app.state.instance
    if kind not in service.offered(instance.vault.policy):
        return _dashboard(request, session, error=f"This business does not offer {service.LABELS[kind]}.")
    try:
        found = _file(request, session, kind)
    except RequestError as exc:
        return _dashboard(request, session, error=exc.message)
    if found.state != State.fulfilled:
        return _dashboard(request, session, error=f"That could not be done: {_why(found)}")
    return _redirect(request, done)


def _staying(reports: list[dict]) -> list[dict]:
    """What an erasure would keep: items under a hold now, with the hold's reason and end (RIG-3)."""
    staying = []
    for subject_report in reports:
        staying += subject_report["held_items"]
        holds = subject_report["holds"]
        for item in subject_report["items"]:
            holding = [h for h in holds if any(covers(c, item["category"]) for c in h["categories"])]
            if holding:
                latest = max(holding, key=lambda h: h["ends_at"])
                staying.append(
                    {
                        "field": item["field"],
                        "category_label": item["category_label"],
                        "reason": latest["reason"],
                        "ends_at": latest["ends_at"],
                    }
                )
    return staying


@router.get("/delete")
def delete_form(request: Request):
    session = _session(request)
    if session is None:
        return _sign_in_page(request)
    instance = request.app.state.instance
    with instance.vault.transaction() as conn:
        reports = _reports(conn, instance, session).reports
    return page(
        request,
        "center/delete.html",
        staying=_staying(reports),
        review=instance.vault.policy.rights.review,
        offered="erase" in service.offered(instance.vault.policy),
        error=None,
    )


@router.post("/delete")
def delete(request: Request, confirm: str = Form(""), csrf_token: str = Form("")):
    """RIG-3: file an erasure; it is reviewed if the declaration says so, and held data stays until its hold ends."""
    csrf.verify(request, csrf_token)
    session = _required(request)
    instance = request.app.state.instance
    if "erase" not in service.offered(instance.vault.policy):
        return _dashboard(request, session, error="This business does not offer erasure.")
    if confirm != "yes":
        with instance.vault.transaction() as conn:
            reports = _reports(conn, instance, session).reports
        return page(
            request,
            "center/delete.html",
            status_code=400,
            staying=_staying(reports),
            review=instance.vault.policy.rights.review,
            offered=True,
            error="Tick the box to confirm that you want your data deleted.",
        )
    try:
        found = _file(request, session, "erase")
    except RequestError as exc:
        return _dashboard(request, session, error=exc.message)
    if found.state in service.OPEN:
        return _redirect(request, "erase-review")
    response = page(request, "center/erased.html", found=found, lines=[x for x in service.outcome_lines(found) if x])
    _request_cookie(request, response)
    return response


# --- the privacy inbox (NTC-3) ----------------------------------------------------------------------------------------


@router.post("/ask")
def ask(
    request: Request,
    kind: str = Form("question", max_length=16),
    message: str = Form("", max_length=inbox.MAX_MESSAGE + 100),
    csrf_token: str = Form(""),
):
    """A signed-in person's question or complaint: answered by e-mail, and listed here with its answer."""
    csrf.verify(request, csrf_token)
    session = _required(request)
    instance = request.app.state.instance
    subject_id = session.subject_ids[0] if session.subject_ids else None
    try:
        with instance.vault.transaction() as conn:
            inbox.open_inquiry(
                conn,
                vault=instance.vault,
                kind=kind,
                email=session.email,
                message=message,
                channel="center",
                actor=Actor.subject(subject_id) if subject_id else CENTER,
                subject_id=subject_id,
            )
    except inbox.InquiryError as exc:
        return _dashboard(request, session, error=f"Your message was not sent: {exc}.")
    return RedirectResponse(f"{PATH}?done=asked", status_code=303)


def _contact_page(request: Request, *, status_code: int = 200, error: str | None = None, **values):
    defaults = {"email": "", "kind": "question", "message": ""}
    return page(
        request, "center/contact.html", status_code=status_code, error=error, values={**defaults, **values}, sent=False
    )


@router.get("/contact")
def contact_form(request: Request):
    return _contact_page(request)


@router.post("/contact")
def contact(
    request: Request,
    email: str = Form("", max_length=320),
    kind: str = Form("question", max_length=16),
    message: str = Form("", max_length=inbox.MAX_MESSAGE + 100),
    csrf_token: str = Form(""),
):
    """The public form, for people without an account (NTC-3); limited per client address."""
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    if not limiter(request, "center-contact", 10, 3600).hit(client_of(request)):
        return _contact_page(
            request, status_code=429, error="Too many messages from here; wait an hour.", email=email, message=message
        )
    try:
        with instance.vault.transaction() as conn:
            inbox.open_inquiry(
                conn, vault=instance.vault, kind=kind, email=email, message=message, channel="public", actor=CENTER
            )
    except inbox.InquiryError as exc:
        return _contact_page(request, status_code=422, error=f"{exc}.", email=email, kind=kind, message=message)
    return page(
        request,
        "center/contact.html",
        error=None,
        values={"email": "", "kind": "question", "message": ""},
        sent=True,
    )

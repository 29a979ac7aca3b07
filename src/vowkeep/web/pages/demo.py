"""The demo shop at /demo: a small storefront standing for the business's own site, on demonstration instances only.

It is mounted only when `vowkeep demo` has filled the instance (which writes `<data dir>/demo.json` with the shop's
API key); a production instance never runs that command, so it never exposes a shop. Its pages embed `/consent.js`
like any business site, and its forms are the declared collection points, field for field.

How a form reaches vowkeep: a real business's backend receives its form and calls `POST /api/v1/collect/{point}`
with its API key. The demo shop lives inside vowkeep's process, so its form handler makes that very call in-process
— the collection endpoint's own function, with a caller authenticated from the shop's own API key — rather than a
loopback HTTP request that would have to know the server's public address and port. The checks, the gate, the
audit record (`service:demo shop`) and the answer are the endpoint's, unchanged.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from vowkeep.consent.ledger import Choice, Method
from vowkeep.demo import demo_key, enabled
from vowkeep.policy.model import AgeCheck
from vowkeep.retention import minors
from vowkeep.vault import apikeys
from vowkeep.vault.intake import SubmissionError
from vowkeep.web import csrf
from vowkeep.web.api import collect as collect_api
from vowkeep.web.api import consents as consents_api
from vowkeep.web.deps import Caller
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.templating import page

router = APIRouter(prefix="/demo", tags=["demo"], include_in_schema=False)
# The shop's sections, in the order a visitor meets them, where the declaration has such a collection point.
SHOWN = {
    "registration": ("register", "Create an account", "Register"),
    "purchase": ("buy", "Buy the Starter kit — £19", "Pay £19"),
    "free_download": ("download", "Free download: the buyer's guide", "Get the guide"),
    "inquiry": ("contact", "Ask us anything", "Send"),
    "contest_entry": ("contest", "Win a year of service", "Enter the draw"),
}
PROCESSOR_FILLED = ("card_token", "card_brand", "card_last4")
INPUT_TYPES = {"email": "email", "date": "date", "password": "password", "phone": "tel"}
CONSENT_COOKIE = "vk_consent"


def mount(app: FastAPI, instance) -> None:
    """Add the shop to `app` if this instance is a demonstration one."""
    if enabled(instance):
        app.include_router(router)


def _caller(instance) -> Caller:
    key = demo_key(instance)
    with instance.engine.begin() as conn:
        found = apikeys.authenticate(conn, token=key) if key else None
    if found is None:
        raise ApiError(503, "demo_unavailable", "the demo shop's API key is missing or revoked; run `vowkeep demo`")
    return Caller(found.actor, frozenset(found.scopes))


def _forms(policy) -> list[dict]:
    forms = []
    for key, (anchor, heading, button) in SHOWN.items():
        point = policy.collection_point_by_key.get(key)
        if point is None:
            continue
        fields = []
        for f in point.fields:
            kind = str(getattr(f.type, "value", f.type))
            if kind in PROCESSOR_FILLED:
                continue
            fields.append(
                {
                    "name": f.name,
                    "label": f.name.replace("_", " ").capitalize(),
                    "type": INPUT_TYPES.get(kind, "text"),
                    "required": f.required,
                    "long": (getattr(f, "max_length", None) or 0) > 500,
                    "autocomplete": {"email": "email", "password": "new-password", "phone": "tel"}.get(kind, "off"),
                }
            )
        forms.append(
            {
                "key": key,
                "anchor": anchor,
                "heading": heading,
                "button": button,
                "fields": fields,
                "purposes": point.purposes,
                "adult": minors.applies(policy, point) and point.age_check == AgeCheck.attestation,
                "minimum_age": policy.minors.minimum_age,
                "card": any(str(getattr(f.type, "value", f.type)) == "card_token" for f in point.fields),
            }
        )
    return forms


def _newsletter(policy):
    """The consent-based marketing purpose the registration form offers as an unticked box, if declared."""
    return next((p for p in policy.purposes if p.consent_based and p.key in ("marketing", "newsletter")), None)


@router.get("")
def shop(request: Request):
    policy = request.app.state.instance.vault.policy
    return page(
        request, "demo/shop.html", forms=_forms(policy), newsletter=_newsletter(policy), problems=None, failed=None
    )


@router.post("/{point}")
async def submit(request: Request, point: str):
    """A form of the shop: its fields go to the collection endpoint with the shop's key."""
    instance = request.app.state.instance
    policy = instance.vault.policy
    form = await request.form()
    csrf.verify(request, form.get(csrf.FIELD))
    declared = policy.collection_point_by_key.get(point)
    if declared is None or point not in SHOWN:
        raise ApiError(404, "not_found", "the shop has no such form")
    body: dict[str, object] = {}
    for f in declared.fields:
        value = form.get(f.name)
        if isinstance(value, str) and value.strip():
            body[f.name] = value.strip()
    if minors.applies(policy, declared) and declared.age_check == AgeCheck.attestation:
        body[minors.ATTESTATION_FIELD] = form.get("adult") == "yes"
    if any(str(getattr(f.type, "value", f.type)) == "card_token" for f in declared.fields):
        # The card never reaches the shop: a payment processor's checkout would hand back this token.
        body.update({"card_token": "tok_demo_4242", "card_brand": "visa", "card_last4": "4242"})
    caller = _caller(instance)
    try:
        answer = await _run(collect_api.collect, point=point, body=body, caller=caller, instance=instance)
    except SubmissionError as exc:
        return page(
            request,
            "demo/shop.html",
            status_code=422,
            forms=_forms(policy),
            newsletter=_newsletter(policy),
            problems=[p.as_dict() for p in exc.problems],
            failed=point,
        )
    subject_id = answer["subject_id"]
    linked = []
    consent_cookie = request.cookies.get(CONSENT_COOKIE, "")
    parts = consent_cookie.split(".")
    visitor_id = parts[1] if len(parts) >= 2 and parts[1] else None
    newsletter = _newsletter(policy)
    wants_news = point == "registration" and newsletter is not None and form.get("newsletter") == "yes"
    if visitor_id or wants_news:
        consent = consents_api.ConsentIn(
            purpose=newsletter.key if wants_news else None,
            choice=Choice.given if wants_news else None,
            method=Method.form,
            evidence={"form": f"demo:{point}"},
            visitor_id=visitor_id,
        )
        try:
            recorded = await _run(
                consents_api.record_consent, subject_id=subject_id, body=consent, caller=caller, instance=instance
            )
            linked = recorded["records"]
        except ApiError:
            linked = []  # an unusable banner id links nothing; the submission itself stands
    return page(request, "demo/thanks.html", point=point, heading=SHOWN[point][1], answer=answer, consents=linked)


async def _run(function, **kwargs):
    """Run a synchronous endpoint function in the thread pool, as FastAPI runs it for HTTP callers."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(lambda: function(**kwargs))

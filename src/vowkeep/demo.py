"""`vowkeep demo`: fill an instance with realistic fake people, so the console is alive on first start.

Everything goes through the same code as real traffic: submissions are checked against the declared collection
points and stored through the gate by a demo API key's actor, banner choices and visits go through the consent and
tracking intake (then the daily roll-up), requests are filed and verified through the rights workflow, holds and
legal requests through theirs. Time is spread over the last weeks with `vowkeep.clock`, so due dates, overdue
requests, charts and retention forecasts have something to show. Needs Faker (`pip install 'vowkeep[demo]'`).
"""

from __future__ import annotations

import json
import os
import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from vowkeep import clock

DEMO_FILE = "demo.json"
# What the demo shop's key may do: submit at collection points, and record the consents its forms ask for.
DEMO_SCOPES = ["collect", "consents"]
PAGES = ["/demo", "/demo#register", "/demo#buy", "/demo#download", "/privacy", "/privacy/cookies"]
REFERRERS = ["https://www.example.com/", "https://search.example.net/?q=shop", "https://news.example.org/", None]
USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
]


class DemoError(Exception):
    """The instance cannot be filled (already filled, or Faker is missing)."""


class FakerMissing(DemoError):
    pass


@dataclass
class DemoSummary:
    people: int = 0
    submissions: int = 0
    consents: int = 0
    visitors: int = 0
    events: int = 0
    requests: int = 0
    holds: int = 0
    disclosures: int = 0
    operators: dict[str, tuple[str, str]] = field(default_factory=dict)  # username -> (role, password)
    api_key: str = ""


def demo_file(instance) -> Path:
    return instance.settings.data_dir / DEMO_FILE


def enabled(instance) -> bool:
    """Whether this instance shows the demo shop: only once `vowkeep demo` has filled it."""
    return demo_file(instance).is_file()


def demo_key(instance) -> str | None:
    try:
        return json.loads(demo_file(instance).read_text())["api_key"]
    except (OSError, ValueError, KeyError):
        return None


def _faker(seed: int | None):
    try:
        from faker import Faker
    except ImportError:
        raise FakerMissing("`vowkeep demo` needs Faker: pip install 'vowkeep[demo]' (or pip install faker)") from None
    fake = Faker(["en_GB", "en_US"])
    if seed is not None:
        Faker.seed(seed)
    return fake


def _value(fake, field_, rnd: random.Random):
    """A realistic value for a declared field, by its name and type."""
    name, kind = field_.name, str(getattr(field_.type, "value", field_.type))
    if kind == "email":
        return fake.unique.email()
    if kind == "date":
        return fake.date_of_birth(minimum_age=19, maximum_age=80).isoformat()
    if kind == "password":
        return fake.password(length=16)
    if kind == "phone":
        return rnd.choice(["+442079460958", "+14155550123", "+447911123456", "+16175550199"])
    if kind == "card_token":
        return "tok_demo_" + secrets.token_hex(8)
    if kind == "card_brand":
        return rnd.choice(["visa", "mastercard"])
    if kind == "card_last4":
        return f"{rnd.randint(0, 9999):04d}"
    if kind == "postal_code":
        return fake.postcode()
    lowered = name.lower()
    if "first" in lowered:
        return fake.first_name()
    if "last" in lowered:
        return fake.last_name()
    if "name" in lowered:
        return fake.name()
    if "address" in lowered:
        return fake.address().replace("\n", ", ")
    if "company" in lowered:
        return fake.company()
    if "title" in lowered:
        return fake.job()
    if "hint" in lowered:
        return "my first pet"
    if kind == "url" or "picture" in lowered:
        return "https://example.com/avatar.png"
    return fake.sentence(nb_words=10)


def _submission(fake, point, rnd: random.Random, email: str) -> dict:
    values = {}
    for f in point.fields:
        if str(getattr(f.type, "value", f.type)) == "email":
            values[f.name] = email
        elif f.required or rnd.random() < 0.5:
            values[f.name] = _value(fake, f, rnd)
    return values


def fill(instance, *, people: int = 40, seed: int | None = 7, echo=None) -> DemoSummary:
    """Fill `instance` once; raises DemoError if it was already filled or Faker is missing."""
    from vowkeep.policy.model import RecipientKind

    if enabled(instance):
        raise DemoError(f"this instance already has demo data ({demo_file(instance)} exists); nothing was added")
    fake = _faker(seed)
    rnd = random.Random(seed)
    summary = DemoSummary()
    say = echo or (lambda _text: None)
    real_now = clock.now()
    try:
        _operators_and_key(instance, summary)
        say(f"created the demo shop's API key and {len(summary.operators)} demo operators")
        subject_emails = _people(instance, fake, rnd, people, real_now, summary)
        say(f"{summary.people} people, {summary.submissions} submissions, {summary.consents} consent choices")
        _visits(instance, rnd, people * 3, real_now, summary)
        say(f"{summary.visitors} visitors, {summary.events} tracking events (rolled up)")
        _requests(instance, rnd, subject_emails, real_now, summary)
        _holds_and_disclosures(instance, rnd, subject_emails, summary, RecipientKind)
        say(f"{summary.requests} requests, {summary.holds} holds, {summary.disclosures} legal requests")
    finally:
        clock.reset()
    path = demo_file(instance)
    path.write_text(json.dumps({"api_key": summary.api_key, "filled_at": real_now.isoformat()}, indent=2) + "\n")
    os.chmod(path, 0o600)
    return summary


def _operators_and_key(instance, summary: DemoSummary) -> None:
    from vowkeep.vault import apikeys, operators

    policy = instance.vault.policy
    with instance.engine.begin() as conn:
        token, _ = apikeys.create(conn, policy=policy, name="demo shop", scopes=DEMO_SCOPES, created_by="demo")
        summary.api_key = token
        for role in policy.roles:
            if role.key == "admin" or "manage_operators" in [p.value for p in role.permissions]:
                continue
            username = role.key.replace("_", "-")
            _, password = operators.add(conn, policy=policy, username=username, role=role.key)
            summary.operators[username] = (role.key, password)


def _people(instance, fake, rnd, count, real_now, summary) -> list[tuple[str, str]]:
    """Register people at the declared collection points, over the last 28 days; record their consent choices."""
    from vowkeep.consent import ledger
    from vowkeep.consent.ledger import Choice, Method
    from vowkeep.policy.model import AgeCheck
    from vowkeep.retention import minors
    from vowkeep.vault import apikeys
    from vowkeep.vault.decisions import Decision
    from vowkeep.vault.intake import SubmissionError, check_submission

    vault, policy = instance.vault, instance.vault.policy
    with instance.engine.connect() as conn:
        actor = apikeys.authenticate(conn, token=summary.api_key).actor
    # Points fed by other systems (social login, imports, client files) are not something a visitor fills in.
    points = [p for p in policy.collection_points if not any(w in p.key for w in ("social", "source", "client"))]
    first = next((p for p in points if p.key == "registration"), points[0] if points else None)
    consented = [p for p in policy.purposes if p.consent_based]
    found: list[tuple[str, str]] = []
    for _ in range(count):
        clock.travel_to(real_now - timedelta(days=rnd.uniform(0.5, 28), hours=rnd.uniform(0, 12)))
        email = fake.unique.email()
        chosen = [first] + [p for p in points if p is not first and rnd.random() < 0.3]
        subject_id = None
        for point in chosen:
            if point is None:
                continue
            body = _submission(fake, point, rnd, email)
            if minors.applies(policy, point) and point.age_check == AgeCheck.attestation:
                body[minors.ATTESTATION_FIELD] = True  # the fake people are adults
            try:
                # The collection endpoint's steps, in its order: age claims, the declared fields, the age gate.
                body, claims = minors.take_claims(policy, point, body)
                submission = check_submission(point, body)
                minors.check_age(instance.engine, policy, point, submission, claims)
            except (SubmissionError, minors.BelowMinimumAge):
                continue  # a field this generator cannot fake plausibly: the person skips that form
            with vault.transaction() as conn:
                result = vault.collect(conn, actor=actor, point=point, submission=submission, subject_id=subject_id)
            subject_id = result.subject_id
            summary.submissions += 1
        if subject_id is None:
            continue
        summary.people += 1
        found.append((subject_id, email))
        with vault.transaction() as conn:
            for purpose in consented:
                if rnd.random() < 0.3:
                    continue
                choice = rnd.choice([Choice.given, Choice.given, Choice.refused, Choice.withdrawn])
                record_id = ledger.record(
                    conn,
                    purpose=purpose.key,
                    choice=choice,
                    method=Method.form,
                    policy_version=vault.policy_version,
                    subject_id=subject_id,
                    evidence={"form": "demo", "recorded_by": actor.label},
                )
                vault.audit(
                    conn,
                    actor=actor,
                    action="consent",
                    decision=Decision(True, choice.value, "consent recorded"),
                    purpose=purpose.key,
                    subject_id=subject_id,
                    detail={"choice": choice.value, "method": "form", "record": record_id},
                )
                summary.consents += 1
    return found


def _visits(instance, rnd, count, real_now, summary) -> None:
    """Visitors choose on the banner; those who accept usage statistics leave page views over the last 30 days."""
    from vowkeep.consent import banner, cookies
    from vowkeep.tracking.intake import TrackingRefused, record_events
    from vowkeep.tracking.rollup import roll_up

    vault, policy = instance.vault, instance.vault.policy
    usage = policy.usage_data
    optional = [c.key for c in cookies.optional_categories(policy)]
    for _ in range(count):
        visitor = secrets.token_urlsafe(16)
        consent_id = secrets.token_urlsafe(16)
        clock.travel_to(real_now - timedelta(days=rnd.randint(1, 30), hours=rnd.uniform(0, 20)))
        accepted = [c for c in optional if rnd.random() < 0.55]
        with vault.transaction() as conn:
            banner.record_banner_choice(
                conn, policy=policy, policy_version=vault.policy_version, visitor_id=consent_id, accepted=accepted
            )
        summary.visitors += 1
        if usage is None or usage.cookie_category not in accepted:
            continue
        signals = {s.value for s in usage.collect}
        for _visit in range(rnd.randint(1, 3)):
            clock.advance(timedelta(hours=rnd.uniform(1, 30)))
            if clock.now() >= real_now - timedelta(hours=1):
                break
            ref = rnd.choice(REFERRERS)
            events = []
            for n in range(rnd.randint(1, 5)):
                event = {"type": "view", "page": rnd.choice(PAGES), "visit": n == 0, "lang": "en-GB"}
                if ref and n == 0 and "referrer" in signals:
                    event["ref"] = ref
                events.append(event)
            if "purchase_counts" in signals and rnd.random() < 0.2:
                events.append({"type": "purchase", "page": "/demo"})
            try:
                with vault.transaction() as conn:
                    record_events(
                        conn,
                        policy=policy,
                        reconsent_since=vault.policy_state.reconsent_since,
                        payload={"cid": consent_id, "vid": visitor, "events": events},
                        ip=rnd.choice(["81.2.69.160", "89.160.20.112", "216.160.83.56", None]),
                        user_agent=rnd.choice(USER_AGENTS),
                        gpc=False,
                        now=clock.now(),
                    )
                summary.events += len(events)
            except TrackingRefused:
                break
    clock.reset()
    with vault.transaction() as conn:
        roll_up(conn, policy=policy)


def _requests(instance, rnd, people, real_now, summary) -> None:
    """A queue with every state: overdue, due soon, waiting for the code, approved, denied."""
    from vowkeep.rights import requests as rights
    from vowkeep.rights import verification
    from vowkeep.rights.errors import RequestError
    from vowkeep.vault.actors import Actor, ActorKind

    vault, policy = instance.vault, instance.vault.policy
    offered = rights.offered(policy)
    reviewer = Actor(ActorKind.operator, "admin", role="admin")
    plan = [
        # (days ago, right, verify, decision)
        (40, "access", True, None),  # overdue
        (33, "erase", True, None),  # overdue
        (20, "object", True, None),
        (12, "access", True, "approve"),
        (9, "rectify", True, None),
        (6, "deactivate", True, "deny"),
        (3, "portability", True, None),
        (1, "erase", False, None),
        (0.2, "access", False, None),
    ]
    for n, (days, right, verify, decision) in enumerate(plan):
        if right not in offered or n >= len(people):
            continue
        _, email = people[n]
        clock.travel_to(real_now - timedelta(days=days))
        purposes = [p.key for p in policy.purposes if p.consent_based][:1] if right == "object" else None
        values = None
        if right == "rectify":
            field_ = next((f for p in policy.collection_points for f in p.fields if "last" in f.name), None)
            if field_ is None:
                continue
            values = {field_.name: "Smith-Jones"}
        try:
            with vault.transaction() as conn:
                filed = rights.file(
                    conn,
                    instance=instance,
                    kind=right,
                    email=email,
                    channel="center",
                    actor=rights.REQUESTER,
                    purposes=purposes,
                    values=values,
                    note="Please confirm what you hold about me." if right == "access" else None,
                )
            summary.requests += 1
            if not verify:
                continue
            # The requester reads the code in their mailbox; the demo issues a fresh one and types it in.
            clock.advance(timedelta(hours=2))
            with vault.transaction() as conn:
                code = verification.issue_code(
                    conn, key=vault.keystore.system_key(verification.TOKENS_KEY_NAME), request_id=filed.id
                )
                rights.verify(conn, instance=instance, request_id=filed.id, code=code)
            if decision == "approve":
                clock.advance(timedelta(days=2))
                with vault.transaction() as conn:
                    rights.approve(conn, instance=instance, request_id=filed.id, actor=reviewer)
            elif decision == "deny":
                clock.advance(timedelta(days=1))
                with vault.transaction() as conn:
                    rights.deny(
                        conn,
                        instance=instance,
                        request_id=filed.id,
                        actor=reviewer,
                        reason="We could not match the account to the address you gave.",
                        denial="no_match",
                    )
        except RequestError:
            continue
    clock.reset()


def _holds_and_disclosures(instance, rnd, people, summary, RecipientKind) -> None:
    """One hold on a person under investigation; one legal request waiting for approval."""
    from vowkeep.retention import holds
    from vowkeep.sharing import disclosures
    from vowkeep.vault.actors import Actor, ActorKind
    from vowkeep.vault.decisions import GateDenied

    vault, policy = instance.vault, instance.vault.policy
    if len(people) < 3:
        return
    keeper = next((r for r in policy.roles if "manage_holds" in [p.value for p in r.permissions]), None)
    if policy.holds and keeper is not None:
        actor = Actor(ActorKind.operator, keeper.key.replace("_", "-"), role=keeper.key)
        with vault.transaction() as conn:
            holds.place(conn, vault=vault, actor=actor, subject_id=people[-1][0], hold_key=policy.holds[0].key)
        summary.holds += 1
    authority = next((r for r in policy.recipients if r.kind == RecipientKind.authority), None)
    if authority is None or not authority.purposes or not authority.categories:
        return
    filer = next(
        (
            r
            for r in policy.roles
            if "approve_disclosures" in [p.value for p in r.permissions] and authority.purposes[0] in r.purposes
        ),
        None,
    )
    if filer is None:
        return
    actor = Actor(ActorKind.operator, filer.key.replace("_", "-"), role=filer.key)
    try:
        with vault.transaction() as conn:
            disclosures.file(
                conn,
                vault=vault,
                actor=actor,
                recipient=authority.key,
                purpose=authority.purposes[0],
                categories=authority.categories[:2],
                subject_ids=[people[-2][0]],
                legal={
                    "kind": "court_order",
                    "reference": f"CO-{rnd.randint(1000, 9999)}/2026",
                    "scope": "Contact details of the account holder named in the order.",
                    "authority": "County Court",
                },
            )
        summary.disclosures += 1
    except (disclosures.DisclosureError, GateDenied):  # a role that may not disclose simply files none
        return

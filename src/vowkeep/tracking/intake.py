"""Taking usage events from the banner script (`POST /t`), only for a visitor who accepted their category (CK-2).

An event is stored as a pseudonymous row: the random analytics visitor id, the reduced user agent, a country, the
page path, the referrer host, and search terms only where the declaration collects them. Signals the declaration
does not list (`usage_data.collect`) are never stored. The consent visitor id is used to check the ledger and, for
known subjects where `per_subject_counts` is declared, to count visits and purchases per subject; it is not kept
with the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from vowkeep.consent.banner import InvalidVisitor, category_accepted_fast, check_visitor_id
from vowkeep.policy.model import Policy, UsageSignal
from vowkeep.store.fastsql import FastSQL
from vowkeep.tracking import reduce

MAX_EVENTS = 50
# Event type → the usage signal that must be declared for it.
KINDS = {
    "view": UsageSignal.pages,
    "click": UsageSignal.links,
    "search": UsageSignal.search_terms,
    "purchase": UsageSignal.purchase_counts,
}
_INSERT = (
    "INSERT INTO traffic_events (at, day, kind, visitor, page, target, referrer, browser, os, device_class, country,"
    " language, search, rolled_up) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COUNT = (
    "INSERT INTO traffic_subject_counts (subject_id, day, metric, count) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (subject_id, day, metric) DO UPDATE SET count = traffic_subject_counts.count + excluded.count"
)
_LINKED = "SELECT subject_id FROM visitor_links WHERE visitor_id = ?"


class TrackingRefused(Exception):
    """The events were not recorded: `status`, `code` and a message saying why (no value is quoted)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Intake:
    stored: int
    counted_for_subject: bool


def _events(payload: object) -> tuple[str, str, list[dict]]:
    if not isinstance(payload, dict):
        raise TrackingRefused(422, "invalid_event", "the body is a JSON object")
    try:
        consent_id = check_visitor_id(payload.get("cid"))
        visitor = check_visitor_id(payload.get("vid"))
    except InvalidVisitor as exc:
        raise TrackingRefused(422, "invalid_event", f"cid and vid: {exc}") from None
    events = payload.get("events")
    if events is None:
        events = [{k: v for k, v in payload.items() if k not in ("cid", "vid")}]
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        raise TrackingRefused(422, "invalid_event", "`events` is a non-empty list of objects")
    if len(events) > MAX_EVENTS:
        raise TrackingRefused(422, "invalid_event", f"at most {MAX_EVENTS} events per request")
    return consent_id, visitor[:32], events


def record_events(
    conn: Connection,
    *,
    policy: Policy,
    reconsent_since: dict[str, int],
    payload: object,
    ip: str | None,
    user_agent: str | None,
    gpc: bool,
    now: datetime,
) -> Intake:
    """Check and store a request's events in the caller's transaction; raise TrackingRefused when refused."""
    usage = policy.usage_data
    if usage is None:
        raise TrackingRefused(404, "not_declared", "this declaration collects no usage data")
    category = policy.cookie_category_by_key.get(usage.cookie_category)
    if category is None:
        raise TrackingRefused(404, "not_declared", "usage data is not tied to a declared cookie category")
    if gpc and category.advertising:
        raise TrackingRefused(403, "gpc", "the browser sent Global Privacy Control: advertising is refused")
    consent_id, visitor, events = _events(payload)
    signals = set(usage.collect)
    for event in events:
        kind = event.get("type")
        if kind not in KINDS:
            raise TrackingRefused(422, "invalid_event", f"event type is one of {', '.join(KINDS)}")
        if KINDS[kind] not in signals:
            raise TrackingRefused(
                422, "undeclared_signal", f"'{kind}' events need the usage signal '{KINDS[kind].value}' declared"
            )
    fast = FastSQL(conn)
    if not category_accepted_fast(
        fast, policy=policy, visitor_id=consent_id, category=category.key, reconsent_since=reconsent_since
    ):
        raise TrackingRefused(
            403, "consent-required", f"the visitor has not accepted the '{category.key}' cookies; nothing was recorded"
        )
    browser, os_family, device_class = reduce.user_agent(user_agent)
    country = reduce.country(ip) if UsageSignal.country in signals else None
    day = now.date()
    at, day_value = fast.time_in(now), (day.isoformat() if fast.sqlite else day)
    keep = signals.__contains__
    rows = []
    for event in events:
        kind = event["type"]
        rows.append(
            (
                at,
                day_value,
                kind,
                visitor,
                reduce.page_path(event.get("page")) if keep(UsageSignal.pages) else None,
                reduce.link_target(event.get("target")) if kind == "click" else None,
                reduce.referrer_host(event.get("ref")) if keep(UsageSignal.referrer) else None,
                browser if keep(UsageSignal.browser) else None,
                os_family if keep(UsageSignal.os) else None,
                device_class if keep(UsageSignal.device_class) else None,
                country,
                reduce.language(event.get("lang")) if keep(UsageSignal.language) else None,
                reduce.search_terms(event.get("q")) if kind == "search" else None,
                False,
            )
        )
    fast.cursor.executemany(fast.sql(_INSERT), rows)
    counted = False
    if usage.per_subject_counts:
        visits = sum(1 for e in events if e["type"] == "view" and e.get("visit") is True)
        visits = visits if UsageSignal.visit_counts in signals else 0
        purchases = sum(1 for e in events if e["type"] == "purchase")
        if visits or purchases:
            linked = fast.one(_LINKED, (consent_id,))
            if linked is not None:
                for metric, count in (("visits", visits), ("purchases", purchases)):
                    if count:
                        fast.run(_COUNT, (linked[0], day_value, metric, count))
                counted = True
    return Intake(stored=len(rows), counted_for_subject=counted)

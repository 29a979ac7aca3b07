"""The banner and the tracking beacon over HTTP: declared categories (CK-1), nothing recorded before acceptance and
withdrawal at once (CK-2), Global Privacy Control (CK-3), pseudonymous events with no raw IP (COL-5), daily
roll-ups and purges of raw rows (CK-5), and the operators' traffic report."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import POLICIES
from tests.support import instances
from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from vowkeep import clock
from vowkeep.store import jobs
from vowkeep.store.tables import consent_records, traffic_daily, traffic_events, traffic_subject_counts
from vowkeep.web.app import create_app
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
UK_ADDRESS = "81.2.69.142"


def _id() -> str:
    return secrets.token_hex(16)


def _config(client) -> dict:
    text = client.get("/consent.js").text
    match = re.search(r"var CONFIG = (\{.*?\});\n", text)
    return json.loads(match.group(1))


def _choose(client, cid, accepted, headers=None, **extra):
    return client.post(
        "/t/consent",
        content=json.dumps({"cid": cid, "accepted": accepted, "page": "/shop", **extra}),
        headers={"content-type": "text/plain", **(headers or {})},
    )


def _track(client, cid, vid, events, headers=None):
    body = {"cid": cid, "vid": vid, "events": events}
    return client.post("/t", content=json.dumps(body), headers={"content-type": "text/plain", **(headers or {})})


def _count(instance, table=traffic_events):
    with instance.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_ck1_consent_js_offers_the_declared_categories_and_sets_only_declared_cookies(client):
    response = client.get("/consent.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "__VOWKEEP_CONFIG__" not in response.text
    config = _config(client)
    assert [(c["key"], c["essential"], c["advertising"]) for c in config["categories"]] == [
        ("essential", True, False),
        ("analytics", False, False),
        ("advertising", False, True),
    ]
    assert config["usage"] == {
        "category": "analytics",
        "signals": [
            "pages",
            "links",
            "visit_counts",
            "referrer",
            "browser",
            "os",
            "device_class",
            "language",
            "country",
            "time_on_site",
        ],
    }
    # The two cookies the banner may set are the declared ones, with their declared lifetimes (CK-4 lists them).
    assert config["cookies"]["consent"] == {"name": "vk_consent", "maxAge": int(365.2425 * 86400)}
    assert config["cookies"]["visitor"] == {"name": "vk_visitor", "maxAge": 30 * 86400}
    cookie_page = client.get("/privacy/cookies").text
    for name in ("vk_consent", "vk_visitor"):
        assert re.search(rf"<t[hd][^>]*>{name}</t[hd]>", cookie_page)
    etag = response.headers["etag"]
    assert client.get("/consent.js", headers={"if-none-match": etag}).status_code == 304


def test_ck3_gpc_json_is_served(client):
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.json() == {"gpc": True, "lastUpdate": "2018-09-04"}


def test_ck2_no_event_is_recorded_before_acceptance_and_a_decline_is_honoured(client, instance):
    cid, vid = _id(), _id()
    view = [{"type": "view", "page": "/shop"}]
    refused = _track(client, cid, vid, view)
    assert refused.status_code == 403 and refused.json()["error"] == "consent-required"
    declined = _choose(client, cid, [])
    assert declined.json() == {"accepted": [], "declined": ["advertising", "analytics"], "gpc": False, "recorded": 2}
    assert _track(client, cid, vid, view).status_code == 403
    assert _count(instance) == 0

    assert _choose(client, cid, ["analytics"]).json()["accepted"] == ["analytics"]
    assert _track(client, cid, vid, view).status_code == 204
    assert _count(instance) == 1

    # Withdrawal acts at once: the next event is refused.
    _choose(client, cid, [])
    assert _track(client, cid, vid, view).status_code == 403
    assert _count(instance) == 1
    with instance.engine.connect() as conn:
        records = conn.execute(
            select(consent_records.c.purpose, consent_records.c.choice, consent_records.c.method)
            .where(consent_records.c.visitor_id == cid)
            .order_by(consent_records.c.id)
        ).all()
    assert [tuple(r) for r in records] == [
        ("advertising", "refused", "banner"),
        ("analytics", "refused", "banner"),
        ("analytics", "given", "banner"),
        ("analytics", "withdrawn", "banner"),
    ]
    # Saving the same choice again appends nothing.
    assert _choose(client, cid, []).json()["recorded"] == 0


def test_ck3_gpc_header_refuses_advertising_whatever_was_clicked(client, instance):
    cid = _id()
    for value in ("0", "1 ", "true"):
        loose = _choose(client, _id(), ["analytics", "advertising"], headers={"Sec-GPC": value})
        assert loose.json()["accepted"] == ["advertising", "analytics"], value
    response = _choose(client, cid, ["analytics", "advertising"], headers={"Sec-GPC": "1"})
    assert response.json() == {"accepted": ["analytics"], "declined": ["advertising"], "gpc": True, "recorded": 2}
    with instance.engine.connect() as conn:
        row = conn.execute(
            select(consent_records).where(
                consent_records.c.visitor_id == cid, consent_records.c.purpose == "advertising"
            )
        ).one()
    assert (row.choice, row.method) == ("refused", "gpc") and row.evidence["signal"] == "Sec-GPC: 1"
    assert row.evidence["page"] == "/shop"
    with_query = _choose(client, _id(), [], page="/account?email=ada%40example.org")
    assert with_query.status_code == 200
    with instance.engine.connect() as conn:
        pages = conn.execute(select(consent_records.c.evidence)).scalars().all()
    assert "ada%40example.org" not in json.dumps(pages) and {"page": "/account"}.items() <= pages[-1].items()
    # navigator.globalPrivacyControl, reported by the script, counts the same.
    scripted = _choose(client, _id(), ["advertising"], gpc=True)
    assert scripted.json()["declined"] == ["advertising", "analytics"]


def test_ck3_gpc_opts_a_known_subject_out_of_advertising_sale_and_sharing(client, instance):
    subject_id = register(client)
    consents = service_headers(instance, "consents")
    client.post(
        f"/api/v1/subjects/{subject_id}/consents",
        json={"purpose": "partner_offers", "choice": "given", "method": "form"},
        headers=consents,
    )
    cid = _id()
    link = client.post(f"/api/v1/subjects/{subject_id}/consents", json={"visitor_id": cid}, headers=consents)
    assert link.status_code == 201
    _choose(client, cid, ["analytics", "advertising"], headers={"Sec-GPC": "1"})
    current = {
        c["purpose"]: c
        for c in client.get(f"/api/v1/subjects/{subject_id}/consents", headers=consents).json()["current"]
    }
    # partner_offers goes to a partner that uses it for its own promotions: sharing, which GPC refuses.
    assert current["partner_offers"]["choice"] == "withdrawn" and current["partner_offers"]["method"] == "gpc"
    assert current["advertising"]["choice"] == "refused" and current["advertising"]["method"] == "gpc"
    assert current["analytics"]["choice"] == "given" and current["analytics"]["method"] == "banner"
    reader = service_headers(instance, "purpose:partner_offers")
    read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "partner_offers"}, headers=reader)
    assert read.status_code == 403

    # A browser that sent GPC before its visitor signed in opts the person out once they are linked.
    other = register(client, {**REGISTRATION, "email": "grace@example.org"})
    client.post(
        f"/api/v1/subjects/{other}/consents",
        json={"purpose": "partner_offers", "choice": "given", "method": "form"},
        headers=consents,
    )
    gpc_visitor = _id()
    _choose(client, gpc_visitor, ["analytics"], headers={"Sec-GPC": "1"})
    client.post(f"/api/v1/subjects/{other}/consents", json={"visitor_id": gpc_visitor}, headers=consents)
    records = client.get(f"/api/v1/subjects/{other}/consents", headers=consents).json()["current"]
    assert {c["purpose"]: (c["choice"], c["method"]) for c in records}["partner_offers"] == ("withdrawn", "gpc")


def test_col5_events_are_pseudonymous_and_the_raw_ip_is_never_stored(instance_and_init, instance):
    with TestClient(create_app(instance), client=(UK_ADDRESS, 40000)) as client:
        cid, vid = _id(), _id()
        _choose(client, cid, ["analytics"])
        response = _track(
            client,
            cid,
            vid,
            [
                {
                    "type": "view",
                    "page": "https://shop.example/products/42?email=ada%40example.org#top",
                    "ref": "https://www.google.com/search?q=ada+lovelace",
                    "lang": "en-GB",
                },
                {"type": "click", "page": "/products/42", "target": "https://partner.example/deal?ref=ada"},
                {"type": "click", "page": "/contact", "target": "mailto:ada@example.org"},
            ],
            headers={"User-Agent": CHROME},
        )
        assert response.status_code == 204, response.text
        undeclared = _track(client, cid, vid, [{"type": "search", "q": "shoes"}])
        assert undeclared.status_code == 422 and undeclared.json()["error"] == "undeclared_signal"
    with instance.engine.connect() as conn:
        rows = conn.execute(select(traffic_events).order_by(traffic_events.c.id)).all()
    view, click, mail = rows
    assert (view.page, view.referrer, view.language, view.country) == ("/products/42", "www.google.com", "en-GB", "GB")
    assert (view.browser, view.os, view.device_class) == ("Chrome", "Windows", "desktop")
    assert view.visitor == vid and cid not in {r.visitor for r in rows}
    assert click.target == "partner.example/deal" and mail.target == "mailto:"
    if instance.settings.is_sqlite:
        instance.vault.fold_wal()  # folds the WAL into the file, so the scan below sees everything
        raw = (instance.settings.data_dir / "vowkeep.db").read_bytes()
        for secret in (UK_ADDRESS, "ada%40example.org", "ada@example.org", "ada+lovelace", CHROME, "Win64"):
            assert secret.encode() not in raw, secret


def test_bad_beacons_are_refused_with_a_reason(client, instance):
    cid = _id()
    _choose(client, cid, ["analytics"])
    cases = [
        (b"not json", 422, "invalid_json"),
        (json.dumps([1, 2]).encode(), 422, "invalid_event"),
        (json.dumps({"cid": "x", "vid": _id(), "type": "view"}).encode(), 422, "invalid_event"),
        (json.dumps({"cid": cid, "vid": _id(), "events": []}).encode(), 422, "invalid_event"),
        (json.dumps({"cid": cid, "vid": _id(), "type": "teleport"}).encode(), 422, "invalid_event"),
        (json.dumps({"cid": cid, "vid": _id(), "events": [{"type": "view"}] * 51}).encode(), 422, "invalid_event"),
        (b"x" * 40_000, 413, "too_large"),
    ]
    for body, status, code in cases:
        response = client.post("/t", content=body, headers={"content-type": "text/plain"})
        assert (response.status_code, response.json()["error"]) == (status, code), body[:60]
    # /t is a plain Starlette route: a wrong method still gets the API's JSON error, not a bare text page.
    wrong_method = client.get("/t")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    assert _choose(client, "bad id", []).status_code == 422
    unknown = _choose(client, _id(), ["tracking_pixels"])
    assert unknown.status_code == 422 and "tracking_pixels" in unknown.json()["message"]
    assert _count(instance) == 0


def _run_rollup(instance):
    with instance.engine.begin() as conn:
        jobs.enqueue(conn, kind="traffic.rollup")
    Worker(instance).run_until_idle()


def test_ck5_raw_events_are_rolled_up_daily_then_deleted_after_the_window(client, instance):
    day = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    clock.travel_to(day)
    visitors = [(_id(), _id()) for _ in range(3)]
    for cid, _ in visitors:
        _choose(client, cid, ["analytics"])
    for i, (cid, vid) in enumerate(visitors):
        _track(
            client,
            cid,
            vid,
            [{"type": "view", "page": "/", "ref": "https://news.example/a"}],
            headers={"User-Agent": IPHONE if i else CHROME},
        )
        clock.advance(dt.timedelta(minutes=5))
        _track(client, cid, vid, [{"type": "view", "page": "/pricing"}], headers={"User-Agent": CHROME})
    # The first visitor comes back two hours later: a second visit.
    clock.advance(dt.timedelta(hours=2))
    _track(client, visitors[0][0], visitors[0][1], [{"type": "view", "page": "/"}], headers={"User-Agent": CHROME})
    _run_rollup(instance)  # the day is not over: nothing is rolled up
    assert _count(instance, traffic_daily) == 0

    clock.travel_to(day + dt.timedelta(days=1, hours=1))
    _run_rollup(instance)
    _run_rollup(instance)  # running twice counts nothing twice
    with instance.engine.connect() as conn:
        counts = {(r.metric, r.dimension, r.value): r.count for r in conn.execute(select(traffic_daily))}
        raw = conn.execute(select(traffic_events.c.rolled_up)).scalars().all()
    assert counts[("views", "total", "all")] == 7
    assert counts[("visitors", "total", "all")] == 3
    assert counts[("visits", "total", "all")] == 4
    assert counts[("views", "page", "/")] == 4 and counts[("views", "page", "/pricing")] == 3
    assert counts[("views", "referrer", "news.example")] == 3
    assert counts[("visitors", "device_class", "mobile")] == 2
    assert counts[("seconds", "total", "all")] == 3 * 300
    assert raw == [True] * 7  # still inside the declared 7-day window

    operator = operator_headers(client, instance, "marketer")
    report = client.get("/api/v1/reports/traffic", params={"from": "2026-03-10", "to": "2026-03-10"}, headers=operator)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["daily"] == [{"day": "2026-03-10", "views": 7, "visitors": 3, "visits": 4, "seconds": 900}]
    assert body["breakdown"]["views"]["page"][0] == {"value": "/", "count": 4}
    assert body["pending_events"] == 0
    assert not any(cid in report.text or vid in report.text for cid, vid in visitors)
    support = operator_headers(client, instance, "support_agent")
    assert client.get("/api/v1/reports/traffic", headers=support).status_code == 403
    bad = client.get("/api/v1/reports/traffic", params={"from": "2026-03-11", "to": "2026-03-10"}, headers=operator)
    assert bad.status_code == 422

    clock.travel_to(day + dt.timedelta(days=7, hours=1))
    _run_rollup(instance)
    assert _count(instance) == 1  # the last event is not 7 days old yet
    clock.travel_to(day + dt.timedelta(days=7, hours=3))
    _run_rollup(instance)
    assert _count(instance) == 0
    assert _count(instance, traffic_daily) == len(counts)


def test_col5_visits_and_purchases_are_counted_per_known_subject_where_declared(tmp_path, backend):
    """With `per_subject_counts` (Wespro: "The number of times you access the page. The number of times you have
    shopped on our web site."), visits and purchases are counted per known subject; the counts go with erasure."""
    text = (
        (POLICIES / "wsoutsourcer.yaml")
        .read_text()
        .replace("  raw_retention: P7D\n", "  raw_retention: P7D\n  per_subject_counts: true\n")
        .replace("collect: [pages, links, visit_counts,", "collect: [pages, links, visit_counts, purchase_counts,")
    )
    instance, result = instances.create(tmp_path / "counted", text, database_url=backend)
    try:
        with TestClient(create_app(instance)) as client:
            client.service = {"Authorization": f"Bearer {result.api_key}"}
            subject_id = register(client)
            consents = service_headers(instance, "consents")
            cid, vid = _id(), _id()
            _choose(client, cid, ["analytics"])
            client.post(f"/api/v1/subjects/{subject_id}/consents", json={"visitor_id": cid}, headers=consents)
            events = [{"type": "view", "page": "/", "visit": True}, {"type": "purchase", "page": "/checkout"}]
            assert _track(client, cid, vid, events).status_code == 204
            assert _track(client, cid, vid, [{"type": "view", "page": "/", "visit": True}]).status_code == 204
            assert _track(client, cid, vid, [{"type": "view", "page": "/about"}]).status_code == 204
            # An anonymous visitor is counted in the totals only.
            other = _id()
            _choose(client, other, ["analytics"])
            assert _track(client, other, _id(), events).status_code == 204
            with instance.engine.connect() as conn:
                counts = {
                    r.metric: r.count
                    for r in conn.execute(
                        select(traffic_subject_counts).where(traffic_subject_counts.c.subject_id == subject_id)
                    )
                }
            assert counts == {"visits": 2, "purchases": 1}
            assert _count(instance, traffic_subject_counts) == 2
            from vowkeep.vault.actors import Actor

            with instance.vault.transaction() as conn:
                instance.vault.erase_subject(conn, actor=Actor.system("test"), subject_id=subject_id, reason="erasure")
            assert _count(instance, traffic_subject_counts) == 0
    finally:
        instance.close()


def test_ck5_traffic_cli_rolls_up_and_reports(client, instance, cli):
    day = dt.datetime(2026, 4, 2, 12, 0, tzinfo=dt.UTC)
    clock.travel_to(day)
    cid, vid = _id(), _id()
    _choose(client, cid, ["analytics"])
    _track(client, cid, vid, [{"type": "view", "page": "/"}, {"type": "view", "page": "/about"}])
    clock.travel_to(day + dt.timedelta(days=1))
    env = {"VOWKEEP_DATABASE_URL": instance.settings.database_url}
    data_dir = instance.settings.data_dir
    rolled = cli("traffic", "rollup", "--data-dir", data_dir, env=env)
    assert rolled.exit_code == 0, rolled.output
    assert rolled.stdout.strip() == "rolled up 2 events (days: 2026-04-02); deleted 0 raw events past the window"
    report = cli("traffic", "report", "--from", "2026-04-01", "--to", "2026-04-02", "--data-dir", data_dir, env=env)
    assert report.exit_code == 0, report.output
    lines = report.stdout.splitlines()
    assert lines[0].split() == ["day", "views", "visitors", "visits"]
    assert lines[1].split() == ["2026-04-02", "2", "1", "1"]
    bad = cli("traffic", "report", "--from", "April", "--data-dir", data_dir, env=env)
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.stderr

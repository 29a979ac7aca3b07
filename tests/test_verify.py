"""`vowkeep verify` (TOOL-3): a live instance checked against its own declaration. A clean instance with real data
passes; each planted violation — a tampered audit record, a backdated item, an undeclared category, a dropped
consent, a plaintext copy, an undeclared recipient, a minor, a missing or left-over data key, a late answer, a
changed declaration file — is caught, named in the text and the JSON, with exit 1. Both databases."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import delete, insert, select, update

from tests.support.api import REGISTRATION, operator_headers, register, service_headers
from tests.support.rights import deliver, filed_and_verified, mailbox
from vowkeep import clock
from vowkeep.store.tables import (
    audit_log,
    consent_records,
    disclosure_subjects,
    disclosures,
    holds,
    items,
    minor_reports,
    rights_requests,
)
from vowkeep.store.tables import subjects as subjects_table

pytestmark = pytest.mark.postgres
ADA = REGISTRATION["email"]
GRACE = {
    **REGISTRATION,
    "email": "grace.hopper-7c1@example.org",
    "first_name": "Gracehopper",
    "last_name": "Brewster-Murray",
    "phone": "+442079460777",
}
INQUIRY = {"email": "carol.inquirer-41d@example.org", "message": "Where-is-my-parcel-QX7"}


def verify(cli, instance, *args):
    """`vowkeep verify` against the instance, on its backend; returns (result, JSON report when --json)."""
    env = {"VOWKEEP_DATABASE_URL": instance.settings.database_url}
    result = cli("verify", "--data-dir", instance.settings.data_dir, *args, env=env)
    return result


def report_of(cli, instance, *args):
    result = verify(cli, instance, "--json", *args)
    return result, json.loads(result.stdout)


def failed(report: dict) -> set[str]:
    return {c["name"] for c in report["checks"] if not c["passed"]}


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def _approve(client, instance, request_id, who="olga"):
    reviewer = operator_headers(client, instance, "privacy_officer", f"{who}-{request_id[:6]}")
    response = client.post(f"/api/v1/requests/{request_id}/approve", headers=reviewer)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def populated(client, instance):
    """Real data through the API: two registrations, an inquiry, a consent and a read for its purpose, a released
    disclosure, a fulfilled access request and a fulfilled erasure (whose key is destroyed)."""
    ada = register(client)
    grace = register(client, GRACE)
    inquiry = client.post("/api/v1/collect/inquiry", json=INQUIRY, headers=client.service)
    assert inquiry.status_code == 201, inquiry.text
    consents = service_headers(instance, "consents")
    given = client.post(
        f"/api/v1/subjects/{ada}/consents", json={"purpose": "partner_offers", "choice": "given"}, headers=consents
    )
    assert given.status_code == 201, given.text
    reader = service_headers(instance, "purpose:partner_offers", name="partners-sync")
    read = client.get(f"/api/v1/subjects/{ada}", params={"purpose": "partner_offers"}, headers=reader)
    assert read.status_code == 200, read.text
    discloser = service_headers(instance, "disclosures", "purpose:account", name="sync")
    shared = client.post(
        "/api/v1/disclosures",
        json={"recipient": "hosting", "purpose": "account", "categories": ["user.contact.email"], "subject_ids": [ada]},
        headers=discloser,
    )
    assert shared.status_code == 201, shared.text
    with mailbox(instance) as inbox:
        access_id, _ = filed_and_verified(client, instance, inbox, "access", ADA)
        _approve(client, instance, access_id)
        erase_id, _ = filed_and_verified(client, instance, inbox, "erase", GRACE["email"])
        _approve(client, instance, erase_id, "quinn")
        deliver(instance)
    assert not instance.keystore.has_data_key(grace)
    return {
        "ada": ada,
        "grace": grace,
        "carol": inquiry.json()["subject_id"],
        "access": access_id,
        "erase": erase_id,
        "disclosure": shared.json()["disclosure"]["id"],
    }


def test_tool3_a_clean_instance_with_real_data_conforms(cli, instance, populated, sample_policy_path):
    """TOOL-3: every check passes on an instance that only ever went through vowkeep; exit 0, in text and JSON."""
    result = verify(cli, instance, "--policy", sample_policy_path)
    assert result.exit_code == 0, result.stdout
    assert "the instance conforms to its declaration" in result.stdout
    assert re.search(r"^PASS  audit-chain", result.stdout, re.M)
    result, report = report_of(cli, instance, "--policy", sample_policy_path)
    assert result.exit_code == 0 and report["ok"] is True
    assert {c["status"] for c in report["checks"]} == {"pass"}
    assert len(report["checks"]) == 10
    # Not vacuous: the checks saw the data.
    assert "1 read for consent-based purposes" in check(report, "consent-at-read")["summary"]
    assert "1 released disclosure" in check(report, "disclosures")["summary"]
    assert "2 requests (2 answered)" in check(report, "request-deadlines")["summary"]
    assert "2 dates of birth" not in check(report, "minimum-age")["summary"]  # Grace was erased: only Ada's
    assert "1 date of birth" in check(report, "minimum-age")["summary"]
    plaintext = check(report, "no-plaintext")["summary"]
    assert re.search(r"(\d+) values? looked for", plaintext) and int(re.search(r"(\d+) values? looked", plaintext)[1])
    if instance.settings.is_sqlite:
        assert "vowkeep.db-wal" in plaintext and "keys.db" in plaintext
    else:
        assert "the data database's files not applicable (on postgresql" in plaintext
        assert "the key store's files (keys.db" in plaintext
    # Each run that decrypted values says so in the audit log.
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        scans = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "verify:scan")).scalars().all()
    assert len(scans) == 2 and scans[0]["items"] > 0


def test_tool3_sec3_a_tampered_audit_record_is_caught(cli, instance, populated):
    """TOOL-3, SEC-3: an edited audit record breaks the chain; verify names the record."""
    instance.vault.settle_audit()
    with instance.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(actor="operator:nobody"))
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"audit-chain"}
    [finding] = check(report, "audit-chain")["findings"]
    assert "record 3 was altered or moved" in finding["message"]
    text = verify(cli, instance)
    assert text.exit_code == 1 and re.search(r"^FAIL  audit-chain", text.stdout, re.M)


def test_tool3_ret1_a_backdated_item_past_retention_is_caught(cli, instance, populated):
    """TOOL-3, RET-1: an inquiry whose subject's last activity is backdated past its retention (support: P1M
    after last activity) and that no sweep removed is named, item by item."""
    carol = populated["carol"]
    with instance.engine.begin() as conn:
        conn.execute(
            update(subjects_table)
            .where(subjects_table.c.id == carol)
            .values(last_activity_at=clock.now() - timedelta(days=45))
        )
        carol_items = set(conn.execute(select(items.c.id).where(items.c.subject_id == carol)).scalars())
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"retention"}
    found = {f["refs"]["item"] for f in check(report, "retention")["findings"]}
    assert found == carol_items
    assert all(carol in f["message"] for f in check(report, "retention")["findings"])


def test_tool3_ret3_held_items_are_not_past_retention(cli, instance, populated):
    """TOOL-3, RET-3: of a backdated subject's items, those an open hold covers are kept lawfully and not named."""
    carol = populated["carol"]
    with instance.engine.begin() as conn:
        conn.execute(
            update(subjects_table)
            .where(subjects_table.c.id == carol)
            .values(last_activity_at=clock.now() - timedelta(days=45))
        )
        conn.execute(
            insert(holds).values(
                id=uuid.uuid4().hex,
                subject_id=carol,
                hold_key="fraud_investigation",
                purpose="fraud_prevention",
                categories="user.contact",
                reason="Fraud investigation",
                placed_by="operator:olga",
                placed_at=clock.now(),
                ends_at=clock.now() + timedelta(days=10),
            )
        )
        message = conn.execute(
            select(items.c.id).where(items.c.subject_id == carol, items.c.category == "user.content.private")
        ).scalar()
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"retention"}
    assert [f["refs"]["item"] for f in check(report, "retention")["findings"]] == [message]


def test_tool3_col1_an_item_of_a_category_its_purposes_do_not_declare_is_caught(cli, instance, populated):
    """TOOL-3, COL-1: a row edited so that an item's purposes no longer declare its category."""
    ada = populated["ada"]
    with instance.engine.begin() as conn:
        phone = conn.execute(select(items.c.id).where(items.c.subject_id == ada, items.c.field == "phone")).scalar()
        conn.execute(update(items).where(items.c.id == phone).values(purposes="support"))
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and "declared-categories" in failed(report)
    [finding] = check(report, "declared-categories")["findings"]
    assert finding["refs"]["item"] == phone and "none of its purposes (support) declares it" in finding["message"]


def test_tool3_use3_a_read_without_consent_at_that_moment_is_caught(cli, instance, populated):
    """TOOL-3, USE-3: the consent behind a read for an opt-in purpose is dropped from the ledger; the audit log's
    read no longer has a consent at its moment."""
    instance.vault.settle_audit()
    with instance.engine.begin() as conn:
        conn.execute(
            delete(consent_records).where(
                consent_records.c.subject_id == populated["ada"], consent_records.c.purpose == "partner_offers"
            )
        )
        seq = conn.execute(
            select(audit_log.c.seq).where(audit_log.c.action == "read", audit_log.c.purpose == "partner_offers")
        ).scalar()
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"consent-at-read"}
    [finding] = check(report, "consent-at-read")["findings"]
    assert finding["refs"] == {"seq": seq, "subject": populated["ada"], "purpose": "partner_offers"}
    assert "consent-required" in finding["message"]


def test_tool3_sec1_a_plaintext_copy_in_a_table_is_caught_without_showing_it(cli, instance, populated):
    """TOOL-3, SEC-1: a decrypted value copied into any column is found — table, column, row and whose value —
    and the report never prints the value itself."""
    ada = populated["ada"]
    with instance.engine.begin() as conn:
        conn.execute(
            update(subjects_table).where(subjects_table.c.id == populated["carol"]).values(state_reason=ADA.upper())
        )
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"no-plaintext"}
    findings = check(report, "no-plaintext")["findings"]
    in_tables = [f["refs"] for f in findings if "table" in f["refs"]]
    # The address, and Ada's last name within it: each value found is named by its item.
    assert {(r["table"], r["column"], r["row"], r["subject"]) for r in in_tables} == {
        ("subjects", "state_reason", populated["carol"], ada)
    }
    assert len({r["item"] for r in in_tables}) == 2
    in_files = [f["refs"] for f in findings if "file" in f["refs"]]
    if instance.settings.is_sqlite:
        # The raw files hold it too (the WAL, until it is folded into the database): named with the byte offset.
        assert in_files and {r["file"] for r in in_files} <= {"vowkeep.db", "vowkeep.db-wal"}
        assert all(r["subject"] == ada and r["offset"] >= 0 for r in in_files)
    else:
        assert in_files == []
    assert ADA.lower() not in result.stdout.lower()
    text = verify(cli, instance, "--html", instance.settings.data_dir / "report.html")
    assert ADA.lower() not in text.stdout.lower()
    page = (instance.settings.data_dir / "report.html").read_text()
    assert "subjects.state_reason" in page and ADA.lower() not in page.lower()


def test_tool3_sec1_an_altered_ciphertext_is_caught(cli, instance, populated):
    """TOOL-3, SEC-1: an edited row whose value no longer decrypts is named."""
    with instance.engine.begin() as conn:
        row = conn.execute(select(items.c.id, items.c.ciphertext).where(items.c.subject_id == populated["ada"])).first()
        altered = bytes(row.ciphertext[:-1]) + bytes([row.ciphertext[-1] ^ 1])
        conn.execute(update(items).where(items.c.id == row.id).values(ciphertext=altered))
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and "no-plaintext" in failed(report)
    assert any(
        f["refs"]["item"] == row.id and "does not decrypt" in f["message"]
        for f in check(report, "no-plaintext")["findings"]
    )


def test_tool3_shr1_a_disclosure_to_an_undeclared_recipient_is_caught(cli, instance, populated):
    """TOOL-3, SHR-1: a disclosure written straight into the register, to a recipient the declaration does not
    have, and one of a category the recipient is not declared for."""
    rows = [
        ("<b>broker</b>", "account", "user.contact.email", "recipient '<b>broker</b>' is not declared"),
        ("hosting", "account", "user.demographic.date_of_birth", "not declared to receive"),
    ]
    ids = []
    with instance.engine.begin() as conn:
        for recipient, purpose, categories, _ in rows:
            disclosure_id = uuid.uuid4().hex
            ids.append(disclosure_id)
            conn.execute(
                insert(disclosures).values(
                    id=disclosure_id,
                    recipient=recipient,
                    recipient_kind="partner",
                    purpose=purpose,
                    categories=categories,
                    legal_basis="contract",
                    kind="routine",
                    sealed=b"\x00",
                    state="released",
                    subject_count=1,
                    requested_by="operator:mallory",
                    requested_at=clock.now(),
                    released_at=clock.now(),
                )
            )
            conn.execute(insert(disclosure_subjects).values(disclosure_id=disclosure_id, subject_id=populated["ada"]))
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"disclosures"}
    findings = check(report, "disclosures")["findings"]
    assert [f["refs"]["disclosure"] for f in findings] == ids
    for finding, (_, _, _, said) in zip(findings, rows, strict=True):
        assert said in finding["message"]
    # The HTML report is one standalone page, and what a row says is escaped in it.
    html_file = instance.settings.data_dir / "conformance.html"
    assert verify(cli, instance, "--html", html_file).exit_code == 1
    page = html_file.read_text()
    assert "recipient &#x27;&lt;b&gt;broker&lt;/b&gt;&#x27; is not declared" in page and "<b>broker" not in page
    assert "<script" not in page and "<link" not in page and "http" not in page


def test_tool3_min1_a_subject_below_the_minimum_age_is_caught(cli, client, instance, populated):
    """TOOL-3, MIN-1: a date of birth corrected to a child's (18 is the minimum) is found by decrypting it."""
    support = operator_headers(client, instance, "support_agent", "sam")
    young = (clock.now().date() - timedelta(days=365 * 12)).isoformat()
    changed = client.patch(
        f"/api/v1/subjects/{populated['ada']}",
        json={"purpose": "account", "values": {"date_of_birth": young}},
        headers=support,
    )
    assert changed.status_code == 200, changed.text
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"minimum-age"}
    [finding] = check(report, "minimum-age")["findings"]
    assert finding["refs"]["subject"] == populated["ada"] and young not in result.stdout


def test_tool3_min2_a_reported_minor_left_active_past_the_review_is_caught(cli, instance, populated):
    """TOOL-3, MIN-2: a report that a subject is a minor, written straight into the table, whose subject was neither
    deactivated nor erased by the time the report set."""
    report_id = uuid.uuid4().hex
    with instance.engine.begin() as conn:
        conn.execute(
            insert(minor_reports).values(
                id=report_id,
                subject_id=populated["ada"],
                channel="form",
                reported_by="form",
                reported_at=clock.now() - timedelta(days=5),
                state="pending",
                erase_at=clock.now() - timedelta(days=2),
            )
        )
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"minimum-age"}
    messages = [f["message"] for f in check(report, "minimum-age")["findings"]]
    assert len(messages) == 2 and all(report_id in m for m in messages)
    assert "is still active" in messages[0] and "is not erased" in messages[1]


def test_tool3_ret4_a_missing_key_and_a_left_over_key_are_caught(cli, instance, populated):
    """TOOL-3, RET-4: a live subject whose data key was deleted, and an erased subject who has a key again."""
    instance.keystore.destroy_data_key(populated["carol"])
    instance.keystore.create_data_key(populated["grace"])
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and "data-keys" in failed(report)
    findings = {f["refs"]["subject"]: f["message"] for f in check(report, "data-keys")["findings"]}
    assert set(findings) == {populated["carol"], populated["grace"]}
    assert "has no data key" in findings[populated["carol"]]
    assert "is erased and nothing of it is held, but its data key exists" in findings[populated["grace"]]


def test_tool3_rig9_a_request_answered_late_is_caught(cli, client, instance, populated):
    """TOOL-3, RIG-9: a request verified, then left 31 days (the deadline is 30) before it is approved."""
    with mailbox(instance) as inbox:
        request_id, _ = filed_and_verified(client, instance, inbox, "access", INQUIRY["email"])
    clock.travel_to(clock.now() + timedelta(days=31), frozen=False)
    _approve(client, instance, request_id, "late")
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and "request-deadlines" in failed(report)
    [finding] = check(report, "request-deadlines")["findings"]
    assert finding["refs"]["request"] == request_id and "was fulfilled 1 day after its due date" in finding["message"]


def test_tool3_rig9_a_due_date_later_than_declared_is_caught(cli, instance, populated):
    """TOOL-3, RIG-9: a request row edited to be due later than the declared deadline allows."""
    with instance.engine.begin() as conn:
        due = conn.execute(select(rights_requests.c.due_at).where(rights_requests.c.id == populated["access"])).scalar()
        conn.execute(
            update(rights_requests)
            .where(rights_requests.c.id == populated["access"])
            .values(due_at=due + timedelta(days=60))
        )
    result, report = report_of(cli, instance)
    assert result.exit_code == 1 and failed(report) == {"request-deadlines"}
    assert "later than the declared deadline of P30D" in check(report, "request-deadlines")["findings"][0]["message"]


def test_tool3_ntc1_a_changed_declaration_file_is_caught(cli, instance, populated, tmp_path, sample_policy_path):
    """TOOL-3, NTC-1: the published version must be the declaration file — given with --policy, or the instance's
    own (VOWKEEP_POLICY) by default."""
    path = tmp_path / "declaration.yaml"
    path.write_text(sample_policy_path.read_text())
    assert verify(cli, instance, "--policy", path).exit_code == 0
    data = yaml.safe_load(path.read_text())
    data["purposes"][0]["retention"]["period"] = "P2M"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result, report = report_of(cli, instance, "--policy", path)
    assert result.exit_code == 1 and failed(report) == {"published-policy"}
    [finding] = check(report, "published-policy")["findings"]
    assert "published version 1" in finding["message"] and "longer_retention" in finding["message"]
    env = {"VOWKEEP_DATABASE_URL": instance.settings.database_url, "VOWKEEP_POLICY": str(path)}
    by_default = cli("verify", "--data-dir", instance.settings.data_dir, env=env)
    assert by_default.exit_code == 1 and re.search(r"^FAIL  published-policy", by_default.stdout, re.M)
    # Without a file to compare with, the check says so rather than passing.
    _, report = report_of(cli, instance)
    assert check(report, "published-policy")["status"] == "not_applicable"


def _sign_in(client, username, password):
    form = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    signed = client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text


def test_tool3_the_console_shows_the_same_report(client, instance, populated):
    """TOOL-3: `/admin/conformance` shows the report to a signed-in operator whose role may read the audit log;
    a planted violation shows there as it does in the CLI; other roles get a 403, strangers the sign-in page."""
    from vowkeep.vault import operators

    assert client.get("/admin/conformance", follow_redirects=False).headers["location"] == "/admin/login"
    _sign_in(client, client.creds.admin_username, client.creds.admin_password)
    page = client.get("/admin/conformance")
    assert page.status_code == 200 and "The instance conforms to its declaration." in page.text
    assert '<a href="/admin/conformance" aria-current="page">Conformance</a>' in page.text
    assert page.text.count("<strong>PASS</strong>") == 9 and "<strong>N/A</strong>" in page.text
    instance.vault.settle_audit()
    with instance.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(categories="user.<b>x</b>"))
        conn.execute(
            update(subjects_table)
            .where(subjects_table.c.id == populated["carol"])
            .values(state_reason=REGISTRATION["phone"])
        )
    page = client.get("/admin/conformance")
    assert page.status_code == 200 and "The instance does not conform to its declaration." in page.text
    assert "chain broken at record 2" in page.text and "<b>x</b>" not in page.text
    assert "subjects.state_reason" in page.text and REGISTRATION["phone"] not in page.text
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username="mo", role="marketer")
    client.post("/admin/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]})
    _sign_in(client, "mo", password)
    refused = client.get("/admin/conformance")
    assert refused.status_code == 403 and "conformance" in refused.text and "subjects.state_reason" not in refused.text


def test_tool3_a_check_that_cannot_run_fails_the_report_without_showing_its_error(instance):
    """TOOL-3: a check that raises is reported as an error — a failure — by the exception's type only (its text
    could carry a value), and the other checks still report."""
    from vowkeep.verify import report
    from vowkeep.verify.audit_chain import audit_chain

    def leaky_check(ctx):
        raise RuntimeError(ADA)

    result = report.run(instance, checks=(leaky_check, audit_chain))
    assert not result.ok
    broken, chain = result.as_dict()["checks"]
    assert broken["status"] == "error" and broken["summary"] == "the check could not run: RuntimeError"
    assert chain["status"] == "pass"
    for rendered in (report.render_text(result), report.render_json(result), report.render_html(result)):
        assert ADA not in rendered
    assert "ERR   leaky-check" in report.render_text(result)

"""A declaration with `review: automatic`, restriction offered and requests taken by phone: a verified request is
fulfilled at once (RIG-8, RIG-9); restriction stops processing and can be undone (RIG-4); operators file requests
received by phone (RIG-10); requests never verified expire and reports are not kept past their time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.api import REGISTRATION, operator_headers, register
from tests.support.rights import (
    auth,
    deliver,
    file_request,
    filed_and_verified,
    last_code,
    mailbox,
    outcome_mail,
    verify,
    write_declaration,
)
from vowkeep import clock
from vowkeep.store.tables import request_subjects, rights_requests
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres
EMAIL = REGISTRATION["email"]


@pytest.fixture
def sample_policy_path(tmp_path):
    return write_declaration(
        tmp_path,
        review="automatic",
        offered=["access", "rectify", "erase", "deactivate", "restrict", "object", "portability"],
        channels=["center", "phone"],
        deadline="P45D",
    )


def test_rig9_automatic_review_fulfils_as_soon_as_the_code_comes_back(client, instance):
    """RIG-8, RIG-9: with automatic review, verification is the last step: the report is ready at once, and the
    due date follows the declared deadline (45 days here)."""
    register(client)
    with mailbox(instance) as inbox:
        filed = file_request(client, "access", EMAIL)
        assert filed["due_at"][:10] == (clock.now() + timedelta(days=45)).date().isoformat()
        deliver(instance)
        token = verify(client, filed["id"], last_code(inbox, EMAIL))
        seen = client.get(f"/api/v1/requests/{filed['id']}", headers=auth(token)).json()
        assert seen["state"] == "fulfilled" and seen["report"]["page"] == f"/requests/{filed['id']}/report"
        report = client.get(f"/api/v1/requests/{filed['id']}/report", headers=auth(token))
        assert report.status_code == 200 and report.json()["subjects"][0]["items"]
        deliver(instance)
        assert outcome_mail(inbox, EMAIL)["Subject"] == "Your access request: done"


def test_rig4_restriction_stops_processing_until_lifted(client, instance):
    """RIG-4: a restricted subject's data is kept but not used; reactivation lifts it."""
    subject_id = register(client)
    support = operator_headers(client, instance, "support_agent")
    with mailbox(instance) as inbox:
        filed_and_verified(client, instance, inbox, "restrict", EMAIL)
        read = client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=support)
        assert read.status_code == 403 and read.json()["rule"] == "subject-restricted"
        filed_and_verified(client, instance, inbox, "reactivate", EMAIL)
    assert (
        client.get(f"/api/v1/subjects/{subject_id}", params={"purpose": "account"}, headers=support).status_code == 200
    )


def test_rig10_an_operator_files_a_request_received_by_phone(client, instance):
    """RIG-10: a helpline request is filed by an operator with `review_requests`; the e-mail code still decides."""
    register(client)
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    with mailbox(instance) as inbox:
        filed = file_request(client, "erase", EMAIL, channel="phone", headers=reviewer, note="Called the helpline")
        deliver(instance)
        code = last_code(inbox, EMAIL)
        verify(client, filed["id"], code)
    seen = client.get(f"/api/v1/requests/{filed['id']}", headers=reviewer).json()
    assert (seen["channel"], seen["state"], seen["filed_by"]) == ("phone", "fulfilled", "operator:olga")
    assert seen["contact"] is None  # the address is forgotten once the request is decided


def test_rig8_unverified_requests_expire_and_reports_are_not_kept(client, instance):
    """RIG-8: a request whose code never comes back expires after a week, forgetting the address; a report is
    deleted 30 days after the decision."""
    register(client)
    with mailbox(instance) as inbox:
        idle = file_request(client, "erase", "someone@example.org")
        done_id, _ = filed_and_verified(client, instance, inbox, "access", EMAIL)
    clock.travel_to(clock.now() + timedelta(days=8))
    worker = Worker(instance)
    worker.schedule_periodic()
    worker.run_until_idle()
    reviewer = operator_headers(client, instance, "privacy_officer", "olga")
    expired = client.get(f"/api/v1/requests/{idle['id']}", headers=reviewer).json()
    assert expired["state"] == "expired" and expired["contact"] is None
    with instance.engine.connect() as conn:
        assert (
            conn.execute(select(rights_requests.c.contact_digest).where(rights_requests.c.id == idle["id"])).scalar()
            is None
        )
        kept = conn.execute(
            select(request_subjects.c.sealed_result).where(request_subjects.c.request_id == done_id)
        ).scalar()
    assert kept is not None
    clock.travel_to(clock.now() + timedelta(days=23))
    worker.schedule_periodic()
    worker.run_until_idle()
    with instance.engine.connect() as conn:
        kept = conn.execute(
            select(request_subjects.c.sealed_result).where(request_subjects.c.request_id == done_id)
        ).scalar()
    assert kept is None

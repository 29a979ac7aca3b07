"""Durable jobs and SMTP: mail queued with a change is sent by the worker through a real SMTP server; jobs retry
with backoff and survive a crashed worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import instances
from tests.support.api import REGISTRATION, register
from tests.support.smtp import free_port, smtp_server
from vowkeep import clock
from vowkeep.comms import outbox
from vowkeep.store import jobs
from vowkeep.store.tables import jobs as jobs_table
from vowkeep.store.tables import outbox as outbox_table
from vowkeep.worker import Worker

pytestmark = pytest.mark.postgres


def _with_smtp(instance, url):
    from dataclasses import replace

    instance.settings = replace(instance.settings, smtp_url=url)
    return instance


def _queue_service_mail(instance, subject_id, **context):
    with instance.vault.transaction() as conn:
        return outbox.queue(
            conn,
            vault=instance.vault,
            template="notice",
            kind="service",
            subject_id=subject_id,
            purpose="service_messages",
            context={"subject": "Your account", "body": "Hello.", "organization": "WS Outsourcer", **context},
        )


def test_queued_mail_is_sent_through_smtp_to_the_address_read_through_the_gate(client, instance):
    subject_id = register(client)
    with smtp_server() as (inbox, url):
        _with_smtp(instance, url)
        outbox_id = _queue_service_mail(instance, subject_id)
        assert Worker(instance).run_until_idle() == 1
    [message] = inbox.messages
    assert message["To"] == REGISTRATION["email"]
    assert message["Subject"] == "Your account"
    assert "Hello." in message.get_content()
    assert message["From"] == "support@wsoutsourcer.com"
    with instance.engine.connect() as conn:
        row = conn.execute(select(outbox_table).where(outbox_table.c.id == outbox_id)).first()
    assert row.state == "sent" and row.message_id == message["Message-ID"]
    assert REGISTRATION["email"].encode() not in row.sealed


def test_smtp_starttls_and_auth(client, instance, tmp_path):
    subject_id = register(client)
    with smtp_server(tls_dir=tmp_path, username="mailer", password="s3cret-pass") as (inbox, url):
        _with_smtp(instance, url)
        _queue_service_mail(instance, subject_id)
        Worker(instance).run_until_idle()
        assert len(inbox.messages) == 1
    with smtp_server(tls_dir=tmp_path, username="mailer", password="s3cret-pass") as (inbox, url):
        _with_smtp(instance, url.replace("s3cret-pass", "wrong"))
        _queue_service_mail(instance, subject_id)
        Worker(instance).run_until_idle()
        assert inbox.messages == []
    with instance.engine.connect() as conn:
        job = conn.execute(
            select(jobs_table).where(jobs_table.c.kind == "mail.send").order_by(jobs_table.c.id.desc())
        ).first()
    assert job.state == "queued" and job.attempts == 1
    assert "SMTP delivery failed" in job.last_error


def test_failed_delivery_retries_with_backoff_until_the_server_answers(client, instance):
    subject_id = register(client)
    port = free_port()
    _with_smtp(instance, f"smtp://127.0.0.1:{port}")
    _queue_service_mail(instance, subject_id)
    worker = Worker(instance)
    assert worker.run_until_idle() == 1  # fails: nothing listens
    with instance.engine.connect() as conn:
        job = conn.execute(select(jobs_table).where(jobs_table.c.kind == "mail.send")).first()
    assert job.state == "queued" and job.attempts == 1
    assert job.run_at > clock.now() + timedelta(seconds=3)
    assert worker.run_until_idle() == 0  # not due yet
    clock.travel_to(job.run_at + timedelta(seconds=1))
    with smtp_server(port=port) as (inbox, _):
        assert worker.run_until_idle() == 1
    assert len(inbox.messages) == 1


def test_without_an_smtp_server_mail_stays_queued_until_one_is_configured(client, instance, caplog):
    """With no VOWKEEP_SMTP_URL the worker leaves mail alone (it says so once) rather than spending its attempts;
    once a server is configured the same message goes out."""
    subject_id = register(client)
    _with_smtp(instance, None)
    _queue_service_mail(instance, subject_id)
    worker = Worker(instance)
    clock.travel_to(clock.now() + timedelta(days=2))
    with caplog.at_level("WARNING", logger="vowkeep.worker"):
        worker.run_until_idle()
        worker.run_until_idle()
    assert [r.getMessage() for r in caplog.records].count(
        "VOWKEEP_SMTP_URL is not set: mail stays queued until it is"
    ) == 1
    with instance.engine.connect() as conn:
        job = conn.execute(select(jobs_table).where(jobs_table.c.kind == "mail.send")).first()
    assert job.state == "queued" and job.attempts == 0
    with smtp_server() as (inbox, url):
        _with_smtp(instance, url)
        assert worker.run_until_idle() == 1
    assert len(inbox.messages) == 1


def test_a_job_survives_a_crashed_worker(client, instance):
    """A job claimed by a worker that dies is claimed again once its lease runs out."""
    subject_id = register(client)
    with smtp_server() as (inbox, url):
        _with_smtp(instance, url)
        _queue_service_mail(instance, subject_id)
        claimed = jobs.claim(instance.engine, worker="doomed", kinds=["mail.send"])
        assert claimed is not None  # ...and the worker process dies here
        assert Worker(instance).run_until_idle() == 0
        clock.travel_to(clock.now() + jobs.DEFAULT_LEASE + timedelta(seconds=1))
        assert Worker(instance).run_until_idle() == 1
    assert len(inbox.messages) == 1


def test_job_row_commits_or_rolls_back_with_the_change(client, instance):
    subject_id = register(client)
    with pytest.raises(RuntimeError), instance.vault.transaction() as conn:
        _ = outbox.queue(
            conn,
            vault=instance.vault,
            template="notice",
            kind="service",
            subject_id=subject_id,
            purpose="service_messages",
            context={"subject": "s", "body": "b", "organization": "o"},
        )
        raise RuntimeError("the change failed")
    with instance.engine.connect() as conn:
        assert conn.execute(select(jobs_table).where(jobs_table.c.kind == "mail.send")).first() is None
        assert conn.execute(select(outbox_table)).first() is None


def test_mail_for_an_erased_subject_is_not_sent(client, instance):
    subject_id = register(client)
    from vowkeep.vault.actors import Actor

    with smtp_server() as (inbox, url):
        _with_smtp(instance, url)
        _queue_service_mail(instance, subject_id)
        # Read the ids first: on SQLite a second connection inside a unit of work would wait for its lock.
        item_ids = _item_ids(instance, subject_id)
        with instance.vault.transaction() as conn:
            instance.vault.delete_items(
                conn, actor=Actor.system("t"), subject_id=subject_id, item_ids=item_ids, reason="erasure"
            )
            instance.vault.close_subject(conn, actor=Actor.system("t"), subject_id=subject_id, reason="erasure")
        Worker(instance).run_until_idle()
    assert inbox.messages == []


def _item_ids(instance, subject_id):
    from vowkeep.store.tables import items

    with instance.engine.connect() as conn:
        return list(conn.execute(select(items.c.id).where(items.c.subject_id == subject_id)).scalars())


def test_postgres_workers_share_the_queue_without_double_claims(tmp_path, backend, sample_policy_path):
    """Several workers claim distinct jobs (FOR UPDATE SKIP LOCKED on PostgreSQL; the write lock on SQLite)."""
    import threading

    instance, _ = instances.create(tmp_path / "d", sample_policy_path, database_url=backend)
    try:
        with instance.engine.begin() as conn:
            for i in range(40):
                jobs.enqueue(conn, kind="noop", payload={"n": i})
        claimed: list[int] = []
        lock = threading.Lock()

        def take(name):
            while (job := jobs.claim(instance.engine, worker=name, kinds=["noop"])) is not None:
                with lock:
                    claimed.append(job.id)

        threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(claimed) == 40 and len(set(claimed)) == 40
    finally:
        instance.close()

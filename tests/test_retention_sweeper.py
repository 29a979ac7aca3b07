"""The retention sweeper (RET-1, RET-2): items go once no purpose holds them — counted from the declared event, never
past the policy-wide cap — through `vowkeep sweep`, the scheduled job, idempotently, each deletion audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from tests.support.api import REGISTRATION, register
from vowkeep import clock
from vowkeep.consent import ledger
from vowkeep.policy.duration import Duration
from vowkeep.retention.ends import ran_out
from vowkeep.retention.sweeper import sweep
from vowkeep.store.tables import anonymised_counts, audit_log, items, subjects
from vowkeep.vault.gate import PolicyState

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
MONTH = timedelta(days=31)  # T0 plus one calendar month
MINUTE = timedelta(minutes=1)


def _month_after(moment: datetime) -> datetime:
    return Duration.parse("P1M").add_to(moment)


def _fields(instance, subject_id) -> set[tuple[str, str]]:
    with instance.engine.connect() as conn:
        return {
            (r.collection_point, r.field)
            for r in conn.execute(
                select(items.c.collection_point, items.c.field).where(items.c.subject_id == subject_id)
            )
        }


def _state(instance, subject_id) -> str:
    with instance.engine.connect() as conn:
        return conn.execute(select(subjects.c.state).where(subjects.c.id == subject_id)).scalar_one()


def _inquiry(client, email="bob@example.org") -> str:
    response = client.post(
        "/api/v1/collect/inquiry", json={"email": email, "message": "Where is my order?"}, headers=client.service
    )
    assert response.status_code == 201, response.text
    return response.json()["subject_id"]


def _purchase(client, email=REGISTRATION["email"]) -> str:
    body = {"email": email, "card_token": "tok_1N3fKx2eZvKYlo2C", "card_brand": "visa", "card_last4": "4242"}
    response = client.post("/api/v1/collect/purchase", json=body, headers=client.service)
    assert response.status_code == 201, response.text
    return response.json()["subject_id"]


def _consent(instance, subject_id, purpose, choice):
    with instance.engine.begin() as conn:
        ledger.record(
            conn, purpose=purpose, choice=choice, method="form", policy_version=1, subject_id=subject_id, evidence={}
        )


def _close_account(instance, subject_id):
    # Account termination belongs to the rights workflow; it starts the `account_closure` clock like this.
    with instance.engine.begin() as conn:
        conn.execute(update(subjects).where(subjects.c.id == subject_id).values(closed_at=clock.now()))


def _policy_with(instance, change):
    """The instance's declaration with `change(policy)` applied in memory — for rules lint keeps out of a
    published declaration, which the sweeper must enforce all the same."""
    policy = instance.vault.policy.model_copy(deep=True)
    change(policy)
    instance.vault.use_policy(PolicyState(policy=policy, version=instance.vault.policy_version))


def test_ret1_items_go_a_period_after_their_event_and_not_before(client, instance):
    """RET-1: purchase data (a month after collection) and an inquiry (a month after last activity) are deleted
    once their month is over, not a minute before; the open account's data stays; the emptied subject is closed
    and its data key destroyed."""
    clock.travel_to(T0)
    customer = register(client)
    assert _purchase(client) == customer
    asker = _inquiry(client)
    clock.travel_to(T0 + MONTH - MINUTE)
    early = sweep(instance.vault)
    assert early.items_removed == 0
    clock.travel_to(T0 + MONTH + MINUTE)
    summary = sweep(instance.vault)
    assert summary.items_deleted == 4 + 2 and summary.subjects_closed == 1 and summary.keys_destroyed == 1
    assert {p for p, _ in _fields(instance, customer)} == {"registration"}
    assert _fields(instance, asker) == set()
    assert _state(instance, asker) == "erased" and _state(instance, customer) == "active"
    assert not instance.keystore.has_data_key(asker) and instance.keystore.has_data_key(customer)
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        records = conn.execute(
            select(audit_log).where(audit_log.c.actor == "system:sweeper").order_by(audit_log.c.seq)
        ).all()
    expired = [r for r in records if r.action == "expire"]
    assert sum(r.detail["items"] for r in expired) == 6 and all(r.rule == "retention" for r in expired)
    assert {s for r in expired for s in r.detail["subjects"]} == {customer, asker}
    assert [r.detail["subjects"] for r in records if r.action == "close"] == [[asker]]


def test_ret1_new_activity_restarts_a_last_activity_clock(client, instance):
    """RET-1: a question asked again twenty days later keeps the inquiry a month from then."""
    clock.travel_to(T0)
    asker = _inquiry(client)
    clock.travel_to(T0 + timedelta(days=20))
    assert _inquiry(client) == asker
    clock.travel_to(T0 + MONTH + MINUTE)
    assert sweep(instance.vault).items_removed == 0
    clock.travel_to(_month_after(T0 + timedelta(days=20)) + MINUTE)
    assert sweep(instance.vault).items_removed == 2
    assert _state(instance, asker) == "erased"


def test_ret1_account_data_is_kept_until_a_month_after_closure(client, instance):
    """RET-1: an open account keeps its data however old; once closed, a month later it goes."""
    clock.travel_to(T0)
    customer = register(client)
    clock.travel_to(T0 + timedelta(days=400))
    assert sweep(instance.vault).items_removed == 0
    _close_account(instance, customer)
    end = _month_after(clock.now())
    clock.travel_to(end - MINUTE)
    assert sweep(instance.vault).items_removed == 0
    clock.travel_to(end + MINUTE)
    summary = sweep(instance.vault)
    assert summary.items_deleted == 6 and summary.subjects_closed == 1
    assert not instance.keystore.has_data_key(customer)


def test_ret1_withdrawal_starts_the_clock_of_an_opt_out_purpose(client, instance):
    """RET-1, USE-3: imported marketing leads are kept while nobody objects, and a month after an objection."""
    clock.travel_to(T0)
    lead = client.post(
        "/api/v1/collect/other_sources",
        json={"source": "public databases", "email": "lead@example.org", "first_name": "Lee"},
        headers=client.service,
    ).json()["subject_id"]
    clock.travel_to(T0 + timedelta(days=200))
    assert sweep(instance.vault).items_removed == 0
    _consent(instance, lead, "marketing", "withdrawn")
    end = _month_after(clock.now())
    clock.travel_to(end - MINUTE)
    assert sweep(instance.vault).items_removed == 0
    clock.travel_to(end + MINUTE)
    assert sweep(instance.vault).items_removed == 2
    assert _state(instance, lead) == "erased"


def test_ret1_consent_given_again_keeps_the_data(client, instance):
    clock.travel_to(T0)
    lead = client.post(
        "/api/v1/collect/other_sources",
        json={"source": "public databases", "email": "lead@example.org"},
        headers=client.service,
    ).json()["subject_id"]
    _consent(instance, lead, "marketing", "withdrawn")
    clock.advance(timedelta(days=3))
    _consent(instance, lead, "marketing", "given")
    clock.advance(2 * MONTH)
    assert sweep(instance.vault).items_removed == 0


def test_ret1_an_opt_in_purpose_holds_only_what_was_consented_to(client, instance):
    """RET-1, USE-3: contest entries (opt-in, a month after collection) are kept for the month with a consent on
    record; without one, no purpose holds them and they go at the next sweep."""
    clock.travel_to(T0)
    entry = {"email": "c1@example.org", "first_name": "Cy", "last_name": "One", "age_attestation": True}
    with_consent = client.post("/api/v1/collect/contest_entry", json=entry, headers=client.service).json()
    _consent(instance, with_consent["subject_id"], "contests", "given")
    without = client.post(
        "/api/v1/collect/contest_entry", json={**entry, "email": "c2@example.org"}, headers=client.service
    ).json()
    clock.advance(MINUTE)
    summary = sweep(instance.vault)
    assert summary.items_deleted == 3 and _state(instance, without["subject_id"]) == "erased"
    assert _state(instance, with_consent["subject_id"]) == "active"
    clock.travel_to(T0 + MONTH + MINUTE)
    assert sweep(instance.vault).items_deleted == 3


def test_ret2_the_policy_wide_cap_bounds_every_purpose(client, instance):
    """RET-2: lint keeps a purpose over the cap out of a published declaration; should one reach the sweeper all
    the same (here: support kept a year), the one-month cap still decides."""

    def longer(policy):
        policy.purpose_by_key["support"].retention.period = Duration.parse("P1Y")

    _policy_with(instance, longer)
    clock.travel_to(T0)
    asker = _inquiry(client)
    clock.travel_to(T0 + MONTH + MINUTE)
    assert sweep(instance.vault).items_removed == 2
    assert _state(instance, asker) == "erased"


def test_ret1_anonymised_items_leave_only_a_generalised_count(client, instance):
    """RET-1 `then: anonymise`: the account's items go, leaving per-month counts of a year of birth and of each
    category — no subject, no value that points at anyone."""

    def anonymise(policy):
        policy.purpose_by_key["account"].retention.then = "anonymise"

    _policy_with(instance, anonymise)
    clock.travel_to(T0)
    customer = register(client)
    _close_account(instance, customer)
    clock.travel_to(T0 + MONTH + MINUTE)
    summary = sweep(instance.vault)
    assert summary.items_anonymised == 6 and summary.items_deleted == 0 and _state(instance, customer) == "erased"
    with instance.engine.connect() as conn:
        kept = {(r.category, r.value): (r.month, r.count) for r in conn.execute(select(anonymised_counts))}
    month = date(2026, 2, 1)
    assert kept[("user.demographic.date_of_birth", "1985")] == (month, 1)
    assert kept[("user.contact.email", "*")] == (month, 1)
    assert kept[("user.name.first", "*")] == (month, 1)
    assert not any("Ada" in v or "example.org" in v for _, v in kept)
    instance.vault.settle_audit()
    with instance.engine.connect() as conn:
        actions = set(conn.execute(select(audit_log.c.action).where(audit_log.c.actor == "system:sweeper")).scalars())
    assert actions == {"anonymise", "close"}


def test_ret1_sweep_is_idempotent_and_keeps_the_audit_chain(client, instance, cli):
    """RET-1: a second sweep finds nothing to do; the chain of audit records verifies."""
    clock.travel_to(T0)
    _inquiry(client)
    _inquiry(client, "carol@example.org")
    clock.travel_to(T0 + MONTH + MINUTE)
    first = sweep(instance.vault, batch_size=100)
    again = sweep(instance.vault, batch_size=100)
    assert first.items_removed == 4 and first.keys_destroyed == 2
    assert (again.items_removed, again.subjects_closed, again.keys_destroyed, again.batches) == (0, 0, 0, 0)
    result = cli("audit", "verify", "--data-dir", instance.settings.data_dir, env=_env(instance))
    assert result.exit_code == 0, result.output


def _env(instance) -> dict[str, str]:
    env = {"VOWKEEP_DATA_DIR": str(instance.settings.data_dir)}
    if not instance.settings.is_sqlite:
        env["VOWKEEP_DATABASE_URL"] = instance.settings.database_url
    return env


def test_ret1_vowkeep_sweep_dry_run_changes_nothing_then_sweeps(client, instance, cli):
    """RET-1: `vowkeep sweep --dry-run` says what would go and changes nothing; `vowkeep sweep` does it."""
    clock.travel_to(T0)
    customer = register(client)
    _purchase(client)
    asker = _inquiry(client)
    clock.travel_to(T0 + MONTH + MINUTE)
    dry = cli("sweep", "--dry-run", env=_env(instance))
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[0] == (
        "dry run, nothing changed: would delete 6 items, anonymise 0, keep 0 under holds; "
        "would close 1 subjects and destroy 1 data keys"
    )
    assert "  user.payment.card_token: 3" in dry.stdout
    assert len(_fields(instance, customer)) == 10 and instance.keystore.has_data_key(asker)
    real = cli("sweep", env=_env(instance))
    assert real.exit_code == 0, real.output
    assert real.stdout.startswith(
        "deleted 6 items, anonymised 0, kept 0 under holds; closed 1 subjects, destroyed 1 data keys ("
    )
    assert len(_fields(instance, customer)) == 6 and not instance.keystore.has_data_key(asker)
    as_json = cli("sweep", "--json", env=_env(instance))
    assert '"items_removed": 0' in as_json.stdout


def test_ret1_the_scheduled_job_sweeps(client, instance):
    """RET-1: every worker schedules `retention.sweep` hourly; the job does what `vowkeep sweep` does."""
    from vowkeep.worker import Worker, periodic

    assert "retention.sweep" in {p.kind for p in periodic()}
    clock.travel_to(T0)
    asker = _inquiry(client)
    clock.travel_to(T0 + MONTH + MINUTE)
    worker = Worker(instance)
    worker.schedule_periodic()
    worker.run_until_idle()
    assert _state(instance, asker) == "erased" and not instance.keystore.has_data_key(asker)


def test_ret4_keys_left_behind_are_destroyed_by_the_next_sweep(client, instance):
    """RET-4: a crash between an erasure's commit and its shredding leaves a key; so does a collection that rolled
    back after its key was made. The sweep destroys both (the orphan only once it is an hour old)."""
    from vowkeep.vault.actors import Actor

    clock.travel_to(T0)
    asker = _inquiry(client)
    with instance.vault.transaction() as conn:
        rows = conn.execute(select(items.c.id, items.c.subject_id, items.c.category).where(items.c.subject_id == asker))
        instance.vault.expire_items(conn, actor=Actor.system("t"), rows=[tuple(r) for r in rows], reason="x")
        emptied = instance.vault.close_subjects(
            conn, actor=Actor.system("t"), subject_ids=[asker], reason="x", defer_shred=True
        )
    assert emptied == [asker]  # and the process dies before it destroys the key
    orphan = "f" * 32
    instance.keystore.create_data_key(orphan)
    assert instance.keystore.has_data_key(asker)
    clock.advance(timedelta(minutes=30))
    assert sweep(instance.vault).keys_destroyed == 1
    assert not instance.keystore.has_data_key(asker) and instance.keystore.has_data_key(orphan)
    clock.advance(timedelta(minutes=31))
    assert sweep(instance.vault).keys_destroyed == 1
    assert not instance.keystore.has_data_key(orphan)


PERIODS = ["P1M", "P30D", "P1Y", "P2M", "P6M", "P7D", "PT12H", "P1Y6M", "P13M", "P1M1D", "P1MT6H"]
_sqlite = None


def _ran_out_in_sql(engine, period: Duration, now: datetime, start: datetime) -> bool:
    from sqlalchemy import literal

    from vowkeep.store.tables import UTCDateTime

    with engine.connect() as conn:
        return bool(conn.execute(select(ran_out(period, now, literal(start, UTCDateTime())))).scalar())


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(PERIODS),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-3 * 86400, max_value=3 * 86400),
)
def test_ret1_a_clock_runs_out_in_sql_exactly_as_the_notice_counts(text, moment, jitter):
    """RET-1: the SQL condition the sweeper runs agrees with `Duration.add_to` (calendar months, clamped days) for
    starts around the boundary — one microsecond either side included."""
    from sqlalchemy import create_engine

    global _sqlite
    _sqlite = _sqlite or create_engine("sqlite://")
    period = Duration.parse(text)
    now = moment.replace(tzinfo=UTC)
    base = now - timedelta(days=period.nominal_days) + timedelta(seconds=jitter)
    for start in (base, base + timedelta(microseconds=1), base - timedelta(microseconds=1)):
        assert _ran_out_in_sql(_sqlite, period, now, start) == (period.add_to(start) <= now), (text, now, start)


def test_ret1_clamped_month_ends_agree_on_both_backends(backend, tmp_path):
    """RET-1: the corner cases of calendar months — 31 January plus a month, leap years — on SQLite and
    PostgreSQL alike."""
    from vowkeep.store.engine import make_engine

    engine = make_engine(backend or f"sqlite:///{tmp_path / 'x.db'}")
    month, year = Duration.parse("P1M"), Duration.parse("P1Y")
    cases = [
        (month, "2026-02-28 09:01", "2026-01-28 09:01", True),
        (month, "2026-02-28 09:01", "2026-01-28 09:02", False),
        (month, "2026-02-28 09:01", "2026-01-29 09:01", True),
        (month, "2026-02-28 09:01", "2026-01-31 09:01", True),
        (month, "2026-02-28 09:01", "2026-01-31 09:02", False),
        (month, "2026-03-30 00:00", "2026-02-28 23:59", True),
        (month, "2026-03-31 10:00", "2026-02-28 23:59", True),
        (month, "2026-04-30 10:00", "2026-03-31 10:00", True),
        (month, "2026-04-30 10:00", "2026-03-31 10:01", False),
        (year, "2029-02-28 10:00", "2028-02-29 10:00", True),
        (year, "2029-02-28 10:00", "2028-02-29 10:01", False),
    ]
    try:
        for period, now, start, expected in cases:
            at = datetime.fromisoformat(now).replace(tzinfo=UTC)
            begun = datetime.fromisoformat(start).replace(tzinfo=UTC)
            assert (period.add_to(begun) <= at) is expected
            assert _ran_out_in_sql(engine, period, at, begun) is expected, (period, now, start)
    finally:
        engine.dispose()

"""The background worker: runs queued jobs and schedules periodic ones.

`vowkeep serve` runs one in a thread; `vowkeep worker` runs standalone ones. Handlers come from the domain
packages, listed in `handlers()`; each runs in its own unit of work and must be idempotent (a job can run again
after a crash).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from vowkeep import clock
from vowkeep.instance import Instance
from vowkeep.store import jobs

log = logging.getLogger("vowkeep.worker")
MAIL_JOB = "mail.send"  # the kind `comms.outbox` queues
Handler = Callable[[Instance, jobs.Job], None]


class PermanentFailure(Exception):
    """A job that can never succeed (its subject was erased, say): mark it dead at once, no retries."""


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: timedelta


def handlers() -> dict[str, Handler]:
    """Every job kind and the function that runs it."""
    from vowkeep.comms.notices import send_policy_notices
    from vowkeep.comms.outbox import send_queued_mail
    from vowkeep.retention import jobs as retention_jobs
    from vowkeep.retention import minors
    from vowkeep.rights.drp import send_callback
    from vowkeep.rights.requests import housekeeping
    from vowkeep.sharing.processors import deliver
    from vowkeep.tracking.rollup import run_rollup
    from vowkeep.vault.gate import FOLD_WAL_JOB
    from vowkeep.vault.maintenance import checkpoint_audit, fold_data_wal

    return {
        MAIL_JOB: send_queued_mail,
        "audit.checkpoint": checkpoint_audit,
        FOLD_WAL_JOB: fold_data_wal,
        "policy.notify": send_policy_notices,
        "traffic.rollup": run_rollup,
        "webhook.deliver": deliver,
        "drp.callback": send_callback,
        "rights.housekeeping": housekeeping,
        retention_jobs.SWEEP_JOB: retention_jobs.run_sweep,
        "retention.sweep_subject": retention_jobs.run_subject_sweep,
        minors.ERASE_JOB: minors.run_erase,
    }


def periodic() -> list[Periodic]:
    """Jobs every instance runs on a schedule (queued once per period across all workers)."""
    from vowkeep.retention.jobs import SWEEP_EVERY, SWEEP_JOB

    return [
        Periodic("audit.checkpoint", timedelta(minutes=1)),
        Periodic("traffic.rollup", timedelta(hours=1)),
        Periodic("rights.housekeeping", timedelta(hours=1)),
        Periodic(SWEEP_JOB, SWEEP_EVERY),
    ]


class Worker:
    def __init__(self, instance: Instance, *, name: str | None = None, poll_seconds: float = 0.5):
        self.instance = instance
        self.name = f"{name or 'worker'}@{socket.gethostname()}:{os.getpid()}"
        self.poll_seconds = poll_seconds
        self._handlers = handlers()
        self._told_no_smtp = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def schedule_periodic(self) -> None:
        now = clock.now().timestamp()
        with self.instance.engine.begin() as conn:
            for job in periodic():
                slot = int(now // job.every.total_seconds())
                jobs.enqueue(conn, kind=job.kind, unique_key=f"{job.kind}@{slot}", max_attempts=3)

    def run_one(self) -> bool:
        """Run the next due job, if any. True if one ran (successfully or not)."""
        job = jobs.claim(self.instance.engine, worker=self.name, kinds=self._kinds())
        if job is None:
            return False
        handler = self._handlers[job.kind]
        try:
            handler(self.instance, job)
        except PermanentFailure as exc:
            jobs.fail(
                self.instance.engine,
                job=job.__class__(**{**job.__dict__, "max_attempts": job.attempts}),
                error=str(exc),
            )
            log.warning("job %s (%s) failed for good: %s", job.id, job.kind, exc)
        except Exception as exc:  # any failure is recorded on the job and retried
            retried = jobs.fail(self.instance.engine, job=job, error=f"{type(exc).__name__}: {exc}")
            log.warning("job %s (%s) failed%s: %s", job.id, job.kind, ", will retry" if retried else "", exc)
        return True

    def _kinds(self) -> list[str]:
        """The jobs this worker can run now. Without an SMTP server mail stays queued, untouched: trying would only
        spend its attempts and leave it dead by the time a server is configured."""
        if self.instance.settings.smtp_url:
            return list(self._handlers)
        if not self._told_no_smtp:
            self._told_no_smtp = True
            log.warning("VOWKEEP_SMTP_URL is not set: mail stays queued until it is")
        return [kind for kind in self._handlers if kind != MAIL_JOB]

    def run_until_idle(self, *, max_jobs: int = 10_000) -> int:
        """Run due jobs until none is left (tests and `vowkeep worker --once`)."""
        ran = 0
        while ran < max_jobs and self.run_one():
            ran += 1
        return ran

    def loop(self) -> None:
        last_schedule = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_schedule > 30:
                    self.schedule_periodic()
                    last_schedule = time.monotonic()
                if not self.run_one():
                    self._stop.wait(self.poll_seconds)
            except Exception:  # a database hiccup must not kill the worker thread
                log.exception("worker loop error")
                self._stop.wait(self.poll_seconds * 4)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

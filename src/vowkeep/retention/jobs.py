"""Worker handlers of the retention package: the hourly sweep and the sweep of one subject (a hold ended)."""

from __future__ import annotations

from datetime import timedelta

from vowkeep.retention.sweeper import sweep
from vowkeep.store import jobs

SWEEP_JOB = "retention.sweep"
SWEEP_EVERY = timedelta(hours=1)


def run_sweep(instance, job) -> None:
    """`retention.sweep`: the whole sweep; idempotent, so a retried or doubled job does no harm."""
    sweep(instance.vault)
    with instance.engine.begin() as conn:
        jobs.complete(conn, job=job)


def run_subject_sweep(instance, job) -> None:
    """`retention.sweep_subject`: sweep one subject, when a hold on it ends."""
    subject_id = str(job.payload.get("subject_id", ""))
    if subject_id:
        sweep(instance.vault, subject_id=subject_id)
    with instance.engine.begin() as conn:
        jobs.complete(conn, job=job)

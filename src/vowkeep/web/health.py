"""`GET /healthz`: the process is up and both databases answer."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import text

from vowkeep.instance import Instance
from vowkeep.web.deps import get_instance

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(instance: Instance = Depends(get_instance)):
    with instance.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with instance.keystore_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "policy_version": instance.vault.policy_version}

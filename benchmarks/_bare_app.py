"""The baseline for HTTP benchmarks: a bare FastAPI app that parses the same JSON body and answers."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/bare", status_code=201)
def bare(body: Any = Body(...)):
    return {"ok": True, "fields": len(body) if isinstance(body, dict) else 0}

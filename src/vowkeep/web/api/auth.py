"""`POST /api/v1/auth/token`: an operator trades a username and password for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from vowkeep.instance import Instance
from vowkeep.vault import operators
from vowkeep.web.deps import get_instance
from vowkeep.web.errors import ApiError
from vowkeep.web.ratelimit import SignInLimiter

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
limiter = SignInLimiter()


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/token")
def issue_token(body: Credentials, request: Request, instance: Instance = Depends(get_instance)):
    """Sign in: returns a bearer token for the API, valid for 12 hours."""
    client = request.client.host if request.client else "-"
    if not limiter.allow(body.username, client):
        raise ApiError(429, "too_many_attempts", "too many failed sign-ins; wait a few minutes")
    with instance.engine.begin() as conn:
        operator = operators.authenticate(conn, username=body.username, password=body.password)
        if operator is None:
            limiter.failed(body.username, client)
            raise ApiError(401, "unauthenticated", "wrong username or password, or the account is disabled")
        token, session = operators.start_session(conn, operator=operator, kind="api")
    limiter.succeeded(body.username, client)
    return {"token": token, "token_type": "bearer", "expires_at": session.expires_at.isoformat(), "role": operator.role}

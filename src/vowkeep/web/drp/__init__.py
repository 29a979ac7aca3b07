"""Data Rights Protocol 1.0 endpoints (RIG-10): `POST|GET /v1/agent/{id}`, `POST /v1/data-rights-request`,
`GET|DELETE /v1/data-rights-request/{id}`."""

from vowkeep.web.drp.endpoints import router

__all__ = ["router"]

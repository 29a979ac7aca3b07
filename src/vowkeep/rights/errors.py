"""Errors a requester, an operator or an agent can cause; each says what was wrong, never quoting a value."""

from __future__ import annotations


class RequestError(Exception):
    """A request that cannot be filed or acted on as asked. `status` is the HTTP status the API answers with."""

    status = 422
    code = "invalid_request"

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class RightNotOffered(RequestError):
    code = "right_not_offered"


class ChannelNotOffered(RequestError):
    code = "channel_not_offered"


class RequestNotFound(RequestError):
    status = 404
    code = "not_found"


class TooManyRequests(RequestError):
    status = 429
    code = "too_many_requests"


class WrongState(RequestError):
    status = 409
    code = "wrong_state"


class VerificationFailed(RequestError):
    status = 400
    code = "verification_failed"

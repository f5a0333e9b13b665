"""The gateway's own errors: one hierarchy, translated from the transports' errors
and upstream answers in `gateway.upstream`, and into GraphQL errors in
`gateway.execution.error_contract`.

    GatewayError                  every error a client may see, with an `extensions.code`
    ├── BadUserInput              BAD_USER_INPUT: the request itself is wrong; no upstream call
    ├── MissingCredentials        UNAUTHENTICATED: a token header is missing; no upstream call
    └── UpstreamError             something an upstream said or failed to say
        ├── UpstreamUnauthorized  UNAUTHENTICATED: the upstream rejected the token (401)
        ├── UpstreamForbidden     FORBIDDEN (403)
        ├── RateLimited           RATE_LIMITED (429), with `retry_after` seconds
        ├── UpstreamUnavailable   UPSTREAM_UNAVAILABLE: 5xx, timeout, connection, unreadable body
        │   └── OutcomeUnknown    a write that may have reached the upstream; never retried
        ├── UpstreamInvalidData   UPSTREAM_INVALID_DATA: a value its field cannot hold
        └── UpstreamRejected      400/404/409/422: the upstream refused this request
            └── UpstreamNotFound  404

`UpstreamRejected` is what mutations turn into `userErrors`; queries turn a
not-found into `null`. Messages never carry tokens or request headers.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument

    def extensions(self) -> dict[str, Any]:
        extensions = super().extensions()
        if self.argument is not None:
            extensions["argument"] = self.argument
        return extensions


class MissingCredentials(GatewayError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str, *, upstream: str) -> None:
        super().__init__(message)
        self.upstream = upstream

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "upstream": self.upstream}


class UpstreamError(GatewayError):
    code = "UPSTREAM_UNAVAILABLE"

    def __init__(self, message: str, *, upstream: str, status: int | None = None) -> None:
        super().__init__(message)
        self.upstream = upstream
        self.status = status

    def extensions(self) -> dict[str, Any]:
        extensions = {**super().extensions(), "upstream": self.upstream}
        if self.status is not None:
            extensions["upstreamStatus"] = self.status
        return extensions


class UpstreamUnauthorized(UpstreamError):
    code = "UNAUTHENTICATED"


class UpstreamForbidden(UpstreamError):
    code = "FORBIDDEN"


class RateLimited(UpstreamError):
    code = "RATE_LIMITED"

    def __init__(
        self, message: str, *, upstream: str, status: int | None = 429, retry_after: float
    ) -> None:
        super().__init__(message, upstream=upstream, status=status)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "retryAfter": self.retry_after}


class UpstreamUnavailable(UpstreamError):
    code = "UPSTREAM_UNAVAILABLE"

    def __init__(
        self,
        message: str,
        *,
        upstream: str,
        status: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message, upstream=upstream, status=status)
        # Worth another try when the call is safe to repeat.
        self.transient = transient


class OutcomeUnknown(UpstreamUnavailable):
    """A write was sent and no answer came back: it may or may not have happened."""

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "outcome": "UNKNOWN"}


class UpstreamInvalidData(UpstreamError):
    """The upstream answered, with a value its field's type cannot hold (an
    integer beyond 64 bits, NaN): that field fails, the rest of the answer stands."""

    code = "UPSTREAM_INVALID_DATA"


class UpstreamRejected(UpstreamError):
    """The upstream understood the request and refused it (400/404/409/422).

    `body` is the parsed error body, so that callers can map field errors.
    """

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, upstream: str, status: int, body: Any) -> None:
        super().__init__(message, upstream=upstream, status=status)
        self.body = body


class UpstreamNotFound(UpstreamRejected):
    code = "NOT_FOUND"

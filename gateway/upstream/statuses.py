"""What an upstream's answer means: its parsed body, or the gateway error its
status stands for. No raw status code leaves the upstream layer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from gateway.errors import (
    OutcomeUnknown,
    RateLimited,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from gateway.upstream.retry_after import parse_retry_after

logger = logging.getLogger("gateway.upstream")

# Finds the message in an upstream's error body, in that upstream's format.
ErrorMessageReader = Callable[[Any], str | None]

# The statuses an upstream uses to refuse a request it understood; mutations turn
# them into userErrors.
_REJECTION_STATUSES = frozenset({400, 409, 422})
# Answers from a proxy or an overloaded upstream: worth another try for a safe call.
TRANSIENT_STATUSES = frozenset({502, 503, 504})


def read_answer(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    upstream: str,
    read_error_message: ErrorMessageReader,
    is_write: bool,
) -> Any:
    """The parsed JSON body of a 2xx answer (None when empty), or the error its
    status stands for."""
    if 200 <= status < 300:
        if status == 204 or not content:
            return None
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise lost_answer(upstream, is_write, "sent a body that is not JSON") from exc
    raise error_for_status(
        status,
        headers,
        _decode_error_body(content),
        upstream=upstream,
        read_error_message=read_error_message,
        is_write=is_write,
    )


def error_for_status(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    upstream: str,
    read_error_message: ErrorMessageReader,
    is_write: bool,
) -> UpstreamError:
    message = read_error_message(body) or f"{upstream} answered {status}."
    if status == 401:
        return UpstreamUnauthorized(
            f"{upstream} rejected the credentials.", upstream=upstream, status=status
        )
    if status == 403:
        return UpstreamForbidden(
            f"{upstream} refused access: {message}", upstream=upstream, status=status
        )
    if status == 404:
        return UpstreamNotFound(message, upstream=upstream, status=status, body=body)
    if status == 429:
        # Moneybird also says when its window resets (RateLimit-Reset, epoch seconds).
        retry_after = parse_retry_after(
            headers.get("retry-after") or headers.get("ratelimit-reset")
        )
        return RateLimited(
            f"{upstream} is rate limiting; retry after {retry_after:g} seconds.",
            upstream=upstream,
            retry_after=retry_after,
        )
    if status in _REJECTION_STATUSES:
        return UpstreamRejected(message, upstream=upstream, status=status, body=body)
    if status >= 500:
        if is_write and status in (502, 504):
            # A gateway in front of the upstream timed out: the write may have landed.
            return OutcomeUnknown(
                f"{upstream} answered {status} after the change was sent; "
                "the outcome is unknown. Read the object again before retrying.",
                upstream=upstream,
                status=status,
            )
        return UpstreamUnavailable(
            f"{upstream} is unavailable (HTTP {status}).",
            upstream=upstream,
            status=status,
            transient=status in TRANSIENT_STATUSES,
        )
    logger.warning("unexpected status %s from %s", status, upstream)
    return UpstreamUnavailable(
        f"{upstream} answered with unexpected status {status}.", upstream=upstream, status=status
    )


def lost_answer(upstream: str, is_write: bool, what: str) -> UpstreamUnavailable:
    """A request that may have reached the upstream and got no usable answer."""
    if is_write:
        return OutcomeUnknown(
            f"{upstream} {what} after the change was sent; the outcome is unknown. "
            "Read the object again before retrying.",
            upstream=upstream,
        )
    return UpstreamUnavailable(f"{upstream} {what}.", upstream=upstream, transient=True)


def _decode_error_body(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None

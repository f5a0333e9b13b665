"""What a /graphql answer tells HTTP caches.

Answers depend on the credential headers, so none may be kept by a shared cache
(`private`), and every answer varies on them and on Accept (which picks the
media type, and GraphiQL or JSON on GET):

    GET query that ran, without errors   private, no-cache   + ETag
    GET query that ran, with errors      no-store            + ETag
    everything else (POST, request       no-store
    errors, refusals)

`no-cache` lets the browser keep a GET answer but ask again each time with
If-None-Match: the query runs again (the upstreams may have changed), and when
the answer is the same the gateway sends 304 Not Modified without it, which
saves the transfer. The ETag is a strong validator: the SHA-256 of the body.
POST answers and errors are never kept: a PersistedQueryNotFound kept by a
browser would keep a client from registering its query.
"""

from __future__ import annotations

import base64
import hashlib

from gateway.credentials import CREDENTIAL_HEADERS

CACHEABLE = "private, no-cache"
NOT_CACHEABLE = "no-store"


def _header_name(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


VARY = ", ".join(["Accept", *(_header_name(name) for name in CREDENTIAL_HEADERS)])


def etag(body: bytes) -> str:
    digest = hashlib.sha256(body).digest()
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + '"'


def not_modified(if_none_match: str | None, current: str) -> bool:
    """Whether an If-None-Match header names the current ETag (RFC 9110 13.1.2:
    weak comparison, so W/"x" matches "x"; `*` matches any)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == current:
            return True
    return False

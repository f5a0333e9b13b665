"""Documents a request names by id instead of sending their text.

Three ways to name one, as the clients that use them send it:

    extensions.persistedQuery {version: 1, sha256Hash}
        Apollo's automatic persisted queries (APQ): the client sends the hash
        alone; an unknown hash is answered PersistedQueryNotFound and the client
        sends hash and text, which are kept for the next time. Apollo's
        persisted query lists send a manifest id the same way.
    documentId
        the GraphQL-over-HTTP persisted documents appendix: `sha256:<hex>` of
        the text, or an id of the application's own (no colon).
    doc_id
        what Relay's persisted-queries guide has the network layer send: the id
        relay-compiler wrote into persisted_queries.json (an MD5 by default).

Where the text comes from:

- a manifest loaded at start (GATEWAY_PERSISTED_DOCUMENTS), in Apollo's
  persisted query manifest format or Relay's `{id: text}` map; its documents
  are the trusted ones;
- the APQ store: texts clients registered with their hash, bounded by their
  total size, least recently used leaving first. One per process; with Redis
  (GATEWAY_REDIS_URL) a registered text is also kept there, for GATEWAY_REDIS_TTL
  seconds, and a hash this process does not know is looked up there, so that a
  text registered through one replica runs through every other. Otherwise,
  after a restart or on another worker, a client registers its text again, as
  it does when Redis cannot be reached.

With GATEWAY_TRUSTED_DOCUMENTS_ONLY a request runs only a manifest document,
named by id or sent as the exact text; nothing is registered. A published
app then runs only the operations it was built with.

The text a lookup finds goes through the request pipeline like any other:
the documents cache, the limits, validation; the log line names the id.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from graphql import GraphQLError

from gateway.state import State

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"

APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"
SHA256_PREFIX = "sha256:"
_SHA256 = re.compile(r"[0-9a-f]{64}")

Source = Literal["apq", "trusted"]


class ManifestError(ValueError):
    """The persisted documents manifest cannot be read."""


@dataclass(frozen=True, slots=True)
class Found:
    """The text a request runs, and where it came from."""

    text: str
    # "trusted" for a manifest document, "apq" for a registered text, None for a
    # text sent as is.
    source: Source | None = None
    # Keep `text` under this hash once it validates (an APQ registration).
    register: str | None = None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def requested_id(document_id: str | None, extensions: Mapping[str, Any] | None) -> str | None:
    """The persisted document id a request names, if any."""
    if document_id is not None:
        return document_id
    persisted = (extensions or {}).get("persistedQuery")
    if isinstance(persisted, Mapping):
        sha256 = persisted.get("sha256Hash")
        return sha256 if isinstance(sha256, str) else None
    return None


def load_manifest(path: Path) -> dict[str, str]:
    """Document text by id from an Apollo persisted query manifest
    (`{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
    [{"id", "body", "name", "type"}]}`) or a Relay `persisted_queries.json`
    (`{id: text}`)."""
    try:
        content = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ManifestError(f"{path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not JSON ({exc})") from None
    if not isinstance(content, dict):
        raise ManifestError(f"{path}: expected a JSON object")
    if "format" in content:
        return _apollo_manifest(path, content)
    if not all(isinstance(text, str) for text in content.values()):
        raise ManifestError(
            f"{path}: neither an {APOLLO_MANIFEST_FORMAT} nor a map of ids to document texts"
        )
    return dict(content)


def _apollo_manifest(path: Path, content: dict[str, Any]) -> dict[str, str]:
    if content.get("format") != APOLLO_MANIFEST_FORMAT or content.get("version") != 1:
        raise ManifestError(
            f"{path}: unknown manifest format {content.get('format')!r} "
            f"version {content.get('version')!r}; expected {APOLLO_MANIFEST_FORMAT} version 1"
        )
    operations = content.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(f"{path}: `operations` must be a list")
    documents: dict[str, str] = {}
    for index, operation in enumerate(operations):
        if not (
            isinstance(operation, dict)
            and isinstance(operation.get("id"), str)
            and isinstance(operation.get("body"), str)
        ):
            raise ManifestError(f"{path}: operation {index} needs a string `id` and `body`")
        documents[operation["id"]] = operation["body"]
    return documents


class APQStore:
    """Registered texts by hash, least recently used first out, bounded by the
    total size of the texts it holds (UTF-8 bytes)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._texts: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        entry = self._texts.get(sha256)
        if entry is None:
            return None
        self._texts.move_to_end(sha256)
        return entry[0]

    def put(self, sha256: str, text: str) -> None:
        if sha256 in self._texts:
            self._texts.move_to_end(sha256)
            return
        size = len(text.encode())
        if size > self._max_bytes:
            return
        self._texts[sha256] = (text, size)
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (_, evicted) = self._texts.popitem(last=False)
            self._bytes -= evicted

    def __len__(self) -> int:
        return len(self._texts)


class SharedAPQStore:
    """Registered texts in the state the replicas share, by hash: one text
    registered through any replica runs through all of them. Each expires `ttl`
    seconds after its registration; a client then registers it again."""

    def __init__(self, state: State, *, ttl: float) -> None:
        self._state = state
        self._ttl = ttl

    async def get(self, sha256: str) -> str | None:
        value = await self._state.get(_shared_key(sha256))
        if value is None:
            return None
        text = value.decode()
        # What another process stored is checked as a client's registration is.
        return text if sha256_hex(text) == sha256 else None

    async def put(self, sha256: str, text: str) -> None:
        await self._state.put(_shared_key(sha256), text.encode(), ttl=self._ttl)


def _shared_key(sha256: str) -> str:
    return f"apq:{sha256}"


class PersistedQueries:
    """Finds the text of each request: sent, from the manifest or from the APQ store."""

    def __init__(
        self,
        manifest: Mapping[str, str] | None = None,
        *,
        apq: bool = True,
        apq_cache_bytes: int = 10_000_000,
        trusted_only: bool = False,
    ) -> None:
        if trusted_only and manifest is None:
            raise ValueError("trusted documents only needs a manifest")
        self._manifest = dict(manifest or {})
        self._has_manifest = manifest is not None
        # Manifest texts by the SHA-256 of their text: for `sha256:` document ids and
        # for texts sent as is when only trusted documents run.
        self._by_sha256 = {sha256_hex(text): text for text in self._manifest.values()}
        self._trusted_only = trusted_only
        self._store = APQStore(apq_cache_bytes) if apq and not trusted_only else None

    def find(
        self, query: str | None, document_id: str | None, extensions: Mapping[str, Any] | None
    ) -> Found | GraphQLError:
        """The text a request runs, or the error that answers it. The request's
        parameters are well-formed (graphql_http checked their types): at most one
        of `query` and `document_id`, `persistedQuery` with version 1 and a hash."""
        if document_id is not None:
            return self._by_document_id(document_id)
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            return self._by_apq_hash(persisted["sha256Hash"], query)
        assert query is not None
        return self._text(query)

    async def lookup(
        self,
        query: str | None,
        document_id: str | None,
        extensions: Mapping[str, Any] | None,
        shared: SharedAPQStore | None = None,
    ) -> Found | GraphQLError:
        """`find`, then a hash this process has not seen registered looked up in
        the `shared` store, and kept here when found."""
        found = self.find(query, document_id, extensions)
        if shared is None or self._store is None or not _not_found(found):
            return found
        digest = _registered_hash(document_id, extensions)
        text = None if digest is None else await shared.get(digest)
        if digest is None or text is None:
            return found
        self._store.put(digest, text)
        return Found(text, "apq")

    async def register(self, found: Found, shared: SharedAPQStore | None = None) -> None:
        """Keep a registered text, once it parsed and validated; in the `shared`
        store too, unless this process already had it."""
        if found.register is None or self._store is None:
            return
        known = self._store.get(found.register) is not None
        self._store.put(found.register, found.text)
        if shared is not None and not known:
            await shared.put(found.register, found.text)

    def _by_document_id(self, document_id: str) -> Found | GraphQLError:
        text = self._manifest.get(document_id)
        if text is None and document_id.startswith(SHA256_PREFIX):
            digest = document_id.removeprefix(SHA256_PREFIX)
            text = self._by_sha256.get(digest)
            if text is None and self._store is not None:
                stored = self._store.get(digest)
                if stored is not None:
                    return Found(stored, "apq")
        if text is None:
            return self._unknown(document_id)
        return Found(text, "trusted")

    def _by_apq_hash(self, sha256: str, query: str | None) -> Found | GraphQLError:
        if query is not None and sha256_hex(query) != sha256:
            return GraphQLError(
                "The persisted query hash is not the SHA-256 of the query text sent with it.",
                extensions={"code": PERSISTED_QUERY_HASH_MISMATCH},
            )
        text = self._manifest.get(sha256) or self._by_sha256.get(sha256)
        if text is not None:
            return Found(text, "trusted")
        if query is not None:
            if self._store is None:
                return self._text(query)
            return Found(query, "apq", register=sha256)
        stored = None if self._store is None else self._store.get(sha256)
        if stored is None:
            return self._unknown(sha256)
        return Found(stored, "apq")

    def _text(self, query: str) -> Found | GraphQLError:
        if not self._trusted_only:
            return Found(query)
        digest = sha256_hex(query)
        if digest not in self._by_sha256:
            return GraphQLError(
                "Only trusted documents run here, and this text is not one of them: "
                "send the id of a document in the manifest.",
                extensions={"code": QUERY_NOT_IN_SAFELIST},
            )
        return Found(query, "trusted")

    def _unknown(self, document_id: str) -> GraphQLError:
        if self._trusted_only:
            return GraphQLError(
                f"Persisted document '{document_id}' is not in the trusted documents.",
                extensions={"code": PERSISTED_QUERY_NOT_IN_LIST},
            )
        if self._store is None and not self._has_manifest:
            # Apollo's and urql's links stop sending hashes when they read this.
            return GraphQLError(
                "PersistedQueryNotSupported", extensions={"code": PERSISTED_QUERY_NOT_SUPPORTED}
            )
        # Apollo's and urql's links send the operation again with its text.
        return GraphQLError(
            "PersistedQueryNotFound", extensions={"code": PERSISTED_QUERY_NOT_FOUND}
        )


def _not_found(found: Found | GraphQLError) -> bool:
    return isinstance(found, GraphQLError) and (found.extensions or {}).get("code") == (
        PERSISTED_QUERY_NOT_FOUND
    )


def _registered_hash(document_id: str | None, extensions: Mapping[str, Any] | None) -> str | None:
    """The SHA-256 a request names a registered text by: an APQ hash, or a
    `sha256:` document id; None for anything that cannot be one."""
    digest: str | None
    if document_id is None:
        digest = requested_id(None, extensions)
    elif document_id.startswith(SHA256_PREFIX):
        digest = document_id.removeprefix(SHA256_PREFIX)
    else:
        return None
    return digest if digest is not None and _SHA256.fullmatch(digest) else None

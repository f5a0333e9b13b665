"""Storage keys for secrets: a salted hash (HMAC-SHA256), never the secret.

The salt is drawn once per state and kept in it, so that every process of the
gateway derives the same key from the same token, and the keys mean nothing
to whoever reads the state without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gateway.state.base import State
from gateway.state.fallback import FallbackState

SALT_KEY = "gateway.salt"


class KeyHasher:
    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    @classmethod
    async def for_state(cls, state: State) -> KeyHasher:
        """The hasher of `state`: its salt, drawn by whichever process asks first.
        A process that drew its own while Redis was unreachable takes the shared
        one when Redis is back (`FallbackState.watch`)."""
        hasher = cls(await state.put_if_absent(SALT_KEY, secrets.token_bytes(32)))
        if isinstance(state, FallbackState):
            state.watch(SALT_KEY, hasher._use_salt)
        return hasher

    def _use_salt(self, salt: bytes) -> None:
        self._salt = salt

    def key(self, *parts: str) -> str:
        """A hex key for `parts` (a token, or a token with the id it is used with).
        Each part is length-prefixed, so that no two lists of parts share a key."""
        message = b"".join(
            len(encoded).to_bytes(4, "big") + encoded for encoded in (p.encode() for p in parts)
        )
        return hmac.new(self._salt, message, hashlib.sha256).hexdigest()

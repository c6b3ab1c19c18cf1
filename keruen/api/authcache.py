"""A short-lived cache of authenticated callers, so a request needs no database read to
authenticate.

Why: one indexed lookup through SQLAlchemy costs about a millisecond on the reference machine,
more than the rest of a single-event submit's work on the request path. Entries live `ttl`
seconds; a key revoked through this server's API is dropped at once, and a key revoked
elsewhere (the CLI, another server) stops working within `ttl`.

Entries are keyed by the SHA-256 digest of the credential, never the credential itself: no
key or token is kept in memory, and a lookup compares fixed-length digests (a hit costs one
digest of a short string, about a microsecond; a key is never run through a slow KDF: keys
are 256-bit random, see `keruen.api.tokens`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from keruen.api.access import Principal


class AuthCache:
    def __init__(
        self, ttl: float, clock: Callable[[], float] = time.monotonic, size: int = 10_000
    ) -> None:
        self.ttl, self.clock, self.size = ttl, clock, size
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, credential: str) -> Principal | None:
        entry = self._entries.get(_digest(credential))
        if entry is None or entry[0] < self.clock():
            return None
        return entry[1]

    def put(self, credential: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()  # crude but bounded: a cache, not a store
            self._entries[_digest(credential)] = (self.clock() + self.ttl, principal)

    def drop_key(self, key_id: str) -> None:
        """Forget every credential (the key and its tokens) that authenticated through `key_id`."""
        with self._lock:
            stale = [c for c, (_, p) in self._entries.items() if p.key_id == key_id]
            for credential in stale:
                del self._entries[credential]

    def drop_user(self, user_id: int) -> None:
        """Forget every credential of a user (disabled, removed, or given another role)."""
        with self._lock:
            stale = [c for c, (_, p) in self._entries.items() if p.user_id == user_id]
            for credential in stale:
                del self._entries[credential]


def _digest(credential: str) -> bytes:
    return hashlib.sha256(credential.encode()).digest()

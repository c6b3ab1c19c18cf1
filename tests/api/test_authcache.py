"""The authentication cache: entries expire, revocation drops them, no credential is kept."""

from __future__ import annotations

from keruen.api.access import Principal, Role
from keruen.api.authcache import AuthCache

OLGA = Principal(1, "olga", Role.officer, None, "k1")
ACME = Principal(2, "acme", Role.declarant, "123456789012", "k2")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_ttl_seconds() -> None:
    clock = Clock()
    cache = AuthCache(2.0, clock)
    cache.put("kr_k1_secret", OLGA)
    assert cache.get("kr_k1_secret") == OLGA and cache.get("kr_k1_other") is None
    clock.now += 1.9
    assert cache.get("kr_k1_secret") == OLGA
    clock.now += 0.2
    assert cache.get("kr_k1_secret") is None


def test_no_credential_is_kept_in_memory() -> None:
    cache = AuthCache(60.0)
    cache.put("kr_k1_secret", OLGA)
    assert all(b"secret" not in key and len(key) == 32 for key in cache._entries)


def test_drop_key_forgets_the_key_and_its_tokens_only() -> None:
    cache = AuthCache(60.0)
    cache.put("kr_k1_secret", OLGA)
    cache.put("a.token.of-k1", OLGA)
    cache.put("kr_k2_secret", ACME)
    cache.drop_key("k1")
    assert cache.get("kr_k1_secret") is None and cache.get("a.token.of-k1") is None
    assert cache.get("kr_k2_secret") == ACME


def test_bounded_and_off_at_zero_ttl() -> None:
    cache = AuthCache(60.0, size=3)
    for i in range(10):
        cache.put(f"kr_k{i}_s", OLGA)
    assert len(cache._entries) <= 3 and cache.get("kr_k9_s") == OLGA
    off = AuthCache(0)
    off.put("kr_k1_secret", OLGA)
    assert off.get("kr_k1_secret") is None

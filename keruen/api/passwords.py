"""Password hashing: scrypt (memory-hard, stdlib), pure functions, no I/O.

Passwords are a credential of their own, for people signing in to the web dashboard; programs
use API keys. A stored hash is `scrypt$<log2 n>$<r>$<p>$<salt>$<hash>` (base64), so its cost
can be raised later without breaking stored hashes. Why scrypt: memory-hard (32 MiB per
check at the default cost), in the standard library, and unlike a fast digest it makes an
offline guess of a leaked hash expensive; API keys need none of this (256-bit random).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

MIN_LENGTH = 10
MAX_LENGTH = 1024  # bounds the work one request can ask for
LOG2_N, R, P = 15, 8, 1  # 2**15 * 128 * 8 bytes = 32 MiB per check
SALT_BYTES, HASH_BYTES = 16, 32


@dataclass(frozen=True, slots=True)
class Cost:
    log2_n: int = LOG2_N
    r: int = R
    p: int = P

    @property
    def maxmem(self) -> int:
        return int(2 * 128 * self.r * (1 << self.log2_n) * self.p) + (1 << 20)


def problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if not password.strip():
        return "a password cannot be only spaces"
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive(password: str, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=2**cost.log2_n,
        r=cost.r,
        p=cost.p,
        maxmem=cost.maxmem,
        dklen=HASH_BYTES,
    )


def hash_password(password: str, cost: Cost = Cost()) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(password, salt, cost)
    return f"scrypt${cost.log2_n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[Cost, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        cost = Cost(int(parts[1]), int(parts[2]), int(parts[3]))
        if not (1 <= cost.log2_n <= 20 and 1 <= cost.r <= 32 and 1 <= cost.p <= 16):
            return None
        return cost, base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return None


# checked against when there is no stored hash, so an unknown user costs as much as a known one
@cache
def _dummy() -> tuple[Cost, bytes, bytes]:
    parsed = _parse(hash_password(secrets.token_urlsafe(16)))
    assert parsed is not None
    return parsed


def verify(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`; the same work (one scrypt) whether or not there is
    a stored hash, and a constant-time comparison, so timing tells nothing."""
    parsed = _parse(stored) if stored else None
    cost, salt, expected = parsed or _dummy()
    same = hmac.compare_digest(_derive(password[:MAX_LENGTH], salt, cost), expected)
    return same and parsed is not None and len(password) <= MAX_LENGTH

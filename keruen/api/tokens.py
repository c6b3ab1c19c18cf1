"""API keys and bearer tokens: pure functions, no I/O.

An API key is `kr_<key id>_<secret>`; only its SHA-256 digest is stored (keys are 256-bit
random, so a fast digest is safe: there is nothing to brute-force). A bearer token is a JWT
signed with HS256 (RFC 7519), implemented here with `hmac` so no extra dependency is needed;
only HS256 is accepted, never `none`, and the signature is compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from keruen.api.errors import Unauthorized

KEY_PREFIX = "kr_"
ISSUER = "keruen"
_HEADER = {"alg": "HS256", "typ": "JWT"}


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    key: str
    digest: str


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    key_id = secrets.token_hex(8)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, key, key_digest(key))


def looks_like_key(credential: str) -> bool:
    """API keys and JWTs share the Bearer header; a key has the prefix, a JWT has dots."""
    return credential.startswith(KEY_PREFIX) and "." not in credential


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as e:
        raise Unauthorized("malformed bearer token") from e


def sign(signing_input: str, key: bytes) -> str:
    """The HS256 signature (RFC 7515 section 3.1) of a JWS signing input."""
    return _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def _json(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())


def encode_jwt(claims: dict[str, Any], secret: str) -> str:
    signing_input = f"{_json(_HEADER)}.{_json(claims)}"
    return f"{signing_input}.{sign(signing_input, secret.encode())}"


def issue(subject: int, key_id: str, now: int, ttl_s: int, secret: str) -> str:
    """A token for a user, tied to the key it was issued for (revoking the key kills it)."""
    claims = {"iss": ISSUER, "sub": str(subject), "kid": key_id, "iat": now, "exp": now + ttl_s}
    return encode_jwt(claims, secret)


def _part(text: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64(text))
    except ValueError as e:
        raise Unauthorized("malformed bearer token") from e
    if not isinstance(value, dict):
        raise Unauthorized("malformed bearer token")
    return value


def decode_jwt(token: str, secret: str, now: int) -> dict[str, Any]:
    """The claims of a valid, unexpired token signed with `secret`; Unauthorized otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("malformed bearer token")
    if _part(parts[0]).get("alg") != "HS256":
        raise Unauthorized("bearer token must be signed with HS256")
    expected = sign(f"{parts[0]}.{parts[1]}", secret.encode())
    if not hmac.compare_digest(expected.encode(), parts[2].encode()):
        raise Unauthorized("bearer token signature does not verify")
    claims = _part(parts[1])
    _check_claims(claims, now)
    return claims


def _check_claims(claims: dict[str, Any], now: int) -> None:
    exp = claims.get("exp")
    if claims.get("iss") != ISSUER or not isinstance(claims.get("kid"), str):
        raise Unauthorized("bearer token was not issued by this service")
    if not isinstance(exp, int) or isinstance(exp, bool) or exp <= now:
        raise Unauthorized("bearer token has expired")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not (sub.isascii() and sub.isdigit()) or len(sub) > 18:
        raise Unauthorized("bearer token has no valid subject")

"""API keys and HS256 tokens (pure)."""

from __future__ import annotations

import base64
import json

import pytest

from keruen.api import tokens
from keruen.api.errors import Unauthorized

SECRET = "s" * 40
NOW = 1_700_000_000


def test_hs256_signature_matches_rfc7515_appendix_a1() -> None:
    """The JWS example of RFC 7515 A.1: our signer must give its published signature."""
    key = base64.urlsafe_b64decode(
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow=="
    )
    signing_input = (
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    )
    assert tokens.sign(signing_input, key) == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def test_issued_token_decodes_to_its_claims() -> None:
    token = tokens.issue(7, "abc", NOW, 3600, SECRET)
    claims = tokens.decode_jwt(token, SECRET, NOW + 10)
    assert (claims["sub"], claims["kid"], claims["exp"]) == ("7", "abc", NOW + 3600)


def _forge(header: dict[str, object], claims: dict[str, object], signature: str = "") -> str:
    def part(d: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.{signature}"


GOOD = {"iss": "keruen", "sub": "7", "kid": "abc", "iat": NOW, "exp": NOW + 60}


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (tokens.issue(7, "abc", NOW, 60, SECRET), "expired"),
        (tokens.issue(7, "abc", NOW, 3600, "another-secret" * 3), "signature"),
        (_forge({"alg": "none"}, GOOD), "HS256"),
        ("a.b", "malformed"),
        ("!!!.???.***", "malformed"),
        (tokens.encode_jwt({**GOOD, "iss": "evil"}, SECRET), "not issued"),
        (tokens.encode_jwt({**GOOD, "sub": "x"}, SECRET), "subject"),
        (tokens.encode_jwt({**GOOD, "sub": "²"}, SECRET), "subject"),
        (tokens.encode_jwt({**GOOD, "exp": "later"}, SECRET), "expired"),
    ],
)
def test_bad_tokens_are_refused(token: str, why: str) -> None:
    with pytest.raises(Unauthorized, match=why):
        tokens.decode_jwt(token, SECRET, NOW + 3600 + 1 if why == "expired" else NOW)


def test_tampered_claims_do_not_verify() -> None:
    _, _, signature = tokens.issue(7, "abc", NOW, 3600, SECRET).split(".")
    forged = _forge({"alg": "HS256", "typ": "JWT"}, {**GOOD, "sub": "1"}).rsplit(".", 1)[0]
    with pytest.raises(Unauthorized, match="signature"):
        tokens.decode_jwt(f"{forged}.{signature}", SECRET, NOW)


def test_keys_are_random_and_stored_as_digest() -> None:
    a, b = tokens.new_key(), tokens.new_key()
    assert a.key != b.key and a.key_id != b.key_id
    assert a.key.startswith(f"kr_{a.key_id}_") and len(a.key) > 50
    assert a.digest == tokens.key_digest(a.key) and a.key not in a.digest
    assert tokens.looks_like_key(a.key)
    assert not tokens.looks_like_key(tokens.issue(1, "k", NOW, 60, SECRET))

"""OAuth2 token endpoint and "who am I"."""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from keruen.api import accounts, tokens
from keruen.api.access import Principal
from keruen.api.deps import CurrentUser, StateDep
from keruen.api.errors import BadRequest, Unauthorized, UnsupportedMediaType
from keruen.api.schemas import Token, UserPublic, problems
from keruen.ledger.rules import iso

router = APIRouter(prefix="/v1", tags=["auth"])

FORM = "application/x-www-form-urlencoded"
TOKEN_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string", "description": "the API key's id"},
                        "client_secret": {"type": "string", "description": "the API key"},
                    },
                    "required": ["grant_type", "client_id", "client_secret"],
                }
            }
        },
    }
}


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadRequest("the form is not UTF-8", "body") from None
    return {k: v[-1] for k, v in fields.items()}


def _client_credentials(state: StateDep, form: dict[str, str]) -> Principal:
    if form.get("grant_type") != "client_credentials":
        raise BadRequest("only grant_type=client_credentials is supported", "grant_type")
    key_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not key_id or not secret:
        raise BadRequest("client_id and client_secret are required", "client_secret")
    with state.reader.connect() as conn:
        principal = accounts.principal_by_key(conn, secret)
    if principal.key_id != key_id:
        raise Unauthorized("unknown or revoked credentials")
    return principal


def _bearer_key(state: StateDep, authorization: str | None) -> Principal:
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not tokens.looks_like_key(credential.strip()):
        raise Unauthorized(
            "send an API key as Authorization: Bearer <key>, or client credentials in a form"
        )
    with state.reader.connect() as conn:
        return accounts.principal_by_key(conn, credential.strip())


@router.post(
    "/token", response_model=Token, openapi_extra=TOKEN_BODY, responses=problems(400, 401, 415)
)
async def token(
    request: Request, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> Token:
    """Exchange an API key for a short-lived bearer token (JWT, HS256).

    Either `Authorization: Bearer <API key>`, or an OAuth2 client-credentials form
    (`grant_type=client_credentials`, `client_id` = key id, `client_secret` = the key).
    """
    body = await request.body()
    if body.strip():
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            raise UnsupportedMediaType(f"send the client credentials as {FORM}", "content-type")
        principal = await run_in_threadpool(_client_credentials, state, _form(body))
    else:
        principal = await run_in_threadpool(_bearer_key, state, authorization)
    ttl = state.settings.token_ttl_s
    access = tokens.issue(
        principal.user_id, principal.key_id, int(time.time()), ttl, state.settings.secret
    )
    return Token(access_token=access, expires_in=ttl)


@router.get("/me", response_model=UserPublic, responses=problems(401))
def me(user: CurrentUser, state: StateDep) -> UserPublic:
    """The authenticated caller."""
    with state.reader.connect() as conn:
        row = accounts.user_by_name(conn, user.name)
    return UserPublic(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        tax_id=row["tax_id"],
        created=iso(row["created_us"]),
        disabled=row["disabled"],
        password=row["password"],
    )

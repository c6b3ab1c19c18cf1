"""FastAPI dependencies as `Annotated` aliases: what a router asks for in its signature.

    def stock(tax_id: str, user: PartyReader, conn: ConnDep, audit: AuditDep): ...

`CurrentUser` authenticates (API key or bearer token); `PartyReader`, `Submitter`,
`AggregateReader`, `Admin`, `AuditReader` also check a capability (never a role by name).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection, Engine

from keruen.api import accounts, audit, tokens
from keruen.api.access import Can, Principal
from keruen.api.audit import AuditEntry
from keruen.api.authcache import AuthCache
from keruen.api.errors import Forbidden, Unauthorized
from keruen.api.settings import ApiSettings
from keruen.api.writer import Writer


@dataclass
class AppState:
    """What the routers share: set once by `create_app`, on `app.state.keruen`."""

    engine: Engine  # writes (users and keys; the ledger goes through `writer`)
    reader: Engine  # reads: never waits for the writer
    writer: Writer
    settings: ApiSettings
    auth_cache: AuthCache
    extras: dict[str, Any] = field(default_factory=dict)  # routers' per-app caches


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.keruen
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_conn(state: StateDep) -> Iterator[Connection]:
    """A read connection: one consistent snapshot for the request."""
    with state.reader.connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]

bearer = HTTPBearer(auto_error=False, description="An API key, or a token from POST /v1/token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def authenticate(state: AppState, credential: str) -> Principal:
    """The caller behind an API key or a bearer token; a token is checked for expiry every
    time, and the key behind either is looked up at most every `auth_cache_s` seconds."""
    if not tokens.looks_like_key(credential):
        claims = tokens.decode_jwt(credential, state.settings.secret, int(time.time()))
    if (cached := state.auth_cache.get(credential)) is not None:
        return cached
    with state.reader.connect() as conn:
        if tokens.looks_like_key(credential):
            principal = accounts.principal_by_key(conn, credential)
        else:
            principal = accounts.principal_by_key_id(conn, claims["kid"], int(claims["sub"]))
    state.auth_cache.put(credential, principal)
    return principal


def identify(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    """Authenticate the request once (later calls in the same request reuse the answer).

    Runs on the event loop: with the cache, authentication is a dict lookup, and a miss is one
    indexed read, cheaper than a hop to a worker thread."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    if creds is None:
        raise Unauthorized("send Authorization: Bearer <API key or token>")
    principal = authenticate(request.app.state.keruen, creds.credentials)
    request.state.principal = principal
    return principal


async def current_user(request: Request, creds: Credentials) -> Principal:
    return identify(request, creds)


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(capability: Can) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that authenticates and checks one capability (flat: one dependency, not a
    chain, because FastAPI's dependency solving is a large part of a small request's cost)."""

    async def check(request: Request, creds: Credentials) -> Principal:
        user = identify(request, creds)
        if not user.can(capability):
            raise Forbidden(f"the {user.role} role may not {capability}")
        return user

    return check


submitter = require(Can.submit)  # also called directly by keruen.api.fastpath
Submitter = Annotated[Principal, Depends(submitter)]
PartyReader = Annotated[Principal, Depends(require(Can.read_party))]
AggregateReader = Annotated[Principal, Depends(require(Can.read_aggregates))]
Admin = Annotated[Principal, Depends(require(Can.manage))]
AuditReader = Annotated[Principal, Depends(require(Can.read_audit))]
CaseWorker = Annotated[Principal, Depends(require(Can.work_cases))]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass
class Auditor:
    """Records what the current caller read or wrote; returns once the entry is stored."""

    writer: Writer
    principal: Principal
    client: str
    request_state: Any = None  # marked when a refusal is recorded, so it is not recorded twice

    def entry(
        self, action: str, subject: str, outcome: str = "ok", detail: dict[str, Any] | None = None
    ) -> AuditEntry:
        return AuditEntry(self.principal, action, subject, self.client, outcome, detail)

    def record(
        self, action: str, subject: str, outcome: str = "ok", detail: dict[str, Any] | None = None
    ) -> None:
        """Record in a transaction of its own (reads, and refusals)."""
        self.writer.record([self.entry(action, subject, outcome, detail)])
        if outcome != "ok" and self.request_state is not None:
            self.request_state.refusal_audited = True

    def write(
        self,
        conn: Connection,
        action: str,
        subject: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record a change in the transaction `conn` that makes it: both commit, or neither."""
        audit.write(conn, [self.entry(action, subject, "ok", detail)])


async def get_auditor(request: Request, creds: Credentials) -> Auditor:
    principal = identify(request, creds)
    return Auditor(request.app.state.keruen.writer, principal, client_of(request), request.state)


AuditDep = Annotated[Auditor, Depends(get_auditor)]

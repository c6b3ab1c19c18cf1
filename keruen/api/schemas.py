"""Request and response bodies. Create and Public shapes are separate so a secret never leaks:
a key's digest is never in any response, and the key itself only in `KeyCreated`, once."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from keruen.api.access import Role

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- users and keys -----------------------------------------------------------------------


Password = Annotated[str, Field(min_length=1, max_length=1024)]
TaxId = Annotated[str, Field(min_length=1, max_length=64)]


class UserCreate(Strict):
    name: Name
    role: Role
    tax_id: TaxId | None = None
    password: Password | None = Field(
        default=None, description="to sign in to the web dashboard (programs use API keys)"
    )


class UserUpdate(Strict):
    """Change what is given; a role change also sets the tax id (a declarant's, or none)."""

    role: Role | None = None
    tax_id: TaxId | None = None
    disabled: bool | None = None


class PasswordSet(Strict):
    password: Password


class UserPublic(BaseModel):
    id: int
    name: str
    role: Role
    tax_id: str | None
    created: str
    disabled: bool = False
    password: bool = Field(default=False, description="whether it has a password (never shown)")


class KeyCreate(Strict):
    label: Annotated[str, Field(max_length=100)] = ""


class KeyCreated(BaseModel):
    """Shown once: the service keeps only a digest of `key`."""

    key_id: str
    key: str
    user: str
    label: str


class KeyPublic(BaseModel):
    id: str
    user: str
    label: str
    created: str
    revoked: str | None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


# --- events -------------------------------------------------------------------------------


class EventResult(BaseModel):
    index: int = Field(description="position of the event in the submitted batch, from 0")
    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    field: str | None = None
    reason: str | None = None


class SubmitResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]


class Submitted(BaseModel):
    id: str
    status: Literal["accepted", "duplicate"]


# --- ledger reads -------------------------------------------------------------------------


class StockRow(BaseModel):
    batch: str
    hs: str
    quantity: str
    unit: str


class BatchInfo(BaseModel):
    batch: str
    hs: str
    unit: str
    description: str
    origin: str
    created: str
    event_id: str | None = Field(description="the creating event (for a declarant: if its own)")


class HistoryEntry(BaseModel):
    seq: int
    id: str
    type: str
    time: str
    from_: str | None = Field(alias="from")
    to: str | None
    quantity: str
    cancelled_by: str | None


class BatchHistory(BaseModel):
    batch: BatchInfo
    events: list[HistoryEntry]


class Hop(BaseModel):
    event: str
    time: str
    from_: str | None = Field(alias="from")
    to: str | None
    quantity: str


class CreatedBy(BaseModel):
    event: str | None
    time: str
    type: str
    holder: str | None


class BackNode(BaseModel):
    batch: str
    hs: str
    unit: str
    description: str
    origin: str
    created_by: CreatedBy
    holders: list[Hop]
    inputs: list[str]


class Origin(BaseModel):
    model_config = ConfigDict(extra="allow")
    batch: str
    type: str
    time: str
    importer: str | None


class TraceBack(BaseModel):
    direction: Literal["back"] = "back"
    batch: str
    origins: list[Origin]
    batches: list[BackNode]


class Holding(BaseModel):
    holder: str
    quantity: str


class Exit(BaseModel):
    model_config = ConfigDict(extra="allow")
    event: str
    type: str
    time: str
    holder: str | None
    quantity: str


class ForwardNode(BaseModel):
    batch: str
    holders: list[Hop]
    held_by: list[Holding]
    exits: list[Exit]
    outputs: list[str]


class TraceForward(BaseModel):
    direction: Literal["forward"] = "forward"
    batch: str
    totals: dict[str, str]
    batches: list[ForwardNode]


class RejectionPublic(BaseModel):
    id: int
    received: str
    source: str
    line: int | None
    event_id: str | None
    error: str
    field: str
    reason: str
    raw: str


class LedgerSummary(BaseModel):
    """Counts only: what an analyst may read before the analytics area adds trade figures."""

    events: dict[str, int]
    batches: int
    holders: int
    rejections: int


class AuditPublic(BaseModel):
    id: int
    at: str
    user_id: int | None
    actor: str
    role: str
    action: str
    subject: str
    outcome: str
    client: str
    detail: dict[str, object] | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    revisions: list[str]


# --- problems (RFC 9457) ------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem; `field` and `reason` name what was wrong and why."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
    reason: str | None = None
    errors: list[FieldError] | None = None


_WHY = {
    400: "Malformed request",
    401: "Missing, unknown, expired or revoked credentials",
    403: "Not allowed for this caller",
    404: "Not found (or not visible to this caller)",
    409: "Conflict",
    413: "Body or batch over the limit",
    415: "Unsupported content type",
    422: "Invalid input: the field and the reason",
    503: "Storage unavailable: nothing was written",
}


def problems(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` entries for problem+json answers."""
    return {
        code: {
            "description": _WHY[code],
            "model": Problem,
            "content": {"application/problem+json": {}},
        }
        for code in codes
    }

"""Documents attached to a case (SPEC C5): an inspection report, a photo, a scanned invoice.

A document is checked before anything is written: at most `MAX_BYTES`, not empty, of an
accepted type recognised from its content (the declared type must agree: a file named
`.pdf` that is an executable is refused), with a plain name (no folders, no `..`, no control
characters: the name is shown and offered on download, never used as a path). It is stored in
the database with its SHA-256, and the case's log records who attached what (name, type,
size, digest): the case's audit trail. Only officers work cases, so only officers see them;
declarants never do.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.errors import NotFound
from keruen.risk import tables as rt
from keruen.risk.cases import _log, _open_state
from keruen.risk.errors import BadInput, CaseError, CaseNotFound
from keruen.risk.model import iso
from keruen.risk.store import inserted_id, wall_us

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_CASE = 50
TYPES = {  # accepted media types, recognised by their first bytes
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),  # UTF-8 text without control characters other than tab and newlines
}


class DocumentTooLarge(BadInput):
    status = 413


class DocumentRejected(BadInput):
    status = 415


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    case_id: int
    name: str
    media_type: str
    size: int
    sha256: str
    added: str
    added_by: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case": self.case_id,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "added": self.added,
            "added_by": self.added_by,
        }


def sniff(content: bytes) -> str | None:
    """The accepted type these bytes are, from their content alone (None: none of them)."""
    for media_type, magics in TYPES.items():
        if magics and any(content.startswith(m) for m in magics):
            return media_type
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        return None
    return "text/plain"


def check_name(name: str) -> str:
    """A document's name as shown: a plain file name, or BadInput naming the reason."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise BadInput("document", "the document has no file name")
    if len(name) > 200:
        raise BadInput("document", "the file name is longer than 200 characters")
    if any(
        unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp")
        for ch in name
    ):
        raise BadInput("document", "the file name has control characters or line breaks")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise BadInput("document", "the file name must be a plain name, without folders")
    return name


def check(name: str, declared: str, content: bytes) -> tuple[str, str]:
    """The (name, media type) of an acceptable document, or the reason it is refused."""
    name = check_name(name)
    if len(content) > MAX_BYTES:
        raise DocumentTooLarge(
            "document", f"a document is at most {MAX_BYTES // (1024 * 1024)} MiB"
        )
    if not content:
        raise BadInput("document", "the document is empty")
    found = sniff(content)
    if found is None:
        accepted = ", ".join(TYPES)
        raise DocumentRejected("document", f"not a document of an accepted type ({accepted})")
    declared = declared.split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", found):
        raise DocumentRejected("document", f"declared {declared!r} but the content is {found}")
    return name, found


def add(
    conn: Connection, case_id: int, name: str, declared: str, content: bytes, actor: str
) -> int:
    """Attach a checked document to an open case; returns its number. Nothing is written
    when a check fails."""
    name, media_type = check(name, declared, content)
    state = _open_state(conn, case_id)
    d = rt.risk_case_documents.c
    held = conn.scalar(sa.select(sa.func.count()).where(d.case_id == case_id)) or 0
    if held >= MAX_PER_CASE:
        raise CaseError(f"case {case_id} already has {MAX_PER_CASE} documents")
    digest = hashlib.sha256(content).hexdigest()
    doc_id = inserted_id(
        conn.execute(
            sa.insert(rt.risk_case_documents).values(
                case_id=case_id,
                name=name,
                media_type=media_type,
                size=len(content),
                sha256=digest,
                content=content,
                added_us=wall_us(),
                added_by=actor,
            )
        )
    )
    detail = {"id": doc_id, "name": name, "media_type": media_type, "size": len(content)}
    _log(conn, case_id, actor, "document", state.round, **detail, sha256=digest)
    return doc_id


def _row(r: Any) -> Document:
    return Document(
        r.id, r.case_id, r.name, r.media_type, r.size, r.sha256, iso(r.added_us), r.added_by
    )


def listed(conn: Connection, case_id: int) -> list[Document]:
    """A case's documents, oldest first (without their content)."""
    d = rt.risk_case_documents
    cols = [c for c in d.c if c.name != "content"]
    q = sa.select(*cols).where(d.c.case_id == case_id).order_by(d.c.id)
    return [_row(r) for r in conn.execute(q)]


def content(conn: Connection, case_id: int, doc_id: int) -> tuple[Document, bytes]:
    """One document of a case and its bytes (checked against the stored digest)."""
    d = rt.risk_case_documents
    row = conn.execute(sa.select(d).where(d.c.id == doc_id, d.c.case_id == case_id)).first()
    if row is None:
        if conn.scalar(sa.select(rt.risk_cases.c.id).where(rt.risk_cases.c.id == case_id)) is None:
            raise CaseNotFound(case_id)
        raise DocumentNotFound(case_id, doc_id)
    data = bytes(row.content)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise CaseError(f"document {doc_id} of case {case_id} does not match its stored digest")
    return _row(row), data


class DocumentNotFound(NotFound):
    """A document number the case does not have."""

    def __init__(self, case_id: int, doc_id: int) -> None:
        super().__init__(f"case {case_id} has no document {doc_id}")

"""Case documents: attached by officers (size limit, type recognised from the content, a plain
file name), stored with their SHA-256, in the case log and the audit log, downloaded as an
attachment; refused input writes nothing and is audited; declarants and analysts never see
them."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from keruen.api.tables import audit_log
from keruen.risk import cases, documents
from keruen.risk import tables as rt
from keruen.risk.errors import BadInput
from tests.web.conftest import Web

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def a_case(web: Web) -> int:
    from keruen.risk import queries

    with web.engine.begin() as conn:
        first = int(queries.alerts(conn, "open")[0]["id"])
        return cases.open_case(conn, [first], "olga", "documents")


def upload(web: Web, user: str, case_id: int, name: str, content: bytes, mime: str) -> Any:
    client = web.sign_in(user)
    token = web.csrf("olga") if user == "olga" else "x"
    return client.post(
        f"/ui/cases/{case_id}/documents",
        data={"csrf": token},
        files={"document": (name, content, mime)},
        follow_redirects=False,
    )


def stored(web: Web) -> list[Any]:
    with web.engine.connect() as conn:
        return list(conn.execute(sa.select(rt.risk_case_documents)))


def refusals(web: Web) -> list[Any]:
    with web.engine.connect() as conn:
        q = sa.select(audit_log.c.outcome, audit_log.c.detail).where(
            audit_log.c.action == "case.document", audit_log.c.outcome != "ok"
        )
        return list(conn.execute(q))


def test_an_officer_attaches_a_document_and_downloads_it(web: Web) -> None:
    case_id = a_case(web)
    r = upload(web, "olga", case_id, "inspection report.pdf", PDF, "application/pdf")
    assert r.status_code == 303, r.text
    [row] = stored(web)
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size == len(PDF)
    assert row.media_type == "application/pdf" and row.added_by == "olga"
    page = web.get("olga", f"/ui/cases/{case_id}").text
    assert "inspection report.pdf" in page and row.sha256[:16] in page
    got = web.get("olga", f"/ui/cases/{case_id}/documents/{row.id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    with web.engine.connect() as conn:
        case = cases.public_case(cases.show(conn, case_id))
        logged = set(conn.scalars(sa.select(audit_log.c.action).where(audit_log.c.actor == "olga")))
    assert case["actions"][-1]["action"] == "document"
    assert case["actions"][-1]["detail"]["sha256"] == row.sha256
    assert {"case.document", "case.document.read"} <= logged


@pytest.mark.parametrize(
    ("name", "content", "mime", "status", "words"),
    [
        ("big.pdf", PDF + b"0" * documents.MAX_BYTES, "application/pdf", 413, "at most"),
        ("tool.pdf", b"MZ\x90\x00\x03" + b"\x00" * 64, "application/pdf", 415, "accepted type"),
        ("photo.png", PDF, "image/png", 415, "declared"),
        ("script.txt", b"#!/bin/sh\x00\x01rm -rf /", "text/plain", 415, "accepted type"),
        ("../../etc/passwd", b"root:x:0:0", "text/plain", 422, "plain name"),
        ("..\\..\\boot.ini", b"[boot]", "text/plain", 422, "plain name"),
        (".htaccess", b"Deny from all", "text/plain", 422, "plain name"),
        ("invoice\u202efdp.exe", PDF, "application/pdf", 422, "control"),  # shows as ...exe.pdf
        ("empty.txt", b"", "text/plain", 422, "empty"),
        ("x" * 250 + ".pdf", PDF, "application/pdf", 422, "200"),
    ],
)
def test_hostile_documents_are_refused_and_nothing_is_written(
    web: Web, name: str, content: bytes, mime: str, status: int, words: str
) -> None:
    case_id = a_case(web)
    r = upload(web, "olga", case_id, name, content, mime)
    assert r.status_code == status, r.text[:300]
    assert "Traceback" not in r.text and words in r.text
    assert stored(web) == []
    with web.engine.connect() as conn:
        actions = [a["action"] for a in cases.public_case(cases.show(conn, case_id))["actions"]]
    assert actions == ["open"]
    assert [outcome for outcome, _ in refusals(web)] == ["refused"]


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(web: Web) -> None:
    case_id = a_case(web)
    client = web.sign_in("olga")
    r = client.post(
        f"/ui/cases/{case_id}/documents",
        content=b"-" * (documents.MAX_BYTES + 100_000),
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert r.status_code == 413 and stored(web) == []


def test_without_the_token_or_as_another_role_nothing_is_attached(web: Web) -> None:
    case_id = a_case(web)
    assert upload(web, "olga", case_id, "a.pdf", PDF, "application/pdf").status_code == 303
    [row] = stored(web)
    client = web.sign_in("olga")
    forged = client.post(
        f"/ui/cases/{case_id}/documents",
        data={"csrf": "forged"},
        files={"document": ("b.pdf", PDF, "application/pdf")},
    )
    assert forged.status_code == 403 and len(stored(web)) == 1
    for user in ("acme", "ana"):  # a declarant and an analyst: no cases, no documents
        assert upload(web, user, case_id, "c.pdf", PDF, "application/pdf").status_code == 403
        seen = web.get(user, f"/ui/cases/{case_id}/documents/{row.id}")
        assert seen.status_code == 403 and PDF not in seen.content
    assert len(stored(web)) == 1
    missing = web.get("olga", f"/ui/cases/{case_id}/documents/{row.id + 1}")
    assert missing.status_code == 404


def test_a_decided_case_takes_no_document(web: Web) -> None:
    case_id = a_case(web)
    with web.engine.begin() as conn:
        cases.decide(conn, case_id, "release", "olga", "all in order")
    r = upload(web, "olga", case_id, "late.pdf", PDF, "application/pdf")
    assert r.status_code == 409 and stored(web) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_an_accepted_name_is_always_a_plain_file_name(name: str) -> None:
    try:
        plain = documents.check_name(name)
    except BadInput:
        return
    assert plain and "/" not in plain and "\\" not in plain and not plain.startswith(".")
    assert all(ch.isprintable() or unicodedata.category(ch) == "Zs" for ch in plain)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_the_type_comes_from_the_content(content: bytes) -> None:
    found = documents.sniff(content)
    if found == "application/pdf":
        assert content.startswith(b"%PDF-")
    elif found == "text/plain":
        content.decode("utf-8")
    assert found is None or found in documents.TYPES
    assert documents.sniff(PNG) == "image/png"


def test_documents_survive_a_backup_and_restore(web: Web, tmp_path: Any) -> None:
    import io

    from keruen.store import backup
    from tests.conftest import fresh_engine

    case_id = a_case(web)
    assert upload(web, "olga", case_id, "scan.png", PNG, "image/png").status_code == 303
    out = io.BytesIO()
    backup.backup(web.engine, out)
    for other in fresh_engine("sqlite"):
        backup.restore(other, io.BytesIO(out.getvalue()))
        with other.connect() as conn:
            [doc] = documents.listed(conn, case_id)
            found, data = documents.content(conn, case_id, doc.id)
        assert data == PNG and found.sha256 == hashlib.sha256(PNG).hexdigest()

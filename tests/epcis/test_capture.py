"""Importing EPCIS into the ledger, on SQLite and PostgreSQL: mapping, idempotency, refusals."""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keruen.cli import app
from keruen.epcis import capture as capture_module
from keruen.epcis import mapping, validate
from keruen.epcis.capture import capture, capture_bulk, load_parties, prepare
from keruen.epcis.digitallink import to_digital_link
from keruen.epcis.mapping import PARTY, Parties
from keruen.epcis.validate import Issue, Report
from keruen.store import db, queries
from tests.epcis.kzdoc import (
    BATCH,
    DISPATCH,
    IMPORT,
    TRANSFER,
    TRANSFER_XML,
    WRITE_OFF,
    document,
    parties_json,
)
from tests.factory import A, B

PARTIES = load_parties(parties_json())


def _balance(eng: Engine, holder: str) -> dict[str, str]:
    with eng.connect() as conn:
        return {
            row["batch"]: str(row["quantity"])
            for row in queries.public(queries.stock(conn, holder))
        }


def test_a_chain_maps_to_import_transfer_dispatch_write_off(engine: Engine) -> None:
    report = capture(engine, document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF), "kz.jsonld", PARTIES)
    assert (report.accepted, report.rejected) == (4, 0), report.public()
    assert _balance(engine, A) == {BATCH: "60"}
    assert _balance(engine, B) == {BATCH: "25"}
    with engine.connect() as conn:
        kinds = [e["type"] for e in queries.public(queries.history(conn, BATCH))["events"]]
    assert kinds == ["import", "transfer", "dispatch", "write_off"]


def test_the_event_hash_is_the_idempotency_key_across_syntaxes(engine: Engine) -> None:
    capture(engine, document(IMPORT), "import.jsonld", PARTIES)
    first = capture(engine, document(TRANSFER), "t.jsonld", PARTIES)
    again = capture(engine, TRANSFER_XML, "t.xml", PARTIES)
    twice = capture(engine, document(TRANSFER), "t.jsonld", PARTIES)
    assert (first.accepted, again.duplicates, twice.duplicates) == (1, 1, 1)
    assert _balance(engine, B) == {BATCH: "40"}


def test_same_hash_other_content_is_a_conflict(engine: Engine) -> None:
    capture(engine, document(IMPORT, TRANSFER), "a.jsonld", PARTIES)
    other = load_parties(parties_json().replace("Astana Retail LLP", "x").replace(B, A))
    report = capture(engine, document(TRANSFER), "b.jsonld", other)
    assert report.rejected == 1
    assert report.rejections[0].layer == "ledger"


def test_unmappable_and_invalid_events_are_refused_with_their_reason(engine: Engine) -> None:
    unknown_party = json.loads(json.dumps(TRANSFER))
    unknown_party["destinationList"][0]["destination"] = "https://id.gs1.org/417/0000000000000"
    bad_step = dict(TRANSFER, bizStep="transforming")
    report = capture(engine, document(IMPORT, unknown_party, bad_step), "x.jsonld", PARTIES)
    assert report.accepted == 1 and report.rejected == 2
    by_event = {r.event: r for r in report.rejections}
    assert by_event[1].layer == "ledger" and "master data" in by_event[1].reason
    assert by_event[2].layer == "cbv" and by_event[2].rule == "cbv/bizStep"
    assert all(r.hash and r.hash.startswith("ni:///sha-256;") for r in report.rejections)
    with engine.connect() as conn:
        logged = queries.public(queries.rejections(conn))
    assert len(logged) >= 2


def test_an_error_declaration_cancels_the_event(engine: Engine) -> None:
    capture(engine, document(IMPORT, TRANSFER), "a.jsonld", PARTIES)
    declared = dict(
        TRANSFER,
        errorDeclaration={
            "declarationTime": "2024-03-02T12:00:00+05:00",
            "reason": "incorrect_data",
        },
    )
    report = capture(engine, document(declared), "e.jsonld", PARTIES)
    assert report.accepted == 1, report.public()
    assert _balance(engine, B) == {}
    assert _balance(engine, A) == {BATCH: "100"}


def test_cli_import(tmp_path: Path) -> None:
    doc, parties, db = tmp_path / "kz.jsonld", tmp_path / "parties.json", tmp_path / "k.db"
    doc.write_bytes(document(IMPORT, TRANSFER))
    parties.write_text(parties_json())
    args = ["epcis", "import", str(doc), "--db", str(db), "--parties", str(parties), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] == 2


def test_a_document_prepared_in_two_processes_is_prepared_as_in_one(
    conformance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forked helper's slices (hash, CBV rules, mapping) give exactly what one process
    gives: lines, their events, hashes, refusals and the refused events' JSON, in order."""
    monkeypatch.setattr(capture_module, "SLICE", 3)
    files = [
        *sorted((conformance / "openepcis-test-resources").rglob("*.json"))[:40],
        *sorted((conformance / "XML").rglob("*.xml"))[:10],
    ]
    assert len(files) >= 20
    ours = document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF, TRANSFER, IMPORT)  # a duplicate, too
    docs = [(p.name, p.read_bytes(), Parties()) for p in files]
    docs += [("kz.jsonld", ours, load_parties(parties_json(), "parties.json"))]
    docs += [("kz.xml", TRANSFER_XML, load_parties(parties_json(), "parties.json"))]
    for name, data, parties in docs:
        one = prepare(data, name, parties, parallel=False)
        two = prepare(data, name, parties, parallel=True)
        assert two == one, name
    assert one.lines and prepare(ours, "kz.jsonld", docs[-1][2], parallel=True).lines


def test_the_schema_checked_slice_by_slice_says_what_the_whole_document_says(
    conformance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON Schema checked where each slice is prepared refuses the same events, with
    the same issues, as the whole document checked at once: valid and invalid documents, and
    ours with an event the schema refuses in a later slice, before and after others."""
    whole = validate.read_layers

    def at_once(
        data: bytes, name: str = "", lazy: bool = False, defer_schema: bool = False
    ) -> tuple[Report, list[Issue] | None]:
        return whole(data, name, lazy)

    json_dir = conformance / "openepcis-test-resources" / "2.0" / "EPCIS" / "JSON"
    files = sorted((json_dir / "Capture").rglob("*.json"))
    assert len(files) >= 40
    bad_time = {**TRANSFER, "eventTime": 20240301}
    bad_action = {**DISPATCH, "action": "JUMP"}
    ours = [
        document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF, TRANSFER, IMPORT, bad_time, TRANSFER),
        document(IMPORT, TRANSFER, DISPATCH, bad_action, TRANSFER, WRITE_OFF, bad_time),
    ]
    parties = load_parties(parties_json(), "parties.json")
    docs = [(p.name, p.read_bytes(), Parties()) for p in files]
    docs += [("kz.jsonld", data, parties) for data in ours]
    monkeypatch.setattr(capture_module, "SLICE", 3)
    sliced = [prepare(data, name, parties, parallel=True) for name, data, parties in docs]
    monkeypatch.setattr(capture_module, "read_layers", at_once)
    for (name, data, parties), got in zip(docs, sliced, strict=True):
        assert got == prepare(data, name, parties, parallel=False), name
    refused = [[(i.event, i.layer) for i in got.refused] for got in sliced[-2:]]
    assert refused == [[(6, "schema")], [(3, "schema"), (6, "schema")]]


def test_a_bulk_import_into_a_new_ledger_ends_as_the_ordinary_one(tmp_path: Path) -> None:
    """`keruen epcis import --bulk`: the same outcomes, stock and rejection log as an import
    into a fresh ledger; an existing file is refused and left alone."""
    unknown_party = json.loads(json.dumps(TRANSFER))
    unknown_party["destinationList"][0]["destination"] = "https://id.gs1.org/417/0000000000000"
    doc = document(IMPORT, TRANSFER, unknown_party, DISPATCH, TRANSFER, WRITE_OFF)
    ordinary = db.ready(str(tmp_path / "ordinary.db"))
    expected = capture(ordinary, doc, "kz.jsonld", PARTIES)
    report, loaded = capture_bulk(str(tmp_path / "bulk.db"), doc, "kz.jsonld", PARTIES)
    assert report == expected and loaded.checked.ok
    assert (report.accepted, report.duplicates, report.rejected) == (4, 1, 1)
    bulk = db.ready(str(tmp_path / "bulk.db"), create=False)
    assert _balance(bulk, A) == _balance(ordinary, A) and _balance(bulk, B) == _balance(ordinary, B)
    with bulk.connect() as conn, ordinary.connect() as other:
        logged = [r["reason"] for r in queries.public(queries.rejections(conn))]
        assert logged == [r["reason"] for r in queries.public(queries.rejections(other))]
    assert len(logged) == 1 and "master data" in logged[0]
    source = tmp_path / "kz.jsonld"
    source.write_bytes(doc)
    args = ["epcis", "import", str(source), "--db", str(tmp_path / "bulk.db"), "--bulk"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and "exists" in str(result.exception)
    assert _balance(db.ready(str(tmp_path / "bulk.db")), A) == _balance(ordinary, A)


def _mixed() -> bytes:
    unknown_party = json.loads(json.dumps(TRANSFER))
    unknown_party["destinationList"][0]["destination"] = "https://id.gs1.org/417/0000000000000"
    bad_step = {**TRANSFER, "bizStep": "https://ref.gs1.org/cbv/BizStep-inspecting"}
    too_much = json.loads(json.dumps(WRITE_OFF))
    too_much["quantityList"][0]["quantity"] = 10_000  # the ledger refuses it
    return document(
        IMPORT, TRANSFER, unknown_party, DISPATCH, bad_step, TRANSFER, too_much, WRITE_OFF
    )


def _logged(eng: Engine) -> list[str]:
    with eng.connect() as conn:
        return sorted(r["reason"] for r in queries.public(queries.rejections(conn)))


_shared_part = capture_module._shared_part  # (the real one, once the test replaced it)


def _dying_part(lo: int, hi: int) -> capture_module.Prepared:
    if lo >= 4:
        os._exit(1)  # the helper dies (as under the kernel's OOM killer)
    return _shared_part(lo, hi)


@pytest.mark.parametrize("helper_dies", [False, True])
def test_a_capture_overlapped_with_a_helper_ends_as_one_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helper_dies: bool
) -> None:
    """The helper prepares slices while the ingest takes the ones before: the same report
    (refusals and ledger rejections in document order), stock and rejection log; a helper
    that dies leaves its slices to this process, never a partial import."""
    monkeypatch.setattr(capture_module, "SLICE", 2)
    monkeypatch.setattr(capture_module, "CHUNK", 3)
    one, two = db.ready(str(tmp_path / "one.db")), db.ready(str(tmp_path / "two.db"))
    expected = capture(one, _mixed(), "m.jsonld", PARTIES, parallel=False)
    if helper_dies:
        monkeypatch.setattr(capture_module, "_shared_part", _dying_part)
    report = capture(two, _mixed(), "m.jsonld", PARTIES, parallel=True)
    assert report == expected
    assert (report.accepted, report.duplicates, report.rejected) == (4, 1, 3), report.public()
    assert [r.event for r in report.rejections] == [2, 4, 6]
    assert _balance(two, A) == _balance(one, A) and _balance(two, B) == _balance(one, B)
    assert _logged(two) == _logged(one) and len(_logged(one)) == 3


def test_an_ingest_that_fails_ends_the_helper_and_unfreezes_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture_module, "SLICE", 2)

    def failing(eng: Engine, lines: Iterable[bytes], **_: object) -> None:
        next(iter(lines))
        assert gc.get_freeze_count() > 0  # the document out of the collector's sight
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(capture_module, "ingest_lines", failing)
    with pytest.raises(RuntimeError) as failed:  # (its traceback keeps the frames alive)
        capture(db.ready(str(tmp_path / "x.db")), _mixed(), "m.jsonld", PARTIES, parallel=True)
    assert gc.get_freeze_count() == 0 and capture_module._shared is None
    assert "disk is full" in str(failed.value)


def _party_key_spec(uri: str) -> str:
    """`mapping._party_key` as it was before its quick path for Keruen's party URIs."""
    if uri.isdigit() and len(uri) == 13:
        return uri
    link = to_digital_link(uri) or uri
    m = re.match(r"https://id\.gs1\.org/(?:414|417)/(\d{13})", link)
    return m.group(1) if m else uri


_COUNTRIES = ["KZ", "kz", "RU", "01", "00", "K1", "KZZ", "K", "", "Ké", "gln", "party"]
_TAX_IDS = ["150249184449", "0614141000005", "414", "417", "8004", "name:Acme%20LLC", "",
            "417/0614141000005", "414/0614141000005", "01/09506000134352", "a?8004=1",
            "x#417/0614141000005", "1\t417/0614141000005", "gln/0614141000005/x", "1234%2F5678",
            "414/9520123456788", "gln/9520123456788"]  # fmt: skip


@pytest.mark.parametrize("country", _COUNTRIES)
def test_keruen_party_uris_key_as_the_digital_link_parse_says(country: str) -> None:
    keys = set()
    for tax_id in _TAX_IDS:
        for uri in (
            f"{PARTY}{country}/{tax_id}",
            f"{PARTY}{country}",
            f"{PARTY}{tax_id}",
            f"{PARTY[:-1]}s/{country}/{tax_id}",  # (another path: the Digital Link parse's)
        ):
            keys.add(key := mapping._party_key(uri))
            assert key == _party_key_spec(uri), uri
    assert any(k.isdigit() for k in keys)  # (GLNs found where there are some)

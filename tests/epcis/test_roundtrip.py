"""Round trips: EPCIS -> ledger -> EPCIS -> fresh ledger, and contract events -> EPCIS -> back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen.epcis.capture import capture, load_parties
from keruen.epcis.document import parse_document
from keruen.epcis.export import export_events, to_json_ld
from keruen.epcis.hashing import event_hash
from keruen.epcis.mapping import Parties
from keruen.epcis.schemas import document_schema
from keruen.ingest import ingest_lines
from keruen.store import queries
from keruen.store.port import LedgerReader
from tests.conftest import BACKENDS, fresh_engine
from tests.epcis.kzdoc import BATCH, DISPATCH, IMPORT, TRANSFER, WRITE_OFF, document, parties_json
from tests.factory import A, B, C, import_, transfer, transform, transit_open

PARTIES = load_parties(parties_json())


@pytest.fixture(params=BACKENDS)
def second(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from fresh_engine(request.param)


def _export(eng: Engine) -> bytes:
    with eng.connect() as conn:
        exported = export_events(conn, LedgerReader(conn).select_events())
    doc = to_json_ld(exported.events, "2024-04-01T00:00:00Z")
    assert list(document_schema().iter_errors(doc)) == []
    return json.dumps(doc).encode()


def _state(eng: Engine, holders: list[str], batches: list[str]) -> dict[str, Any]:
    with eng.connect() as conn:
        return {
            "stock": {h: queries.public(queries.stock(conn, h)) for h in holders},
            "back": {b: queries.public(queries.trace_back(conn, b)) for b in batches},
            "forward": {b: queries.public(queries.trace_forward(conn, b)) for b in batches},
        }


def _hashes(data: bytes) -> list[str]:
    return [event_hash(e) for e in parse_document(data).events]


def test_epcis_to_ledger_to_epcis_to_a_fresh_ledger(engine: Engine, second: Engine) -> None:
    original = document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF)
    assert capture(engine, original, "kz.jsonld", PARTIES).accepted == 4
    exported = _export(engine)
    assert _hashes(exported) == _hashes(original)
    assert capture(second, exported, "export.jsonld", PARTIES).accepted == 4
    assert _state(engine, [A, B], [BATCH]) == _state(second, [A, B], [BATCH])
    assert _hashes(_export(second)) == _hashes(original)


def _contract_events() -> list[dict[str, Any]]:
    batch = "55501/010324/0000777/001"
    cancelled = transfer("t2", batch, A, C, "5", day=3)
    return [
        import_("i1", batch, holder=A, qty="100", mass_kg="12.5"),
        transfer("t1", batch, A, B, "30"),
        cancelled,
        {
            "type": "cancel",
            "id": "c1",
            "time": "2024-03-04T10:00:00+05:00",
            "target": "t2",
            "reason": "duplicate invoice",
        },
        transform("f1", B, [(batch, "10")], "B-OUT-1", "4"),
        {
            "type": "write_off",
            "id": "w1",
            "time": "2024-03-05T10:00:00+05:00",
            "batch": batch,
            "holder": A,
            "quantity": "1",
            "reason": "loss",
        },
        {
            "type": "adjust",
            "id": "a1",
            "time": "2024-03-06T10:00:00+05:00",
            "batch": batch,
            "holder": A,
            "quantity": "-2",
            "reason": "stocktake",
        },
        transit_open("x1", "24KZ0001", day=6),
        {
            "type": "seal_ping",
            "id": "s1",
            "time": "2024-03-06T11:00:00+05:00",
            "seal": "SEAL-9",
            "lat": 43.25,
            "lon": 76.9,
            "state": "intact",
        },
        {
            "type": "checkpoint",
            "id": "k1",
            "time": "2024-03-07T09:00:00+05:00",
            "mrn": "24KZ0001",
            "post": "KZDOS-RAIL",
            "mass_kg": "1200.5",
        },
        {
            "type": "incident",
            "id": "n1",
            "time": "2024-03-07T15:30:00+05:00",
            "mrn": "24KZ0001",
            "kind": "transhipment",
            "lat": 47.1,
            "lon": 70.25,
            "note": "moved to wagon 2/7 after an axle fault",
        },
        {
            "type": "incident",
            "id": "n2",
            "time": "2024-03-07T16:00:00+05:00",
            "mrn": "24KZ0001",
            "kind": "seal_replaced",
            "lat": 47.2,
            "lon": 70.3,
            "note": "",
        },
        {
            "type": "cancel",
            "id": "c2",
            "time": "2024-03-07T16:10:00+05:00",
            "target": "n2",
            "reason": "entered twice",
        },
        {
            "type": "transit_close",
            "id": "z1",
            "time": "2024-03-09T12:00:00+05:00",
            "mrn": "24KZ0001",
            "post": "KZZS1-RAIL",
            "mass_kg": "1199",
            "seals_intact": False,
        },
        {
            "type": "receipt",
            "id": "r1",
            "time": "2024-03-12T12:00:00+01:00",
            "ref": "24KZ0001",
            "country": "DE",
            "document": {"kind": "arrival_notice", "number": "DE/2024/77"},
            "quantity": "400",
            "mass_kg": "1199",
        },
        {
            "type": "receipt",
            "id": "r2",
            "time": "2024-03-13T12:00:00+03:00",
            "ref": "t1",
            "country": "RU",
            "document": {"kind": "CMR", "number": "RU 55/1"},
            "mass_kg": "30.25",
        },
    ]


def _typed(eng: Engine) -> list[dict[str, Any]]:
    with eng.connect() as conn:
        stored = list(LedgerReader(conn).select_events())
    return [msgspec.to_builtins(s.event) | {"cancelled": s.cancelled} for s in stored]


def test_contract_events_to_epcis_and_back(engine: Engine, second: Engine) -> None:
    """Every event type the ledger holds: exported, imported into a fresh ledger, the same
    typed events and cancellations, stock, traces, and (exported again) event hashes."""
    events = _contract_events()
    lines = [json.dumps(e).encode() for e in events]
    report = ingest_lines(engine, lines)
    assert report.rejected == 0, report.public()
    with engine.connect() as conn:
        exported_events = export_events(conn, LedgerReader(conn).select_events())
    assert exported_events.skipped == {}
    assert {e["type"] for e in events} == set(TYPES_EXPORTED)
    exported = _export(engine)
    back = capture(second, exported, "back.jsonld", Parties())
    assert back.rejected == 0, back.public()
    assert back.accepted == len(events)
    assert _typed(second) == _typed(engine)
    batches = ["55501/010324/0000777/001", "B-OUT-1"]
    assert _state(engine, [A, B, C], batches) == _state(second, [A, B, C], batches)
    assert _hashes(_export(second)) == _hashes(exported)


# every type of the event contract (keruen.model.events)
TYPES_EXPORTED = [
    "import", "transfer", "cancel", "transform", "write_off", "adjust", "transit_open",
    "seal_ping", "checkpoint", "incident", "transit_close", "receipt",
]  # fmt: skip


def test_every_contract_type_has_an_epcis_form() -> None:
    from typing import get_args

    from keruen.epcis.export import _BUILDERS
    from keruen.model import events as ev

    types = set(get_args(ev.AnyEvent))
    assert types - set(_BUILDERS) == {ev.Cancel}  # a cancel is its target's event, declared


def test_transit_events_from_another_system_map_without_keruens_extensions_of_type() -> None:
    """A checkpoint, close, incident and receipt told only in EPCIS terms (no keruen:type or
    keruen:id) map by their shape: the transit URI, the read point, the sensor reports."""
    from keruen.epcis.export import contract_to_epcis
    from keruen.epcis.mapping import k, map_event
    from keruen.model.validate import parse_object

    for event in _contract_events()[9:]:
        if event["type"] == "cancel":
            continue
        epcis = contract_to_epcis(parse_object(event).event)
        assert epcis is not None
        del epcis[k("type")], epcis[k("id")]
        (mapped,) = map_event(epcis, "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0", Parties())
        assert mapped["type"] == event["type"]
        same = {key: mapped[key] for key in event if key not in ("id",)}
        assert parse_object(same | {"id": "x"}).event == parse_object(event | {"id": "x"}).event


def test_cli_export_writes_a_valid_document(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from keruen.cli import app

    db, doc, out = tmp_path / "k.db", tmp_path / "kz.jsonld", tmp_path / "out.jsonld"
    doc.write_bytes(document(IMPORT, TRANSFER))
    parties = tmp_path / "p.json"
    parties.write_text(parties_json())
    runner = CliRunner()
    runner.invoke(app, ["epcis", "import", str(doc), "--db", str(db), "--parties", str(parties)])
    result = runner.invoke(
        app, ["epcis", "export", "--db", str(db), "--out", str(out), "--since", "1"]
    )
    assert result.exit_code == 0, result.output
    assert _hashes(out.read_bytes()) == _hashes(document(TRANSFER))


# ---------------------------------------------------------------- property: transit events


def _posts() -> list[str]:
    from keruen.settings import get_settings

    return sorted(get_settings().jurisdiction.posts)[:40]


_CODE = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]),
    min_size=1,
    max_size=24,
)
_MASS = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
_TIME = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000, tzinfo=UTC).isoformat()
)
_LAT = st.floats(min_value=-90, max_value=90, allow_nan=False)
_LON = st.floats(min_value=-180, max_value=180, allow_nan=False)


@st.composite
def _transit_event(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["checkpoint", "transit_close", "incident", "receipt"]))
    base = {"type": kind, "id": draw(_CODE), "time": draw(_TIME)}
    if kind in ("checkpoint", "transit_close"):
        base |= {"mrn": draw(_CODE), "post": draw(st.sampled_from(_posts())),
                 "mass_kg": str(draw(_MASS))}  # fmt: skip
        if kind == "transit_close":
            base["seals_intact"] = draw(st.booleans())
    elif kind == "incident":
        base |= {"mrn": draw(_CODE), "kind": draw(_CODE), "lat": draw(_LAT), "lon": draw(_LON),
                 "note": draw(st.text(max_size=80))}  # fmt: skip
    else:
        base |= {"ref": draw(_CODE), "country": draw(st.sampled_from(["DE", "RU", "CN", "KG"])),
                 "document": {"kind": draw(_CODE), "number": draw(_CODE)}}  # fmt: skip
        amounts = draw(st.sampled_from([("quantity",), ("mass_kg",), ("quantity", "mass_kg")]))
        base |= {name: str(draw(_MASS)) for name in amounts}
    return base


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_transit_event(), st.booleans())
def test_transit_events_and_receipts_survive_epcis_json_ld(
    event: dict[str, Any], declared: bool
) -> None:
    """Any valid checkpoint, close, incident or receipt, exported as EPCIS 2.0 JSON-LD (with
    or without keruen:type and keruen:id) and read back through every validation layer and
    the mapping, is the same contract event."""
    from keruen.epcis.capture import prepare
    from keruen.epcis.export import contract_to_epcis
    from keruen.epcis.mapping import k
    from keruen.errors import InvalidEvent
    from keruen.model.validate import parse, parse_object

    try:
        original = parse_object(event).event
    except InvalidEvent:
        assume(False)
        raise
    epcis = contract_to_epcis(original)
    assert epcis is not None
    if not declared:
        del epcis[k("type")], epcis[k("id")]
    data = json.dumps(to_json_ld([epcis], "2024-04-01T00:00:00Z")).encode()
    prepared = prepare(data, "p.jsonld", Parties())
    assert prepared.refused == [], prepared.refused
    (line,) = prepared.lines
    back = parse(line).event
    if not declared:
        back = msgspec.structs.replace(back, id=original.id)
    assert back == original

"""Lists and results in the database (SQLite and PostgreSQL), and screening the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.jurisdiction import kz_bin_check_digit
from keruen.screening import load_screener, results_for, screen_ledger, screened, store
from keruen.screening import tables as t
from keruen.screening.loaders import Loaded, chpl, goods_csv, ofac_demo
from keruen.screening.model import Entry, Identifier
from keruen.store.schema import full_metadata


def bin_(first11: str) -> str:
    return first11 + str(kz_bin_check_digit(first11))


HOLDER = bin_("20010100001")
BUYER = {"tax_id": "7701234567", "name": "ООО «Ромашка»", "country": "RU"}


def events() -> list[bytes]:
    party = {"tax_id": "91-1234", "name": "Chip Maker GmbH", "country": "DE"}
    imp = {
        "type": "import",
        "id": "imp-1",
        "time": "2024-03-01T10:00:00+05:00",
        "batch": "55501/010324/0000001/001",
        "holder": HOLDER,
        "goods": {"hs": "854231", "description": "processors", "unit": "PCE", "origin": "DE"},
        "quantity": "100",
        "value": {"amount": "1000", "currency": "USD"},
        "seller": party,
        "post": "KZHOR-ROAD",
        "document": {"kind": "DT", "number": "1"},
    }
    dispatch = {
        "type": "dispatch",
        "id": "dsp-1",
        "time": "2024-04-01T10:00:00+05:00",
        "batch": imp["batch"],
        "holder": HOLDER,
        "quantity": "10",
        "value": {"amount": "100", "currency": "USD"},
        "buyer": BUYER,
        "post": "KZTK1-ROAD",
        "document": {"kind": "MN", "number": "2"},
    }
    return [json.dumps(e).encode() for e in (imp, dispatch)]


def romashka(version: str) -> Loaded:
    entry = Entry(
        "local",
        "r1",
        "organization",
        ("Romashka LLC",),
        (Identifier("inn", "7701234567", "RU"),),
        ("RU",),
    )
    return Loaded("local", "parties", version, "test", entries=[entry])


def test_migration_matches_tables(engine: Engine) -> None:
    meta = full_metadata()
    inspector = sa.inspect(engine)
    for table in (
        t.screening_lists,
        t.screening_entries,
        t.screening_rules,
        t.screening_checks,
        t.screening_hits,
    ):
        assert table.name in meta.tables
        cols = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(cols) == {c.name for c in table.columns}
        pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert set(pk) == {c.name for c in table.primary_key}


def test_save_is_versioned_and_idempotent(engine: Engine) -> None:
    with engine.begin() as conn:
        assert store.save(conn, romashka("v1")) is True
        assert store.save(conn, romashka("v1")) is False
        store.save(conn, romashka("v2"))
        assert store.current_versions(conn)["local"].version == "v2"
        assert [i.version for i in store.history(conn)] == ["v1", "v2"]
        hits = load_screener(conn).screen_party("ООО Ромашка", country="RU")
    assert [(h.entry_id, h.version) for h in hits] == [("r1", "v2")]


def test_screen_ledger_stores_and_rescreens(engine: Engine) -> None:
    report = ingest_lines(engine, events(), source="test")
    assert report.accepted == 2, report.public()
    with engine.begin() as conn:
        store.save(conn, romashka("v1"))
    first = screen_ledger(engine)
    assert (first.events, first.screened) == (1, 1)
    with engine.connect() as conn:
        hits = results_for(conn, ["dsp-1", "imp-1"])["dsp-1"]
        assert screened(conn, ["dsp-1"]) == {"dsp-1"}
    kinds = {(h["list"], h["subject"], h["action"]) for h in hits}
    assert kinds == {("chpl", "goods[0]", "block"), ("local", "buyer", "match")}
    assert screen_ledger(engine).screened == 0  # nothing new: nothing done
    with engine.begin() as conn:
        store.save(conn, romashka("v2"))
    again = screen_ledger(engine)
    assert again.screened == 1 and again.by_list == {"local": 1}
    with engine.connect() as conn:
        versions = {
            h["version"] for h in results_for(conn, ["dsp-1"])["dsp-1"] if h["list"] == "local"
        }
    assert versions == {"v2"}


def test_admin_goods_list_and_demo_parties(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "kz.csv"
    path.write_text("hs_prefix,destinations,action\n8542,RU,licence\n")
    with engine.begin() as conn:
        store.save(conn, chpl())
        store.save(conn, goods_csv(path, "kz-national", "2024-1"))
        store.save(conn, ofac_demo())
        s = load_screener(conn)
    from datetime import date

    hits = s.screen_goods("854231", "RU", date(2024, 5, 1))
    assert [(h.list, h.action) for h in hits] == [("chpl", "block"), ("kz-national", "licence")]
    with engine.connect() as conn, pytest.raises(store.UnknownList):
        load_screener(conn, ["nope"])


def second_dispatch() -> bytes:
    later = json.loads(events()[1])
    later.update(
        id="dsp-2", time="2024-04-02T10:00:00+05:00", document={"kind": "MN", "number": "3"}
    )
    return json.dumps(later).encode()


def romashka_changed(version: str) -> Loaded:
    entry = romashka(version).entries[0]
    changed = Entry(entry.list, entry.id, entry.schema, (*entry.names, "Romashka Trade"))
    return Loaded("local", "parties", version, "test", entries=[changed])


def test_a_decided_false_positive_is_suppressed_until_the_entry_changes(engine: Engine) -> None:
    from keruen.risk import cases, service
    from keruen.risk import tables as rt

    ingest_lines(engine, events(), source="test")
    with engine.begin() as conn:
        store.save(conn, romashka("v1"))
    screen_ledger(engine)
    service.detect(engine)
    with engine.begin() as conn:
        alert = conn.execute(
            sa.select(rt.risk_alerts.c.id).where(rt.risk_alerts.c.rule == "sanctioned_party")
        ).scalar_one()
        case = cases.open_case(conn, [alert], "officer")
        cases.decide(conn, case, "false_positive", "officer", "another Romashka")
    ingest_lines(engine, [second_dispatch()], source="test")
    screen_ledger(engine)
    with engine.connect() as conn:
        active = results_for(conn, ["dsp-2"])["dsp-2"]
        assert [h["kind"] for h in active] == ["goods"]  # the goods still block; the party not
        kept = results_for(conn, ["dsp-2"], include_suppressed=True)["dsp-2"]
    assert [(h["subject"], h["action"]) for h in kept if h["kind"] == "party"] == [
        ("buyer", "cleared")
    ]
    with engine.begin() as conn:
        store.save(conn, romashka("v2"))  # a new version, the entry as it was: still cleared
    screen_ledger(engine)
    with engine.connect() as conn:
        assert not [
            h for h in results_for(conn, ["dsp-2"]).get("dsp-2", []) if h["kind"] == "party"
        ]
    with engine.begin() as conn:
        store.save(conn, romashka_changed("v3"))  # the entry changed: the decision is lifted
    screen_ledger(engine)
    with engine.connect() as conn:
        party = [h for h in results_for(conn, ["dsp-2"])["dsp-2"] if h["kind"] == "party"]
    assert [(h["version"], h["action"]) for h in party] == [("v3", "match")]


def test_a_new_version_screens_only_the_entries_that_changed(engine: Engine) -> None:
    ingest_lines(engine, events(), source="test")
    other = Entry("local", "o1", "organization", ("Vostok Trade LLC",), countries=("RU",))
    with engine.begin() as conn:
        store.save(
            conn, Loaded("local", "parties", "v1", "t", entries=[romashka("v1").entries[0], other])
        )
    assert screen_ledger(engine).carried == 0  # first version: screened in full
    renamed = Entry("local", "o1", "organization", ("Romashka Vostok",), countries=("RU",))
    with engine.begin() as conn:
        store.save(
            conn,
            Loaded("local", "parties", "v2", "t", entries=[romashka("v2").entries[0], renamed]),
        )
    report = screen_ledger(engine)
    assert (report.screened, report.carried) == (1, 1)  # r1 carried over, o1 screened anew
    with engine.connect() as conn:
        party = {
            (h["entry_id"], h["version"])
            for h in results_for(conn, ["dsp-1"])["dsp-1"]
            if h["kind"] == "party"
        }
        assert store.deltas(conn, {"local": "v2"})["local"].changed == {"o1"}
    assert party == {("r1", "v2")}  # "ООО Ромашка" is not "Romashka Vostok"
    with engine.begin() as conn:  # the same result as screening v2 from scratch
        conn.execute(t.screening_checks.delete())
        conn.execute(t.screening_hits.delete())
        conn.execute(t.screening_entries.delete().where(t.screening_entries.c.version == "v1"))
    assert screen_ledger(engine).carried == 0
    with engine.connect() as conn:
        fresh = {
            (h["entry_id"], h["version"])
            for h in results_for(conn, ["dsp-1"])["dsp-1"]
            if h["kind"] == "party"
        }
    assert fresh == party


def test_the_economy_teaches_the_word_weights(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keruen.screening import ledger as screening_ledger
    from keruen.screening.words import WEIGHTS

    ingest_lines(engine, events(), source="test")
    assert screening_ledger.learn_economy(engine) == 0  # one name says nothing of an economy
    assert WEIGHTS.factor("romashka") == 1.0
    monkeypatch.setattr(screening_ledger, "ECONOMY_MIN_NAMES", 1)
    try:
        assert screening_ledger.learn_economy(engine) == 1
        assert WEIGHTS.factor("romashka") == 0.2  # every party here is a Romashka
    finally:
        WEIGHTS.forget_economy()
    assert WEIGHTS.factor("romashka") == 1.0


def test_detection_says_when_the_party_check_cannot_be_trusted(engine: Engine) -> None:
    """No party list: detection must say no sanctioned-party check ran; only the shipped
    extract: it must say so; a full list: nothing to say."""
    from keruen.screening import loaders
    from keruen.screening.store import party_lists_warning, save

    sdn = Path(__file__).parent / "data" / "ofac" / "sdn.csv"
    with engine.begin() as conn:
        assert "no party list is loaded" in (party_lists_warning(conn) or "")
        save(conn, loaders.ofac_demo())
        assert "only an OFAC extract" in (party_lists_warning(conn) or "")
        save(conn, loaders.ofac(sdn))
        assert party_lists_warning(conn) is None

"""The Scenario API other areas' tests build with: valid events, truth where asked."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest
from sqlalchemy.engine import Engine

from keruen.jurisdiction import kz_bin_problem
from keruen.model import events as ev
from keruen.sim import Scenario, home
from keruen.sim.bait import BAITS
from keruen.sim.schemes import PLANTS


def test_the_documented_example(sqlite_engine: Engine) -> None:
    s = Scenario(seed=1, start="2022-06-01")
    lot = s.import_("854231", 500, seller="HK")
    shells = s.shells(3)
    with s.scheme("shell_chain"):
        lot = s.chain(lot, shells, days=1)
        d = s.dispatch(lot, s.buyer("RU"))
        s.receipt(d)
    s.transit("china-uzbekistan", exit_at="KZKR1-ROAD")
    s.plant("layering", hops=6)
    report = s.ingest(sqlite_engine)
    assert report.rejected == 0, [str(r.error) for r in report.rejections]
    (rec, layering) = s.truth
    assert rec["kind"] == "shell_chain" and d["id"] in rec["events"]
    assert {c.tax_id for c in shells} <= set(rec["parties"])
    assert rec["value_usd"] == d["value"]["amount"]
    assert layering["kind"] == "layering" and layering["batches"]
    for c in shells:  # registered a few months before, as the BIN says
        assert kz_bin_problem(c.tax_id) is None and c.tax_id[:2] == "22"


def test_every_scheme_and_bait_kind_ingests(sqlite_engine: Engine) -> None:
    s = Scenario(seed=3, start="2022-04-01")
    for kind in PLANTS:
        s.plant(kind)
    for kind in BAITS:
        s.bait(kind, days=1)
    report = s.ingest(sqlite_engine)
    assert report.rejected == 0, [str(r.error) for r in report.rejections]
    assert {r["kind"] for r in s.truth} == set(PLANTS)


def test_transit_variants() -> None:
    s = Scenario(seed=2)
    moved = s.transit("china-uzbekistan", exit_at="KZKR1-ROAD")
    stopped = s.transit("china-kyrgyzstan", stop_at=0.5, days=1)
    light = s.transit("china-turkmenistan", unload=0.4, days=1)
    late = s.transit("china-europe", delay=0.9, days=1)
    closes = {e["mrn"]: e for e in s.events if e["type"] == "transit_close"}
    assert closes[moved.mrn]["post"] == "KZKR1-ROAD"
    assert stopped.mrn not in closes
    assert float(closes[light.mrn]["mass_kg"]) == pytest.approx(light.mass * 0.6, rel=0.01)
    closed, deadline = closes[late.mrn]["time"], late.open["deadline"]
    assert closes[late.mrn]["post"] == late.exit
    assert datetime.fromisoformat(closed) < datetime.fromisoformat(deadline)
    assert home.posts()[late.exit].neighbour == "RU"


def test_misdeclared_goods_and_listed_parties(sqlite_engine: Engine) -> None:
    s = Scenario(seed=4)
    lot = s.import_("854231", 20000, declared_hs="392690", seller="CN")
    imported = s.events[-1]
    assert imported["goods"]["hs"] == "392690"
    assert float(imported["value"]["amount"]) / float(imported["mass_kg"]) > 1000  # USD per kg
    buyer = s.listed_buyer("translit", index=3, keep_id=True)
    holder = s.listed_holder()
    lot = s.transfer(lot, holder)
    s.dispatch(lot, buyer)
    assert s.ingest(sqlite_engine).rejected == 0
    assert holder.tax_id in {"220340015320", "220340015717", "220540015744"}


def test_positive_adjust_feeds_a_dispatch(sqlite_engine: Engine) -> None:
    s = Scenario(seed=5)
    lot = s.import_("851762", 100)
    s.adjust(lot, 250)
    d = s.dispatch(lot, s.buyer("RU"))
    assert d["quantity"] == "350"
    assert s.ingest(sqlite_engine).rejected == 0


def test_seal_pings_written_as_bytes_read_back_as_events() -> None:
    """Seal pings skip the dict and the encoder (the hot path); they still decode into the
    contract's SealPing, a scheme's truth names them, and an opened seal carries its code."""
    s = Scenario(seed=5)
    rec = s.plant("transit_diversion", variant="partial_unload")
    pings = [e for e in s.events if e["type"] == "seal_ping"]
    assert len(pings) > 5 and {p["id"] for p in pings} <= set(rec["events"])
    for p in pings:
        ping = msgspec.json.decode(msgspec.json.encode(p), type=ev.SealPing)
        offset = "+05:00" if ping.lon < 60 else "+06:00"
        assert p["time"].endswith(offset) and len(p["id"]) == 16
    opened = [p for p in pings if p["state"] == "opened"]
    assert opened and opened[0]["code"] == "01"

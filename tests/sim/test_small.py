"""The `small` preset: valid for the ledger, time-ordered, deterministic, truth kept apart."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.jurisdiction import kz_bin_problem
from keruen.model import events as ev
from keruen.sim import home
from keruen.sim.plan import BAIT_KINDS, SCHEME_KINDS
from keruen.sim.run import write_all
from tests.sim.conftest import read_jsonl

Events = list[dict[str, Any]]
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
RECEIPT_EXTRAS = {"value"}  # the partner's declared value: on every receipt, scheme or not


def test_every_line_is_accepted_by_the_ledger(small: Path, sqlite_engine: Engine) -> None:
    with (small / "events.jsonl").open("rb") as f:
        report = ingest_lines(sqlite_engine, f, source="small")
    assert report.rejected == 0, [str(r.error) for r in report.rejections[:5]]
    assert report.accepted > 1500 and report.duplicates == 0


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_events_are_in_time_order_with_offsets(small_events: Events) -> None:
    times = [_utc(e["time"]) for e in small_events]
    assert times == sorted(times)
    assert {e["time"][-6:] for e in small_events} >= {"+06:00", "+05:00"}


def test_all_kinds_of_event_appear(small_events: Events) -> None:
    seen = {e["type"] for e in small_events}
    assert seen >= set(ev.EVENT_TYPES) - {"cancel"}


def test_ids_and_batch_numbers_are_unique(small_events: Events) -> None:
    ids = [e["id"] for e in small_events]
    assert len(ids) == len(set(ids))
    created = [e["batch"] for e in small_events if e["type"] in ("import", "arrival")]
    created += [o["batch"] for e in small_events if e["type"] == "transform" for o in e["outputs"]]
    assert len(created) == len(set(created))


def test_same_seed_same_bytes_other_seed_other_bytes(small: Path, tmp_path: Path) -> None:
    write_all(1, "small", tmp_path / "again")
    write_all(2, "small", tmp_path / "other")
    for name in ("events.jsonl", "truth.jsonl", "bait.jsonl", "world.json"):
        assert (tmp_path / "again" / name).read_bytes() == (small / name).read_bytes(), name
    other = (tmp_path / "other" / "events.jsonl").read_bytes()
    assert other != (small / "events.jsonl").read_bytes()


def _fields(cls: type) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(cls)}


def test_events_carry_contract_fields_only(small_events: Events) -> None:
    """Nothing in an event says it belongs to a scheme: no simulator-only fields."""
    for e in small_events:
        allowed = _fields(ev.EVENT_TYPES[e["type"]]) | {"type"}
        if e["type"] == "receipt":
            allowed |= RECEIPT_EXTRAS
        assert set(e) <= allowed, (e["type"], set(e) - allowed)
        for key in ("seller", "buyer", "carrier", "consignee"):
            if key in e:
                assert set(e[key]) == _fields(ev.Party)
        if "goods" in e and isinstance(e["goods"], dict):
            assert set(e["goods"]) <= _fields(ev.Goods)


def test_truth_names_existing_events_and_every_kind(small: Path, small_events: Events) -> None:
    ids = {e["id"] for e in small_events}
    batches = {e.get("batch") for e in small_events}
    mrns = {e.get("mrn") for e in small_events}
    truth = read_jsonl(small / "truth.jsonl")
    assert {r["kind"] for r in truth} == set(SCHEME_KINDS)
    for r in truth:
        assert r["events"] and set(r["events"]) <= ids, r["id"]
        assert set(r["batches"]) <= batches and set(r["mrns"]) <= mrns
        assert float(r["value_usd"]) > 0 and float(r["quantity"]) > 0, r["id"]
        assert r["kind"] != "transit_diversion" or r["mrns"]


def test_bait_is_apart_from_the_schemes(small: Path, small_events: Events) -> None:
    ids = {e["id"] for e in small_events}
    truth = read_jsonl(small / "truth.jsonl")
    bait = read_jsonl(small / "bait.jsonl")
    in_schemes = {i for r in truth for i in r["events"]}
    assert {r["kind"] for r in bait} == set(BAIT_KINDS) - {"chpl_before_sanctions"}
    for r in bait:
        assert set(r["events"]) <= ids and not set(r["events"]) & in_schemes


def test_world_parties(small: Path) -> None:
    world = msgspec.json.decode((small / "world.json").read_bytes())
    parties = world["parties"]
    assert len({p["tax_id"] for p in parties}) == len(parties)
    for p in parties:
        if p["country"] == "KZ":
            assert kz_bin_problem(p["tax_id"]) is None
            assert p["tax_id"][:4] == p["registered"][2:4] + p["registered"][5:7]
    local = [p for p in parties if p["country"] in ("RU", "KG")]
    cyrillic = [p for p in local if CYRILLIC.search(p["name"])]
    assert len(cyrillic) > 0.75 * len(local)  # the rest write their name in Latin letters
    assert world["posts"] and set(world["posts"]) <= set(home.posts())


def test_sizes_are_long_tailed(small_events: Events) -> None:
    """A few importers carry most of the imports, as in real trade."""
    counts: dict[str, int] = {}
    for e in small_events:
        if e["type"] in ("import", "arrival"):
            counts[e["holder"]] = counts.get(e["holder"], 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    top = ranked[: max(1, len(ranked) // 5)]
    assert sum(top) > 0.45 * sum(ranked)

"""The messy pass: documents as they really arrive, with truth and bait still whole."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.sim.messy import EU
from keruen.sim.run import write_all
from tests.sim.conftest import read_jsonl

Events = list[dict[str, Any]]


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy")
    write_all(1, "small", out, messy=True)
    return out


@pytest.fixture(scope="module")
def events(messy: Path) -> Events:
    return read_jsonl(messy / "events.jsonl")


def test_the_ledger_takes_every_document_and_keeps_stock(
    messy: Path, sqlite_engine: Engine
) -> None:
    with (messy / "events.jsonl").open("rb") as f:
        report = ingest_lines(sqlite_engine, f)
    assert report.rejected == 0, report.rejections[:3]
    assert report.duplicates > 0  # resent documents, in another offset and notation
    with sqlite_engine.connect() as conn:
        left = conn.exec_driver_sql("SELECT count(*) FROM balances").scalar()
    assert left and left > 0  # stock left in warehouses at the end of the period


def test_receipts_are_partial_and_late(messy: Path, events: Events, small_events: Events) -> None:
    clean = [e for e in small_events if e["type"] == "receipt"]
    late = [e for e in events if e["type"] == "receipt"]
    assert len(clean) > len(late) > 0
    protected = {i for r in read_jsonl(messy / "truth.jsonl") for i in r["events"]}
    none_from = EU | {"CN"}
    assert not [e for e in late if e["country"] in none_from and e["id"] not in protected]
    sent = {e["id"]: e["time"] for e in clean}
    assert any(_utc(e["time"]) > _utc(sent[e["id"]]) for e in late if e["id"] in sent)


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_documents_look_like_real_ones(events: Events) -> None:
    kinds = Counter(e["type"] for e in events)
    assert kinds["cancel"] > 0  # corrections
    offsets = {e["time"][19:][-6:] if not e["time"].endswith("Z") else "Z" for e in events}
    assert len(offsets) >= 3
    parties = [e[f] for e in events for f in ("seller", "buyer", "carrier", "consignee") if f in e]
    foreign = [p for p in parties if p["country"] != "KZ"]
    assert any("tax_id" not in p for p in foreign)
    assert all("tax_id" in p for p in parties if p["country"] == "KZ")
    ids = [e["id"] for e in events]
    assert len(ids) > len(set(ids))  # resent duplicates


def test_nothing_a_scheme_or_bait_is_made_of_is_dropped(messy: Path, events: Events) -> None:
    present = {e["id"] for e in events}
    for name in ("truth.jsonl", "bait.jsonl"):
        for record in read_jsonl(messy / name):
            assert set(record["events"]) <= present, record["id"]


def test_same_seed_same_bytes(messy: Path, tmp_path: Path) -> None:
    write_all(1, "small", tmp_path, messy=True)
    assert (tmp_path / "events.jsonl").read_bytes() == (messy / "events.jsonl").read_bytes()
    assert (tmp_path / "truth.jsonl").read_bytes() == (messy / "truth.jsonl").read_bytes()

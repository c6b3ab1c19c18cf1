from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.engine import Engine

from keruen.analytics.export import EVENT_SCHEMA, FORMAT, export_parquet
from keruen.analytics.flatten import Flat, exact
from keruen.errors import AnalyticsError
from tests import factory as f
from tests.analytics.conftest import B1, B2, B3, B8, B9, fill


def read_events(out: Path) -> list[dict[str, object]]:
    files = sorted((out / "events").glob("year=*/month=*/*.parquet"))
    rows = [r for p in files for r in pq.read_table(p).to_pylist()]
    return sorted(rows, key=lambda r: (r["seq"], r["line"] or 0))


def test_export_flattens_every_event_with_a_manifest(ledger: Engine, tmp_path: Path) -> None:
    with ledger.connect() as conn:
        report = export_parquet(conn, tmp_path)
    rows = read_events(tmp_path)
    assert [r["type"] for r in rows] == [
        "import", "import", "arrival", "dispatch", "dispatch", "dispatch", "cancel", "export",
        "transit_open",
    ]  # fmt: skip
    assert report.rows == len(rows) == 9
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["head_seq"] == report.head_seq == rows[-1]["seq"]
    assert manifest["head_hash"] == rows[-1]["hash"]
    arrival = rows[2]
    assert arrival["partner"] == "RU" and arrival["currency"] == "KZT"
    assert str(arrival["amount"]) == "4600000.000000"
    assert str(arrival["mass_kg"]) == "7500.500000"
    assert rows[6]["target"] == "e-d3"
    assert rows[8]["partner"] == "DE" and rows[8]["mrn"] == "MRN1"
    assert pq.read_schema(next((tmp_path / "events").glob("*/*/*.parquet"))).equals(EVENT_SCHEMA)
    batches = pq.read_table(next((tmp_path / "batches").glob("*.parquet"))).to_pylist()
    assert {b["batch"]: b["hs"] for b in batches} == {
        B1: "854231",
        B2: "851713",
        B3: "870323",
    }


def test_partitions_by_year_and_month_of_the_utc_day(sqlite_engine: Engine, tmp_path: Path) -> None:
    late = f.import_("late", B9)
    late["time"] = "2024-04-01T03:00:00+05:00"  # 31 March in UTC
    fill(sqlite_engine, [f.import_("early", B8), late])
    with sqlite_engine.connect() as conn:
        export_parquet(conn, tmp_path)
    months = sorted(p.name for p in (tmp_path / "events" / "year=2024").iterdir())
    assert months == ["month=03"]
    assert str(read_events(tmp_path)[-1]["day"]) == "2024-03-31"


def test_a_second_run_writes_only_what_is_new(ledger: Engine, tmp_path: Path) -> None:
    with ledger.connect() as conn:
        first = export_parquet(conn, tmp_path)
        again = export_parquet(conn, tmp_path)
    assert again.rows == 0 and again.files == [] and again.after_seq == first.head_seq
    fill(ledger, [f.dispatch("e-d4", B1, f.A, "1", day=20), f.cancel("e-c2", "e-d2", day=21)])
    with ledger.connect() as conn:
        third = export_parquet(conn, tmp_path)
    assert third.rows == 2 and third.after_seq == first.head_seq
    rows = read_events(tmp_path)
    assert len(rows) == 11 and len({(r["seq"], r["line"]) for r in rows}) == 11
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["head_seq"] == third.head_seq and manifest["events"] == 11
    assert manifest["runs"] == 3


def test_a_crashed_run_leaves_nothing_a_reader_sees_twice(ledger: Engine, tmp_path: Path) -> None:
    with ledger.connect() as conn:
        first = export_parquet(conn, tmp_path)
    fill(ledger, [f.dispatch("e-d4", B1, f.A, "1", day=20)])
    with ledger.connect() as conn:
        export_parquet(conn, tmp_path)
    # simulate a crash after the files, before the manifest: put the old manifest back
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": FORMAT, "head_seq": first.head_seq, "head_hash": first.head_hash,
                    "exported_at": "x", "events": 9, "runs": 1})
    )  # fmt: skip
    with ledger.connect() as conn:
        export_parquet(conn, tmp_path)
    assert len(read_events(tmp_path)) == 10


def test_more_decimal_places_than_kept_is_an_error_not_a_rounding() -> None:
    from decimal import Decimal

    assert exact(Decimal("1.123456"), "quantity", "x") == Decimal("1.123456")
    with pytest.raises(AnalyticsError, match=r"event x: quantity 1.1234567 has more than 6"):
        exact(Decimal("1.1234567"), "quantity", "x")
    assert Flat().events == []


def test_an_export_ahead_of_the_ledger_is_refused(ledger: Engine, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": FORMAT, "head_seq": 999, "head_hash": "h", "exported_at": "x",
                    "events": 1, "runs": 1})
    )  # fmt: skip
    with ledger.connect() as conn, pytest.raises(AnalyticsError, match="ahead of this ledger"):
        export_parquet(conn, tmp_path)


def test_a_value_beyond_twelve_integer_digits_is_an_error_naming_it() -> None:
    from decimal import Decimal

    assert exact(Decimal("999999999999.999999"), "mass_kg", "x") == Decimal("999999999999.999999")
    with pytest.raises(AnalyticsError, match=r"event x: value.amount 1000000000000 is out of"):
        exact(Decimal("1000000000000"), "value.amount", "x")


def test_an_export_in_another_format_is_refused_not_mixed(ledger: Engine, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": 1, "head_seq": 1, "head_hash": "h", "exported_at": "x",
                    "events": 1, "runs": 1})
    )  # fmt: skip
    with ledger.connect() as conn, pytest.raises(AnalyticsError, match="export format 1, this"):
        export_parquet(conn, tmp_path)


def test_rows_that_move_a_batch_carry_its_goods_and_a_cancel_its_target_seq(
    ledger: Engine, tmp_path: Path
) -> None:
    with ledger.connect() as conn:
        export_parquet(conn, tmp_path)
    fill(ledger, [f.dispatch("e-d4", B1, f.A, "1", day=20), f.cancel("e-c2", "e-d1", day=21)])
    with ledger.connect() as conn:
        export_parquet(conn, tmp_path)  # B1 and e-d1 are in the first run: from the ledger
    rows = {r["id"]: r for r in read_events(tmp_path)}
    imp = rows["e-imp1"]
    for d in ("e-d1", "e-d4"):
        assert (rows[d]["hs"], rows[d]["origin"], rows[d]["unit"]) == (
            imp["hs"], imp["origin"], imp["unit"])  # fmt: skip
    assert rows["e-c1"]["target_seq"] == rows["e-d3"]["seq"]
    assert rows["e-c2"]["target_seq"] == rows["e-d1"]["seq"]
    assert rows["e-imp1"]["target_seq"] is None


def test_each_file_sorted_by_type_then_seq_named_by_its_seq_range(
    ledger: Engine, tmp_path: Path
) -> None:
    with ledger.connect() as conn:
        export_parquet(conn, tmp_path)
    for path in (tmp_path / "events").glob("*/*/*.parquet"):
        rows = pq.read_table(path).to_pylist()
        keys = [(r["type"], r["seq"], r["line"] or 0) for r in rows]
        assert keys == sorted(keys)
        seqs = [r["seq"] for r in rows]
        assert path.name == f"part-{min(seqs):012d}-{max(seqs):012d}.parquet"

"""`keruen bench epcis` measures what it says: every exported event imported, every stage timed."""

from __future__ import annotations

from keruen.bench.epcis import run

STAGES = ("decode_and_schema", "read", "hash", "cbv", "mapping", "ledger_ingest", "native_ingest")


def test_the_bench_imports_every_event_and_times_every_stage() -> None:
    figures = run(300, seed=3).public()
    assert figures["epcis_events_exported"] == 300
    assert figures["epcis_events_imported"] == 300  # the bridge refused none of them
    assert figures["ratio_epcis_to_native"] > 0
    assert [key.removeprefix("cpu_us_") for key in figures if key.startswith("cpu_us_")] == list(
        STAGES
    )
    assert all(figures[f"cpu_us_{stage}"] >= 0 for stage in STAGES)
    assert 0 < figures["cpu_ratio_epcis_to_native"] < 1
    assert "load_average" in figures
    # (300 events: no helper is forked; its CPU is there, zero)
    assert figures["import_cpu_us_this_process"] > 0 and figures["import_cpu_us_helper"] >= 0

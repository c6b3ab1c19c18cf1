"""`keruen bench epcis`: EPCIS import speed against the native contract's ingest, same run.

A stream of contract events (the ingest benchmark's generator) is ingested natively into
one scratch ledger, exported as EPCIS 2.0 JSON-LD, and that document imported into a
second scratch ledger through the whole bridge (schema, CBV layer, hash, mapping, ledger).
Prints events per second for both, their ratio, export speed and hashes per second, and
where an imported event's time goes: each stage of the bridge timed on its own over the same
document (CPU time per event, caches emptied first, as in the import), and the import's CPU in
this process and in the helper it forks (`keruen.epcis.capture`: the two overlap in time).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from keruen.bench.streams import StreamGen
from keruen.epcis import hashing, mapping
from keruen.epcis.capture import capture
from keruen.epcis.document import parse_document, parse_json_object
from keruen.epcis.export import export_events, to_json_ld
from keruen.epcis.hashing import event_hash
from keruen.epcis.mapping import Parties, map_event
from keruen.epcis.validate import check_cbv, decode_json, json_schema_issues
from keruen.ingest import ingest_lines, no_gc
from keruen.settings import normalise_db_url
from keruen.store import db
from keruen.store.port import LedgerReader


@dataclass
class Figures:
    events: int
    native_s: float
    exported: int
    export_s: float
    imported: int
    import_s: float
    hashed: int
    hash_s: float
    stages: dict[str, float] = field(default_factory=dict)  # CPU microseconds per event
    # the import's CPU per event in this process and in its forked helper (keruen.epcis.capture)
    import_cpu: tuple[float, float] = (0.0, 0.0)

    def cpu_ratio(self) -> float:
        """The native ingest's CPU per event over the import's (the bridge's stages and the
        ledger's ingest of its lines): what the clock's ratio comes to when CPU is what runs
        short, as on a machine shared with other work, and much steadier than the clock."""
        native = self.stages.get("native_ingest", 0.0)
        imported = sum(us for name, us in self.stages.items() if name != "native_ingest")
        return round(native / imported, 3) if imported else 0.0

    def public(self) -> dict[str, Any]:
        native = self.events / self.native_s
        imported = self.imported / self.import_s
        return {
            "events": self.events,
            "native_events_per_s": round(native),
            "epcis_events_exported": self.exported,
            "export_events_per_s": round(self.exported / self.export_s),
            "epcis_events_imported": self.imported,
            "epcis_import_events_per_s": round(imported),
            "ratio_epcis_to_native": round(imported / native, 3),
            "hashes_per_s": round(self.hashed / self.hash_s),
            **{f"cpu_us_{name}": round(us, 1) for name, us in self.stages.items()},
            "import_cpu_us_this_process": round(self.import_cpu[0], 1),
            "import_cpu_us_helper": round(self.import_cpu[1], 1),
            "cpu_ratio_epcis_to_native": self.cpu_ratio(),
            "load_average": round(os.getloadavg()[0], 1),
        }


def run(events: int, seed: int, db_url: str | None = None) -> Figures:
    lines = list(StreamGen(seed=seed).events(events))
    # the second ledger: on the PostgreSQL server named, or a temporary SQLite file
    other = db_url if db_url and normalise_db_url(db_url).startswith("postgresql") else None
    with db.scratch(db_url) as native, db.scratch(other) as bridged:
        start = time.perf_counter()
        ingest_lines(native, lines)
        native_s = time.perf_counter() - start
        start = time.perf_counter()
        with native.connect() as conn:
            exported = export_events(conn, LedgerReader(conn).select_events())
        data = json.dumps(to_json_ld(exported.events, "2024-01-01T00:00:00Z")).encode()
        export_s = time.perf_counter() - start
        start, cpu = time.perf_counter(), _cpu()
        report = capture(bridged, data, "bench.jsonld", Parties())
        import_s = time.perf_counter() - start
        (own, helper), per_event = _cpu(), 1e6 / max(events, 1)
        import_cpu = ((own - cpu[0]) * per_event, (helper - cpu[1]) * per_event)
    _forget()
    parsed = parse_document(data).events
    start = time.perf_counter()
    for event in parsed:
        event_hash(event)
    hash_s = time.perf_counter() - start
    imported = report.accepted + report.duplicates
    return Figures(events, native_s, len(exported.events), export_s, imported, import_s,
                   len(parsed), hash_s, stages(data, lines, db_url), import_cpu)  # fmt: skip


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its children ended so far (the import's helper)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _forget() -> None:
    """Empty the bridge's caches of canonical values, so a stage pays what an import pays."""
    for cached in (hashing.canonical_value, hashing.canonical_time, mapping.batch_of):
        cached.cache_clear()


def stages(data: bytes, native_lines: list[bytes], db_url: str | None) -> dict[str, float]:
    """Each stage of an import timed alone over the same document, in CPU microseconds per
    event (on a loaded machine CPU time varies less than the clock): decoding with GS1's JSON
    Schema, reading into the one event form, the CBV 2.0 hash, the CBV layer, the mapping
    with its contract lines, then the ledger's ingest of those lines beside the native ingest
    of the original contract stream (fresh ledgers both). The bridge's stages run with
    cycle collection paused, as in an import; as in an import, the document's objects are
    gone before the ledger's stage (its first collection would walk them all)."""
    _forget()
    out: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        start = time.process_time()
        result = work()
        out[name] = time.process_time() - start
        return result

    lines, n = _bridge(data, timed)  # the document's objects die with the helper's frame
    gc.collect()
    with db.scratch(db_url) as bridged:
        timed("ledger_ingest", lambda: ingest_lines(bridged, lines, parallel=False))
    with db.scratch(db_url) as native:  # in this process too: its CPU time is all there is
        timed("native_ingest", lambda: ingest_lines(native, native_lines, parallel=False))
    return {name: seconds / n * 1e6 for name, seconds in out.items()}


def _bridge(data: bytes, timed: Callable[[str, Callable[[], Any]], Any]) -> tuple[list[bytes], int]:
    """The bridge's stages, timed: the contract lines and the number of events."""
    encoder = msgspec.json.Encoder(order="sorted")  # as `capture` writes its lines

    def decoded() -> Any:
        obj = decode_json(data)
        json_schema_issues(obj)
        return obj

    with no_gc():
        obj = timed("decode_and_schema", decoded)
        doc = timed("read", lambda: parse_json_object(obj))
        hashes = timed("hash", lambda: [event_hash(e) for e in doc.events])
        timed("cbv", lambda: check_cbv(doc))
        parties = Parties()
        lines = timed(
            "mapping",
            lambda: [
                encoder.encode(c)
                for e, h in zip(doc.events, hashes, strict=True)
                for c in map_event(e, h, parties)
            ],
        )
    return lines, max(len(doc.events), 1)

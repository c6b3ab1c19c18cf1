"""`keruen bench epcis`: EPCIS import speed against the native contract's ingest, same run.

A stream of contract events (the ingest benchmark's generator) is ingested natively into
one scratch ledger, exported as EPCIS 2.0 JSON-LD, and that document imported into a
second scratch ledger through the whole bridge (schema, CBV layer, hash, mapping, ledger).
Prints events per second for both, their ratio, export speed and hashes per second.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from keruen.bench.streams import StreamGen
from keruen.epcis.capture import capture
from keruen.epcis.document import parse_document
from keruen.epcis.export import export_events, to_json_ld
from keruen.epcis.hashing import event_hash
from keruen.epcis.mapping import Parties
from keruen.ingest import ingest_lines
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
        start = time.perf_counter()
        report = capture(bridged, data, "bench.jsonld", Parties())
        import_s = time.perf_counter() - start
    parsed = parse_document(data).events
    start = time.perf_counter()
    for event in parsed:
        event_hash(event)
    hash_s = time.perf_counter() - start
    imported = report.accepted + report.duplicates
    return Figures(events, native_s, len(exported.events), export_s, imported, import_s,
                   len(parsed), hash_s)  # fmt: skip

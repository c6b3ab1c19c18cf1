"""The crash corpus: every input line that once crashed ingest (crashes.jsonl), decoded.

A row is {"why", "line"}; `line` is the text itself, or a shorthand for what JSON cannot
hold: `NEST[n]` / `NEST{n}` (n levels of arrays / objects), `BYTES:hex`, `LONG` (a line
over the size limit). New crashes found by the fuzzers are appended here.
"""

from __future__ import annotations

import json
from pathlib import Path

from keruen.model.validate import MAX_LINE_BYTES

CORPUS = Path(__file__).with_name("crashes.jsonl")


def expand(spec: str) -> bytes:
    if spec.startswith("NEST[") or spec.startswith("NEST{"):
        n = int(spec[5:-1])
        return (b"[" * n + b"]" * n) if spec[4] == "[" else (b'{"a":' * n + b"1" + b"}" * n)
    if spec.startswith("BYTES:"):
        return bytes.fromhex(spec[6:])
    if spec == "LONG":
        return b'{"id":"' + b"x" * MAX_LINE_BYTES + b'"}'
    return spec.encode("utf-8")


def corpus() -> list[tuple[str, bytes]]:
    rows = [json.loads(r) for r in CORPUS.read_text(encoding="utf-8").splitlines() if r.strip()]
    return [(r["why"], expand(r["line"])) for r in rows]

"""Reading the simulator's ground truth (truth.jsonl): one planted scheme per line.

Only the evaluation reads it. Each line: {"id", "kind", "events", "batches", "parties",
"mrns", "value_usd", ...}; a line that is not that is refused with its number and the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keruen.risk.errors import BadInput
from keruen.risk.evaluation import Scheme


def read(path: Path) -> list[Scheme]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BadInput("truth", f"{path}: {e.strerror}") from e
    return [scheme(n, line) for n, line in enumerate(lines, 1) if line.strip()]


def _ids(obj: dict[str, Any], name: str, n: int) -> frozenset[str]:
    value = obj.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput("truth", f"line {n}: {name!r} must be a list of strings")
    return frozenset(value)


def scheme(n: int, line: str) -> Scheme:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadInput("truth", f"line {n}: not JSON ({e.msg})") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise BadInput("truth", f"line {n}: an object with an 'id' is expected")
    try:
        value = float(obj.get("value_usd", 0))
    except (TypeError, ValueError):
        raise BadInput("truth", f"line {n}: value_usd is not a number") from None
    return Scheme(
        id=obj["id"],
        kind=str(obj.get("kind", "unknown")),
        value_usd=value,
        events=_ids(obj, "events", n),
        batches=_ids(obj, "batches", n),
        mrns=_ids(obj, "mrns", n),
        parties=_ids(obj, "parties", n),
    )

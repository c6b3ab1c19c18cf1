"""The ingest's native judge (keruen/store/_judge.c); see keruen.store.judge."""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

def configure(
    parsed: type,
    batch: type,
    known: type,
    count_units: frozenset[str],
    zero: Decimal,
    chain_hash: Callable[[str, str], str],
    kinds: dict[type, tuple[int, str, bool]],
    /,
) -> None: ...
def run(
    overlay: Any, items: list[Any], start: int, out: Any, ids: list[str], now: int, /
) -> int: ...
def finish(
    touched: dict[tuple[str, str], Decimal],
    written: list[Any],
    emptied: list[Any],
    /,
) -> None: ...
def grouped(
    rows: list[tuple[Any, ...]], n: int, null: object, /
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]: ...
def chain(prev: str, digest: str, /) -> str: ...
def micros(t: datetime, /) -> int | None: ...
def missing(
    events: Sequence[Any],
    known: dict[str, Any],
    batches: dict[str, Any],
    balances: dict[tuple[str, str], Any],
    ids_only: bool = False,
    /,
) -> tuple[set[str], set[str], set[tuple[str, str]], list[Any]]: ...
def seen_add(seen: bytearray, ids: Iterable[str], /) -> None: ...
def maybe_seen(seen: bytearray, ids: Iterable[str], /) -> set[str]: ...

"""The native judge (`keruen/store/_judge.c`), loaded once and configured with the Python
classes and constants it must agree with; None where it was not built (no compiler at
install: Python judges, silently) or where `KERUEN_NATIVE=0` turns it off."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from keruen.ledger.overlay import Known
from keruen.ledger.rules import Batch
from keruen.model import events as ev
from keruen.model.validate import Parsed
from keruen.reference import COUNT_UNITS
from keruen.settings import get_settings
from keruen.store.chain import chain_hash
from keruen.store.schema import REF_TYPES

log = logging.getLogger("keruen.store.native")

# how the native judge takes each type (1 makes a batch, 2 transfer, 3 takes out of the
# circuit, 4 transform); every other type goes to the Python rules
JUDGED: dict[type[ev.Event], int] = {
    ev.Import: 1,
    ev.Arrival: 1,
    ev.Transfer: 2,
    ev.Dispatch: 3,
    ev.Export: 3,
    ev.WriteOff: 3,
    ev.Transform: 4,
}


class Judge(Protocol):
    """What `keruen/store/_judge.pyi` declares, as the callers use it."""

    def run(
        self, overlay: Any, items: list[Any], start: int, out: Any, ids: list[str], now: int, /
    ) -> int: ...

    def finish(
        self,
        touched: dict[tuple[str, str], Decimal],
        written: list[Any],
        emptied: list[Any],
        /,
    ) -> None: ...

    def seen_add(self, seen: bytearray, ids: Iterable[str], /) -> None: ...

    def grouped(
        self, rows: list[tuple[Any, ...]], n: int, null: object, /
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]: ...

    def maybe_seen(self, seen: bytearray, ids: Iterable[str], /) -> set[str]: ...

    def missing(
        self,
        events: Sequence[ev.Event],
        known: dict[str, Any],
        batches: dict[str, Any],
        balances: dict[tuple[str, str], Any],
        ids_only: bool = False,
        /,
    ) -> tuple[set[str], set[str], set[tuple[str, str]], list[ev.Event]]: ...


# --- the fields the native judge reads, and no others -----------------------------------------
# A stored event decoded into these skips the values, documents, parties and optional fields the
# judge never reads (no Decimal, str or Struct made for them). Only the native judge sees them:
# `keruen.store.judge` decodes an event in full before the Python rules judge it. None is
# tracked by the cyclic garbage collector (`gc=False`): they hold text, numbers, times and each
# other, never a cycle, and the split's child collects its young objects every 200,000 lines
# (`split.YoungCollector`), which then walks none of them.


class _Light(msgspec.Struct, tag_field="type", forbid_unknown_fields=False, gc=False):
    id: str
    time: datetime


class LightGoods(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    hs: str
    description: str
    unit: str
    origin: str


class LightImport(_Light, tag="import"):
    batch: str
    holder: str
    goods: LightGoods
    quantity: Decimal


class LightArrival(LightImport, tag="arrival"):
    pass


class LightTransfer(_Light, tag="transfer"):
    batch: str
    from_: str = msgspec.field(name="from")
    to: str
    quantity: Decimal


class LightPortion(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    batch: str
    quantity: Decimal


class LightOutput(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    batch: str
    goods: LightGoods
    quantity: Decimal


class LightTransform(_Light, tag="transform"):
    holder: str
    inputs: list[LightPortion]
    outputs: list[LightOutput]


class LightDispatch(_Light, tag="dispatch"):
    batch: str
    holder: str
    quantity: Decimal


class LightExport(LightDispatch, tag="export"):
    pass


class LightWriteOff(_Light, tag="write_off"):
    batch: str
    holder: str
    quantity: Decimal


LIGHT: dict[type[ev.Event], type[_Light]] = {
    ev.Import: LightImport,
    ev.Arrival: LightArrival,
    ev.Transfer: LightTransfer,
    ev.Dispatch: LightDispatch,
    ev.Export: LightExport,
    ev.WriteOff: LightWriteOff,
    ev.Transform: LightTransform,
}


def _load() -> Judge | None:
    try:
        from keruen.store import _judge
    except ImportError as e:
        log.debug("the native judge is not available (%s); judging in Python", e)
        return None
    kinds: dict[type, tuple[int, str, bool]] = {}
    for cls, kind in JUDGED.items():  # a light shape is judged as its event type
        tag = cls.__struct_config__.tag
        kinds[cls] = kinds[LIGHT[cls]] = (kind, str(tag), tag in REF_TYPES)
    _judge.configure(Parsed, Batch, Known, COUNT_UNITS, Decimal(0), chain_hash, kinds)
    return _judge


LOADED = _load()


def filters() -> bool:
    """Whether the native judge keeps filters of accepted ids (`Overlay.seen`): not an
    extension built from an older `_judge.c` (a checkout updated without `pip install`)."""
    return native() is not None and hasattr(LOADED, "maybe_seen")


def native() -> Judge | None:
    """The native judge, unless it is not built or `KERUEN_NATIVE=0`."""
    return LOADED if get_settings().native else None


__all__ = ["JUDGED", "LIGHT", "LOADED", "Judge", "filters", "native"]

"""Transit monitoring's saved tracker: what a replay of the whole ledger built, kept between
runs (`keruen.store.consumers`), so that the next replay feeds only what came after it.

The tracker is kept as it stands before the receipts that wait for the end of a replay are
settled (`Fed`): a later replay feeds the new events to it and settles the old and the new
receipts together, as a replay from the first event would.

The bytes are a pickle of the tracker's own classes. They are read with an unpickler that
builds only those classes, the event contract's and a few of the standard library's
(datetime, Decimal): a row written into the database can make it build data, never run code.
The places, corridors and limits are not in the bytes (only their names); the loading
tracker's are put back.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from keruen.model import events as ev
from keruen.store import consumers
from keruen.store.port import Head
from keruen.transit.model import Config
from keruen.transit.tracker import Tracker

NAME = "transit"
FORMAT = "transit-pickle-1"  # a new version of the tracker's classes: a new format

ALLOWED_MODULES = (
    "keruen.model.events",
    "keruen.transit.corridor",
    "keruen.transit.geo",
    "keruen.transit.model",
    "keruen.transit.movement",
    "keruen.transit.places",
    "keruen.transit.resume",
    "keruen.transit.tracker",
    "keruen.reference",
)
ALLOWED_NAMES = {
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
}
SHARED = ("places", "corridors", "limits")


@dataclass(slots=True)
class Fed:
    """A tracker fed every transit event up to `now_us` (the latest it fed: `last_us`), with
    the receipts still to settle at the end."""

    tracker: Tracker
    later: list[ev.Receipt]
    last_us: int
    now_us: int


@dataclass(frozen=True, slots=True)
class _State:
    fed: Fed
    config: Config


def _shared(name: str) -> Any:
    """Stands for the loading tracker's places, corridors or limits in the saved bytes (the
    unpickler puts them back; never called)."""
    raise pickle.UnpicklingError(f"{name}: only a saved tracker's loader can resolve it")


class _Pickler(pickle.Pickler):
    """The shared objects by name, through a dispatch table: looked up by type in C, so the
    other objects cost no Python call each (a `persistent_id` was 60% of the dump)."""

    def __init__(self, file: io.BytesIO, tracker: Tracker) -> None:
        super().__init__(file, protocol=5)
        table: dict[type, Any] = dict(copyreg.dispatch_table)
        for name in SHARED:
            table[type(getattr(tracker, name))] = lambda _, name=name: (_shared, (name,))
        self.dispatch_table = table


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, tracker: Tracker) -> None:
        super().__init__(file)
        self._shared = {name: getattr(tracker, name) for name in SHARED}

    def _resolve(self, name: Any) -> Any:
        if name not in self._shared:
            raise pickle.UnpicklingError(f"unknown shared object {name!r}")
        return self._shared[name]

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, "_shared"):
            return self._resolve
        if module in ALLOWED_MODULES or (module, name) in ALLOWED_NAMES:
            found = super().find_class(module, name)
            if isinstance(found, type):  # a class of data, never a function to call
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a saved tracker")


def encode(fed: Fed, config: Config) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, fed.tracker).dump(_State(fed, config))
    return buf.getvalue()


def decode(data: bytes, config: Config) -> Fed | None:
    """The saved tracker, with a new tracker's places, corridors and limits for `config`;
    None when it was saved with other thresholds."""
    state = _Unpickler(io.BytesIO(data), Tracker(None, config)).load()
    if not isinstance(state, _State) or not isinstance(state.fed.tracker, Tracker):
        raise pickle.UnpicklingError("not a saved tracker")
    return state.fed if state.config == config else None


def load(conn: Connection, config: Config) -> tuple[Head, Fed] | None:
    """The saved tracker and the ledger head it has seen; None when there is none, when the
    ledger was rewritten since, or when it was saved with other thresholds."""
    saved = consumers.load(conn, NAME, FORMAT)
    if saved is None:
        return None
    fed = decode(saved.state, config)
    return (saved.head, fed) if fed is not None else None


def save(conn: Connection, fed: Fed, head: Head, config: Config) -> None:
    consumers.save(conn, NAME, FORMAT, head, encode(fed, config))

"""The read port's contract, on SQLite and PostgreSQL alike (the `engine` fixture).

One story touches every event type; each filter is checked on its own against what the
story says, and every combination against the same filter applied in Python to all events.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from keruen.errors import InvalidEvent, InvalidQuery
from keruen.ingest import ingest_lines
from keruen.ledger.parties import parties
from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.store.ledger import Rejection, write_rejections
from keruen.store.port import GENESIS, Head, LedgerReader, StoredEvent, time_of
from keruen.store.queries import public
from tests import factory as f
from tests.factory import A, B, C, D
from tests.transit import factory as tf

B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"
MRN = "24KZ0001"
TR_BUYER = {"tax_id": "TR5550", "name": "Anadolu Ticaret", "country": "TR"}


def _as(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, **changes}


STORY: list[dict[str, Any]] = [
    f.import_("imp1", B1, A, "100", day=1),
    _as(
        f.import_("arr1", B2, B, "50", day=1),
        type="arrival",
        seller={"tax_id": "7700001", "name": "ООО Поставщик", "country": "RU"},
    ),
    f.transfer("t1", B1, A, B, "60", day=2),
    f.transfer("t2", B1, B, C, "60", day=3),
    f.transform("x1", C, [(B1, "40")], "P-1", "4", day=4),
    f.dispatch("d1", "P-1", C, "3", day=6),
    _as(f.dispatch("e1", B2, B, "10", day=6, buyer=TR_BUYER), type="export"),
    f.write_off("w1", B1, C, "10", day=6),
    f.adjust("a1", B2, B, "-1", day=7),
    f.transfer("t3", B2, B, D, "5", day=7),
    f.cancel("c1", "t3", day=8),
    _as(f.transit_open("tr1", MRN, day=2), seals=["S-9"]),
    _as(tf.ping("S-9", 30, 43.2, 76.9), id="p1"),
    _as(tf.checkpoint(MRN, 40, "KZKOR-ROAD"), id="cp1"),
    _as(tf.incident(MRN, 50, "breakdown", 43.0, 77.0), id="i1"),
    _as(tf.close(MRN, 60, "KZZS1-RAIL"), id="cl1"),
    _as(tf.receipt(MRN, 70, "DE", mass="20000"), id="r1"),
]


def _ingest(engine: Engine, events: list[dict[str, Any]]) -> None:
    report = ingest_lines(engine, f.lines(*events))
    assert report.rejected == 0, [r.public() for r in report.rejections]


@pytest.fixture
def reader(engine: Engine) -> LedgerReader:
    _ingest(engine, STORY)
    return LedgerReader(engine)


def _rejection(line: int) -> Rejection:
    return Rejection(line, None, InvalidEvent("time", "missing"), b"{}")


def ids(found: Any) -> list[str]:
    return [s.event.id for s in found]


class TestLedgerReader:
    """The port's contract; runs once per backend through the `engine` fixture."""

    def test_empty_ledger_has_genesis_head_and_no_events(self, engine: Engine) -> None:
        reader = LedgerReader(engine)
        assert reader.head() == Head(0, GENESIS)
        assert list(reader.select_events()) == []
        assert reader.latest_time_us() == 0

    def test_every_type_comes_back_typed_in_seq_order(self, reader: LedgerReader) -> None:
        found = list(reader.select_events())
        assert ids(found) == [e["id"] for e in STORY]
        assert [s.seq for s in found] == list(range(1, len(STORY) + 1))
        assert {s.type for s in found} == set(ev.EVENT_TYPES)
        for stored, raw in zip(found, STORY, strict=True):
            assert type(stored.event) is ev.EVENT_TYPES[raw["type"]]
            assert stored.time_us == micros(stored.event.time)
        assert reader.head() == Head(found[-1].seq, found[-1].hash)
        assert len({s.hash for s in found}) == len(found)

    def test_typed_fields_survive_storage(self, reader: LedgerReader) -> None:
        (imp,) = reader.select_events(types=["import"])
        assert isinstance(imp.event, ev.Import)
        assert imp.event.quantity == 100 and imp.event.seller.country == "CN"
        (xf,) = reader.select_events(types=["transform"])
        assert isinstance(xf.event, ev.Transform)
        assert xf.event.outputs[0].batch == "P-1"

    def test_types(self, reader: LedgerReader) -> None:
        assert ids(reader.select_events(types={"dispatch", "export"})) == ["d1", "e1"]
        assert ids(reader.select_events(types=[])) == []

    def test_time_range_is_half_open(self, reader: LedgerReader) -> None:
        almaty = timezone(timedelta(hours=5))
        start = datetime(2024, 3, 6, 10, tzinfo=almaty)
        found = ids(reader.select_events(start=start, end=start + timedelta(days=1)))
        assert found == ["d1", "e1", "w1"]
        assert ids(reader.select_events(end=datetime(2024, 3, 1, 5, tzinfo=UTC))) == []
        assert "imp1" in ids(reader.select_events(start=datetime(2024, 3, 1, 5, tzinfo=UTC)))

    def test_batch_means_every_event_that_moved_it(self, reader: LedgerReader) -> None:
        assert ids(reader.select_events(batch=B1)) == ["imp1", "t1", "t2", "x1", "w1"]
        assert ids(reader.select_events(batch="P-1")) == ["x1", "d1"]
        assert ids(reader.select_events(batch=B2)) == ["arr1", "e1", "a1", "t3", "c1"]
        assert ids(reader.select_events(batch="nope")) == []

    def test_holder(self, reader: LedgerReader) -> None:
        assert ids(reader.select_events(holder=D)) == ["t3", "c1"]
        assert ids(reader.select_events(holder=A)) == ["imp1", "t1"]

    def test_mrn(self, reader: LedgerReader) -> None:
        assert ids(reader.select_events(mrn=MRN)) == ["tr1", "cp1", "i1", "cl1", "r1"]

    def test_party_is_any_role(self, reader: LedgerReader) -> None:
        assert ids(reader.select_events(party="TR5550")) == ["e1"]
        assert ids(reader.select_events(party="CN77")) == ["tr1"]
        assert ids(reader.select_events(party=f.CN_SELLER["tax_id"])) == ["imp1"]
        assert ids(reader.select_events(party=D)) == ["t3", "c1"]
        assert ids(reader.select_events(party="%")) == []

    def test_after_seq_reads_only_what_came_since(self, engine: Engine) -> None:
        reader = LedgerReader(engine)
        _ingest(engine, STORY[:5])
        first = list(reader.select_events())
        _ingest(engine, STORY[5:])
        since = list(reader.select_events(after_seq=first[-1].seq))
        assert ids(first) + ids(since) == [e["id"] for e in STORY]
        assert list(reader.select_events(after_seq=reader.head().seq)) == []

    def test_limit(self, reader: LedgerReader) -> None:
        assert ids(reader.select_events(limit=2)) == ["imp1", "arr1"]
        assert ids(reader.select_events(party=B, limit=2)) == ["arr1", "t1"]
        assert list(reader.select_events(limit=0)) == []

    def test_cancelled_events_are_marked_or_left_out(self, reader: LedgerReader) -> None:
        (t3,) = reader.select_events(batch=B2, holder=D, types=["transfer"])
        (c1,) = reader.select_events(types=["cancel"])
        assert t3.cancelled and t3.cancelled_us == c1.time_us
        assert not t3.stands_at(c1.time_us) and t3.stands_at(c1.time_us - 1)
        standing = ids(reader.select_events(include_cancelled=False))
        assert "t3" not in standing and len(standing) == len(STORY) - 1

    def test_events_by_id(self, reader: LedgerReader) -> None:
        found = reader.events_by_id(["t1", "tr1", "unknown"])
        assert sorted(found) == ["t1", "tr1"]
        assert isinstance(found["tr1"].event, ev.TransitOpen)

    def test_reads_inside_a_callers_transaction(self, engine: Engine) -> None:
        _ingest(engine, STORY[:1])
        with engine.connect() as conn:
            reader = LedgerReader(conn)
            assert ids(reader.select_events()) == ["imp1"]
            assert reader.head().seq == 1

    def test_a_read_leaves_the_callers_connection_as_it_was(self, engine: Engine) -> None:
        _ingest(engine, STORY[:2])
        with engine.begin() as conn:
            assert len(list(LedgerReader(conn).select_events())) == 2
            assert "yield_per" not in conn.get_execution_options()
            write_rejections(conn, [_rejection(1), _rejection(2)], "after-read")  # executemany
        assert [r.line for r in LedgerReader(engine).rejections(source="after-read")] == [2, 1]

    def test_time_order_seals_and_the_stored_object(self, reader: LedgerReader) -> None:
        by_time = list(reader.select_events(order="time"))
        assert [(s.time_us, s.seq) for s in by_time] == sorted((s.time_us, s.seq) for s in by_time)
        assert ids(reader.select_events(seal=["S-9", "S-0"])) == ["p1"]
        assert ids(reader.select_events(mrn=[MRN, "other"], types=["incident"])) == ["i1"]
        (inc,) = reader.select_events(types=["incident"], extra_for=["incident"])
        assert inc.extra is not None and inc.extra["note"] == "reported by the carrier"
        assert all(s.extra is None for s in reader.select_events(types=["import"]))

    def test_chain_positions_and_times(self, reader: LedgerReader) -> None:
        every = list(reader.select_events())
        assert reader.hash_at(3) == every[2].hash and reader.hash_at(10_000) is None
        assert reader.latest_time_us() == max(s.time_us for s in every)
        assert reader.latest_time_us(after_seq=2, upto_seq=4) == max(s.time_us for s in every[2:4])
        assert reader.count_events(types=["transfer"], after_seq=3) == 2

    def test_cancellations(self, reader: LedgerReader) -> None:
        (c,) = reader.cancellations()
        assert (c.target, c.target_type, c.event_id) == ("t3", "transfer", "c1")
        assert reader.cancellations(types=["transit_open"]) == []
        assert reader.cancellations(end=time_of(c.time_us)) == []

    def test_read_models_are_typed(self, reader: LedgerReader) -> None:
        assert [(x.batch, x.quantity) for x in reader.stock(C)] == [(B1, 10), ("P-1", 1)]
        history = reader.history(B1)
        assert [e.id for e in history.events] == ["imp1", "t1", "t2", "x1", "w1"]
        assert history.events[0].time == datetime(2024, 3, 1, 5, tzinfo=UTC)
        back = reader.trace_back("P-1")
        assert [o.batch for o in back.origins] == [B1]
        assert isinstance(back.origins[0].seller, ev.Party)
        forward = reader.trace_forward(B1)
        assert forward.totals == {"held": 50, "transformed": 40, "write_off": 10}
        assert ids(reader.receipts(MRN)) == ["r1"]
        assert reader.summary().events == reader.count_by_type()
        assert reader.party_batches(D, [B1, B2, "P-1"]) == {B2}
        assert reader.batch(B2).origin == "CN" and sorted(reader.batches([B1, "x"])) == [B1]

    def test_read_models_turn_into_the_json_of_the_edges(self, reader: LedgerReader) -> None:
        entry = public(reader.history(B1))["events"][1]
        assert (entry["from"], entry["to"], entry["quantity"]) == (A, B, "60")
        assert entry["time"] == "2024-03-02T05:00:00Z"
        exits = public(reader.trace_forward("P-1"))["batches"][0]["exits"]
        assert exits[0]["buyer"]["country"] == "RU" and exits[0]["quantity"] == "3"

    def test_count_by_type(self, reader: LedgerReader) -> None:
        assert reader.count_by_type() == {e: 1 for e in ev.EVENT_TYPES} | {"transfer": 3}

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"types": ["imports"]}, "types"),
            ({"start": datetime(2024, 3, 1)}, "start"),
            ({"end": datetime(2024, 3, 1)}, "end"),
            ({"limit": -1}, "limit"),
        ],
    )
    def test_bad_filters_name_the_field(
        self, reader: LedgerReader, kwargs: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidQuery) as caught:
            list(reader.select_events(**kwargs))
        assert caught.value.field == field

    def test_every_filter_combination_agrees_with_python(self, reader: LedgerReader) -> None:
        every = list(reader.select_events())
        checks = _checks(every)
        options: dict[str, list[Any]] = {
            "types": [None, {"transfer", "cancel"}, {"import", "receipt", "transit_open"}],
            "start": [None, datetime(2024, 3, 3, tzinfo=UTC)],
            "batch": [None, B1, B2],
            "holder": [None, B, C],
            "mrn": [None, MRN],
            "party": [None, B, "DE12"],
            "after_seq": [0, 4],
            "include_cancelled": [True, False],
        }
        for values in itertools.product(*options.values()):
            kwargs = dict(zip(options, values, strict=True))
            want = [s for s in every if all(checks[k](s, v) for k, v in kwargs.items())]
            assert ids(reader.select_events(**kwargs)) == ids(want), kwargs


def _checks(every: list[StoredEvent]) -> dict[str, Callable[[StoredEvent, Any], bool]]:
    """Each filter as a Python predicate over a stored event (given the whole story)."""
    moved = {
        "imp1": {(B1, A)},
        "arr1": {(B2, B)},
        "t1": {(B1, A), (B1, B)},
        "t2": {(B1, B), (B1, C)},
        "x1": {(B1, C), ("P-1", C)},
        "d1": {("P-1", C)},
        "e1": {(B2, B)},
        "w1": {(B1, C)},
        "a1": {(B2, B)},
        "t3": {(B2, B), (B2, D)},
        "c1": {(B2, B), (B2, D)},
    }
    assert set(moved) == {s.event.id for s in every if s.type in ev.STOCK_TYPES | {"cancel"}}

    def mrn_of(s: StoredEvent) -> str | None:
        return getattr(s.event, "mrn", None) or getattr(s.event, "ref", None)

    return {
        "types": lambda s, v: v is None or s.type in v,
        "start": lambda s, v: v is None or s.time_us >= micros(v),
        "batch": lambda s, v: v is None or any(b == v for b, _ in moved.get(s.event.id, ())),
        "holder": lambda s, v: v is None or any(h == v for _, h in moved.get(s.event.id, ())),
        "mrn": lambda s, v: v is None or mrn_of(s) == v,
        "party": lambda s, v: (
            v is None or v in parties(s.event) or any(h == v for _, h in moved.get(s.event.id, ()))
        ),
        "after_seq": lambda s, v: s.seq > v,
        "include_cancelled": lambda s, v: v or not s.cancelled,
    }

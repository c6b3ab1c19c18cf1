"""Each detector on hand-written ledgers: what fires, what stays quiet, and what it says."""

from __future__ import annotations

from typing import Any

import pytest

from keruen.risk.context import DAY_US
from keruen.risk.facts import PartyHit, TransitFinding
from keruen.risk.model import micros_of
from tests import factory as f
from tests.risk.helpers import config, found, rules_on

B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"
CHAIR = "940360"  # wooden furniture: on no list
KG_FRONT = {"tax_id": "01501202400123", "name": "ОсОО «Фронт»", "country": "KG"}
KG_OLD = {"tax_id": "01501200100123", "name": "ОсОО «Старый»", "country": "KG"}
DE_SELLER = {"tax_id": "DE811", "name": "Bauer Handel GmbH", "country": "DE"}
US_MADE = {
    "hs": "854231",
    "description": "processors",
    "unit": "PCE",
    "origin": "CN",
    "manufacturer": "Intel",
    "manufacturer_country": "US",
}


def receipt(id: str, ref: str, day: int, qty: str = "50") -> dict[str, Any]:
    return {
        "type": "receipt",
        "id": id,
        "time": f.t(day),
        "ref": ref,
        "country": "RU",
        "quantity": qty,
        "document": {"kind": "CMR", "number": f"R-{id}"},
    }


CHPL_IMPORT = f.import_("i1", B1, holder=f.A, qty="100")
CHAIR_IMPORT = f.import_("i2", B2, holder=f.A, qty="100", hs=CHAIR)

# (case, events, subject, rules that must fire on it, rules that must not)
CASES = [
    (
        "CHPL straight to Russia",
        [CHPL_IMPORT, f.dispatch("d1", B1, f.A, "50")],
        "d1",
        {"high_priority_goods"},
        set(),
    ),
    (
        "CHPL through two shells",
        [
            CHPL_IMPORT,
            f.transfer("t1", B1, f.A, f.B, "80"),
            f.transfer("t2", B1, f.B, f.C, "80", day=3),
            f.dispatch("d1", B1, f.C, "80"),
        ],
        "d1",
        {"high_priority_goods"},
        {"phantom_stock"},
    ),
    (
        "CHPL made into something else",
        [
            CHPL_IMPORT,
            CHAIR_IMPORT,
            f.transform("x1", f.A, [(B1, "100"), (B2, "10")], "OUT-1", "5"),
            f.dispatch("d1", "OUT-1", f.A, "5"),
        ],
        "d1",
        {"high_priority_goods"},
        set(),
    ),
    (
        "ordinary goods to Russia",
        [CHAIR_IMPORT, f.dispatch("d1", B2, f.A, "50")],
        "d1",
        set(),
        {"high_priority_goods", "origin_reexport"},
    ),
    (
        "CHPL used up at home",
        [CHPL_IMPORT, f.write_off("w1", B1, f.A, "100")],
        "w1",
        set(),
        {"high_priority_goods"},
    ),
    (
        "CHPL to a young front in Kyrgyzstan",
        [CHPL_IMPORT, f.dispatch("d1", B1, f.A, "50", buyer=KG_FRONT)],
        "d1",
        {"high_priority_goods"},
        set(),
    ),
    (
        "made in the US, to Russia",
        [f.import_("i1", B1, holder=f.A, goods=US_MADE), f.dispatch("d1", B1, f.A, "50")],
        "d1",
        {"high_priority_goods", "origin_reexport"},
        set(),
    ),
    (
        "stock from stocktake only",
        [CHAIR_IMPORT, f.adjust("a1", B2, f.B, "300"), f.dispatch("d1", B2, f.B, "300")],
        "d1",
        {"phantom_stock"},
        set(),
    ),
    (
        "a small surplus sold with the rest",
        [CHAIR_IMPORT, f.adjust("a1", B2, f.A, "2"), f.dispatch("d1", B2, f.A, "100", day=5)],
        "d1",
        set(),
        {"phantom_stock"},
    ),
    (
        "quick circle before the exit",
        [
            CHAIR_IMPORT,
            f.transfer("t1", B2, f.A, f.B, "90"),
            f.transfer("t2", B2, f.B, f.C, "90", day=3),
            f.transfer("t3", B2, f.C, f.A, "90", day=4),
            f.dispatch("d1", B2, f.A, "90", day=5),
        ],
        "d1",
        {"layering"},
        set(),
    ),
    (
        "a straight, slow chain",
        [
            CHAIR_IMPORT,
            f.transfer("t1", B2, f.A, f.B, "90", day=2),
            f.transfer("t2", B2, f.B, f.C, "90", day=20),
            f.dispatch("d1", B2, f.C, "90", day=30),
        ],
        "d1",
        set(),
        {"layering"},
    ),
    (
        "a receipt for nothing",
        [CHAIR_IMPORT, receipt("r1", "NO-SUCH-ID", 3)],
        "r1",
        {"ghost_receipt"},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("case", "events", "subject", "fire", "quiet"), CASES, ids=[c[0] for c in CASES]
)
def test_detector_cases(
    case: str, events: list[dict[str, Any]], subject: str, fire: set[str], quiet: set[str]
) -> None:
    alerts = [a for a in found(*events) if a.score >= 0.5]
    fired = rules_on(alerts, subject)
    assert fire <= fired, case
    assert not (quiet & fired), case


def test_chain_explanation_names_batch_holders_dates_and_list_version() -> None:
    alerts = found(
        CHPL_IMPORT, f.transfer("t1", B1, f.A, f.B, "80"), f.dispatch("d1", B1, f.B, "80")
    )
    a = next(a for a in alerts if a.rule == "high_priority_goods")
    for fact in (
        B1,
        f.A,
        f.B,
        "i1",
        "t1",
        "2024-03-01",
        "2024-03-04",
        "ООО Ромашка",
        "7701234567",
        "chpl 2024-02-23",
        "tier 1",
        "80 PCE",
    ):
        assert fact in a.explanation
    assert a.refs.events[0] == "d1" and "i1" in a.refs.events
    assert a.refs.batches == (B1,)
    assert {f.A, f.B, "7701234567"} <= set(a.refs.tax_ids)
    assert a.list_version == "chpl 2024-02-23"
    assert a.facts["chain"] == [f.A, f.B]


def test_before_the_bans_took_effect_nothing_fires() -> None:
    cfg = config(watch={"effective": "2024-06-01"})
    assert not rules_on(found(CHPL_IMPORT, f.dispatch("d1", B1, f.A, "50"), config=cfg), "d1")


def test_an_established_buyer_in_a_conduit_state_scores_lower_than_a_front() -> None:
    def score(buyer: dict[str, str]) -> float:
        alerts = found(CHPL_IMPORT, f.dispatch("d1", B1, f.A, "50", buyer=buyer))
        return next(a.score for a in alerts if a.rule == "high_priority_goods")

    assert score(KG_FRONT) > score(KG_OLD)
    assert score(KG_FRONT) > score(f.RU_BUYER) * 0.5


def test_fast_reexport_from_a_sanctioning_state_is_a_signal_on_the_dispatch() -> None:
    events = [
        f.import_("i2", B2, holder=f.A, hs=CHAIR, seller=DE_SELLER),
        f.dispatch("d1", B2, f.A, "50", day=10),
    ]
    a = next(a for a in found(*events) if a.rule == "fast_reexport")
    assert a.subject == "d1" and 0 < a.score < 0.5
    assert "9 days after" in a.explanation and "DE" in a.explanation
    slow = config(reexport={"max_days": 3})
    assert "fast_reexport" not in rules_on(found(*events, config=slow), "d1")


def test_ghost_dispatch_waits_for_its_grace_period() -> None:
    events = [CHAIR_IMPORT, f.dispatch("d1", B2, f.A, "50", day=4)]
    sent = micros_of(f.t(4))
    assert not rules_on(found(*events, now=sent + 10 * DAY_US), "d1")
    late = found(*events, now=sent + 50 * DAY_US)
    a = next(a for a in late if a.rule == "ghost_dispatch")
    assert a.time_us == sent + 45 * DAY_US
    received = [*events, receipt("r1", "d1", 9)]
    assert "ghost_dispatch" not in rules_on(found(*received, now=sent + 50 * DAY_US), "d1")


def test_new_company_with_outsized_volume_is_a_party_signal() -> None:
    young = f.bin_(77, yymm="2401")
    events = [
        f.import_(
            "i2",
            B2,
            holder=young,
            hs=CHAIR,
            qty="100",
            value={"amount": "5000000", "currency": "USD"},
        ),
        {**f.dispatch("d1", B2, young, "100"), "value": {"amount": "6000000", "currency": "USD"}},
    ]
    a = next(a for a in found(*events) if a.rule == "new_company_volume")
    assert (a.subject_kind, a.subject) == ("party", young)
    assert "2024-01" in a.explanation and "6,000,000 USD" in a.explanation
    old = f.bin_(78, yymm="1503")
    events[1] = {**events[1], "holder": old}
    events[0] = {**events[0], "holder": old}
    assert not [a for a in found(*events) if a.rule == "new_company_volume"]


def test_unit_value_far_above_its_peers_flags_the_batch() -> None:
    peers = [
        f.import_(
            f"p{n}",
            f"55501/010324/{n:07d}/001",
            qty="100",
            hs=CHAIR,
            value={"amount": str(1000 + 10 * n), "currency": "USD"},
        )
        for n in range(3, 20)
    ]
    odd = f.import_("odd", B2, qty="100", hs=CHAIR, value={"amount": "90000", "currency": "USD"})
    alerts = [a for a in found(*peers, odd) if a.rule == "unit_value"]
    assert [(a.subject_kind, a.subject) for a in alerts] == [("batch", B2)]
    assert "900 USD per unit, 80.7× the median 11.15 USD per unit" in alerts[0].explanation


def hit(score: float, country: str, entry_countries: tuple[str, ...]) -> PartyHit:
    return PartyHit(
        "d1",
        "buyer",
        "7701234567",
        "ООО Ромашка",
        country,
        "E1",
        "ROMASHKA OOO",
        "ofac-sdn",
        "v1",
        score,
        "names align",
        entry_countries,
    )


@pytest.mark.parametrize(
    ("score", "entry_countries", "fires"),
    [
        (0.9, ("RU",), True),
        (0.9, ("AE",), False),  # countries disagree: near certainty needed
        (0.97, ("AE",), True),
        (0.6, (), False),
    ],
)
def test_sanctioned_party(score: float, entry_countries: tuple[str, ...], fires: bool) -> None:
    events = [CHAIR_IMPORT, f.dispatch("d1", B2, f.A, "50")]
    alerts = found(*events, party_hits=[hit(score, "RU", entry_countries)])
    party = [a for a in alerts if a.rule == "sanctioned_party"]
    assert bool(party) == fires
    if fires:
        assert party[0].subject == "7701234567" and "ROMASHKA OOO" in party[0].explanation


@pytest.mark.parametrize(
    ("kind", "facts", "expected"),
    [
        ("exit_other_post", {"post_neighbour": "RU", "destination": "DE"}, 0.95),
        ("exit_other_post", {"post_neighbour": "CN", "destination": "DE"}, 0.7),
        ("seal_silent", {}, 0.15),
        ("seal_breach", {}, 0.8),
    ],
)
def test_transit_findings_are_scored_by_kind(
    kind: str, facts: dict[str, str], expected: float
) -> None:
    finding = TransitFinding("MRN1", kind, micros_of(f.t(3)), "high", "what happened", facts)
    alerts = found(f.transit_open("o1", "MRN1"), transit=[finding], now=micros_of(f.t(5)))
    a = next(a for a in alerts if a.rule == f"transit_{kind}")
    assert (a.subject_kind, a.subject, a.score) == ("transit", "MRN1", expected)
    assert a.refs.mrns == ("MRN1",) and a.refs.events == ("o1",)
    assert a.refs.tax_ids == ("CN77", "DE12")


def test_since_keeps_only_findings_completed_after_it() -> None:
    events = [
        CHPL_IMPORT,
        f.dispatch("d1", B1, f.A, "10", day=4),
        f.dispatch("d2", B1, f.A, "10", day=9),
    ]
    later = found(*events, since=micros_of(f.t(6)))
    assert rules_on(later, "d2") and not rules_on(later, "d1")


def test_a_transit_no_receipt_confirms_after_its_deadline() -> None:
    opened = f.transit_open("o1", "MRN1", day=1)  # deadline: day 11
    deadline = micros_of(f.t(11))
    assert not found(opened, now=deadline + 10 * DAY_US)
    a = next(a for a in found(opened, now=deadline + 46 * DAY_US) if a.rule == "ghost_transit")
    assert (a.subject_kind, a.subject, a.refs.mrns) == ("transit", "MRN1", ("MRN1",))
    assert "no receipt confirms" in a.explanation
    confirmed = {**receipt("r1", "MRN1", 12), "mass_kg": "1200"}
    confirmed.pop("quantity")
    assert not found(opened, confirmed, now=deadline + 46 * DAY_US)


def close(mrn: str, day: int, post: str = "KZZS1-RAIL", mass: str = "1200", intact: bool = True):  # type: ignore[no-untyped-def]
    return {
        "type": "transit_close",
        "id": f"c-{mrn}",
        "time": f.t(day),
        "mrn": mrn,
        "post": post,
        "mass_kg": mass,
        "seals_intact": intact,
    }


@pytest.mark.parametrize(
    ("closing", "ghost"),
    [
        (close("MRN1", 10), False),  # declared post, on time, seals intact, same mass
        (close("MRN1", 10, mass="1210"), False),  # within 2 %
        (close("MRN1", 10, post="KZZS1-ROAD"), True),  # another post
        (close("MRN1", 12), True),  # after the deadline
        (close("MRN1", 10, intact=False), True),  # seals not intact
        (close("MRN1", 10, mass="900"), True),  # a quarter of the mass missing
    ],
)
def test_a_transit_closed_as_declared_is_no_ghost(closing: dict[str, Any], ghost: bool) -> None:
    opened = f.transit_open("o1", "MRN1", day=1)
    later = micros_of(f.t(11)) + 46 * DAY_US
    assert ("ghost_transit" in rules_on(found(opened, closing, now=later), "MRN1")) == ghost


def _dispatches(n: int, buyer: dict[str, str], confirmed: bool, first: int = 0) -> list[Any]:
    out: list[Any] = []
    for i in range(first, first + n):
        out.append(f.dispatch(f"d{i}", B2, f.A, "1", day=4, buyer=buyer))
        if confirmed:
            out.append(receipt(f"r{i}", f"d{i}", 9, qty="1"))
    return out


def test_a_missing_receipt_weighs_as_much_as_receipts_are_expected() -> None:
    """A partner that never confirms: no evidence. A buyer that always confirmed: strong."""
    cn = {"name": "Yiwu Trading Co., Ltd.", "country": "CN"}
    never = [CHAIR_IMPORT, *_dispatches(6, cn, confirmed=False)]
    events = [e | {"type": "export"} if e["type"] == "dispatch" else e for e in never]
    later = micros_of(f.t(4)) + 50 * DAY_US
    ghosts = [a for a in found(*events, now=later) if a.rule == "ghost_dispatch"]
    assert ghosts and all(a.score == 0 for a in ghosts)
    steady = [CHAIR_IMPORT, *_dispatches(5, f.RU_BUYER, confirmed=True)]
    lapse = [*steady, f.dispatch("d9", B2, f.A, "1", day=4)]
    a = next(a for a in found(*lapse, now=later) if a.rule == "ghost_dispatch")
    assert (a.subject, a.score) == ("d9", 0.7) and "buyer's 5 earlier" in a.explanation

"""Ghost trade: a consignment with no partner receipt, or a receipt for no consignment.

A dispatch or export to a partner state, or a transit, that no receipt refers to (by event
id or MRN) once the grace period has passed — after the dispatch, after the transit's
deadline: the goods may never have gone where declared. And a receipt from a partner state
that refers to nothing the home country declared.

Receipts are not universal: EU and Chinese destinations send none, other partners send them
for some buyers and goods, late. A missing receipt weighs as much as receipts are expected:
the score is scaled by the share of the partner's earlier movements that a receipt confirmed
(or the buyer's own share, when it has a record), so a missing receipt from a partner that
never sends one is no evidence at all. A transit that exited at its declared post by its
deadline, seals intact and mass consistent, closed its movement: that is positive evidence
of arrival, and no ghost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.config import Ghost
from keruen.risk.context import DAY_US, Context
from keruen.risk.model import Alert, day, refs

MISSING = "ghost_dispatch"
TRANSIT = "ghost_transit"
ORPHAN = "ghost_receipt"
RULES = {
    MISSING: "Ghost trade: a dispatch or export with no partner receipt",
    TRANSIT: "Ghost trade: a transit that no receipt confirms after its deadline",
    ORPHAN: "Ghost trade: a partner receipt that refers to no dispatch, export or transit",
}


def detect(ctx: Context) -> Iterator[Alert]:
    yield from _missing(ctx)
    yield from _unconfirmed(ctx)
    yield from _orphans(ctx)


@dataclass(slots=True)
class Coverage:
    """How often, and how late, receipts came: (confirmed, total) per partner country and
    per buyer over movements whose wait is over, and the longest delay seen per country."""

    country: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    buyer: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    delays: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    grace_us: int = 0
    min_history: int = 3
    margin: float = 0.5

    def wait(self, country: str) -> int:
        """How long to wait for a receipt from `country`: the grace period, or the longest a
        receipt from there took with a margin, if longer (receipts come weeks late from some
        partners, and the next one may come later than any seen so far)."""
        seen = self.delays.get(country, [])
        if len(seen) < self.min_history:
            return self.grace_us
        return max(self.grace_us, int(max(seen) * (1 + self.margin)))

    def note(self, country: str, buyer: str | None, confirmed: bool) -> None:
        for tally in (self.country[country], *((self.buyer[buyer],) if buyer else ())):
            tally[0] += confirmed
            tally[1] += 1

    def expected(self, country: str, buyer: str | None, cfg: Ghost) -> tuple[float, str]:
        """The share of movements a receipt confirms, from the buyer's own record when it has
        one, else the partner's (leaving this movement out), and how it is known."""
        own = self.buyer.get(buyer or "", [0, 0])
        if own[1] - 1 >= cfg.min_history:
            return own[0] / (own[1] - 1), f"the buyer's {own[1] - 1} earlier movement(s)"
        seen = self.country.get(country, [0, 0])
        if seen[1] - 1 >= cfg.min_history:
            return seen[0] / (seen[1] - 1), f"{seen[1] - 1} movement(s) to {country}"
        return cfg.prior_coverage, "no record yet (prior)"


def coverage(ctx: Context) -> Coverage:
    """Receipt coverage of every movement whose wait ended by `now`."""
    cfg = ctx.config.ghost
    found = Coverage(
        grace_us=int(cfg.grace_days * DAY_US), min_history=cfg.min_history, margin=cfg.wait_margin
    )
    ledger = ctx.ledger
    moves = [(ledger.at(e), e.id, e.buyer.country, e.buyer.key) for e in ledger.outflows]
    moves += [
        (micros(t.deadline), mrn, t.destination, t.consignee.key)
        for mrn, t in ledger.transits.items()
        if not closed(ctx, t)
    ]
    for at, ref, country, _ in moves:
        if receipts := ledger.receipts.get(ref):
            found.delays[country].append(max(0, ledger.at(receipts[0]) - at))
    for at, ref, country, key in moves:
        if at + found.wait(country) <= ctx.now_us:
            found.note(country, key, bool(ledger.receipts.get(ref)))
    return found


def _missing(ctx: Context) -> Iterator[Alert]:
    known = coverage(ctx)
    for e in ctx.outflows():
        due = ctx.ledger.at(e) + known.wait(e.buyer.country)
        if ctx.fresh(due) and not ctx.ledger.receipts.get(e.id):
            share, basis = known.expected(e.buyer.country, e.buyer.key, ctx.config.ghost)
            yield _missing_alert(ctx, e, due, share, basis)


def _expectation(share: float, basis: str) -> str:
    return f" Receipts confirmed {share:.0%} of comparable movements ({basis})."


def _missing_alert(ctx: Context, e: ev.Dispatch, due: int, share: float, basis: str) -> Alert:
    text = (
        f"{say.outflow(ctx.ledger, e)}. No receipt from {e.buyer.country} refers to it by "
        f"{day(due)}, {(due - ctx.ledger.at(e)) / DAY_US:.0f} days later."
    ) + _expectation(share, basis)
    return Alert(
        rule=MISSING,
        subject_kind="event",
        subject=e.id,
        score=round(ctx.config.ghost.score_missing * share, 4),
        time_us=due,
        explanation=text,
        refs=refs([e.id], [e.batch], [e.holder, e.buyer.tax_id]),
        facts={"destination": e.buyer.country, "due": day(due), "coverage": round(share, 3)},
    )


def closed(ctx: Context, t: ev.TransitOpen) -> bool:
    """The movement closed as declared: exit at the declared post by the deadline, seals
    intact, mass within tolerance of the declaration, and no transit finding about it."""
    close = ctx.ledger.closes.get(t.mrn)
    if close is None or close.post != t.exit_post or not close.seals_intact:
        return False
    if close.time > t.deadline or t.mrn in ctx.transit_findings:
        return False
    declared = sum((g.mass_kg for g in t.goods), Decimal(0))
    tolerance = Decimal(str(ctx.config.ghost.mass_tolerance))
    return declared > 0 and abs(close.mass_kg - declared) <= declared * tolerance


def _unconfirmed(ctx: Context) -> Iterator[Alert]:
    known: Coverage | None = None
    for mrn, e in ctx.ledger.transits.items():
        if not ctx.judged(e) or ctx.ledger.receipts.get(mrn) or closed(ctx, e):
            continue
        known = known or coverage(ctx)
        due = micros(e.deadline) + known.wait(e.destination)
        if ctx.fresh(due):
            share, basis = known.expected(e.destination, e.consignee.key, ctx.config.ghost)
            yield _unconfirmed_alert(ctx, e, due, share, basis)


def _unconfirmed_alert(
    ctx: Context, e: ev.TransitOpen, due: int, share: float, basis: str
) -> Alert:
    text = (
        f"Transit {e.mrn} declared on {day(ctx.ledger.at(e))} at {e.entry_post} for "
        f"{e.destination} ({say.party(e.consignee)}), exit planned at {e.exit_post} by "
        f"{day(micros(e.deadline))}: it did not close as declared, and no receipt confirms "
        f"its arrival by {day(due)}."
    ) + _expectation(share, basis)
    return Alert(
        rule=TRANSIT,
        subject_kind="transit",
        subject=e.mrn,
        score=round(ctx.config.ghost.score_missing * share, 4),
        time_us=due,
        explanation=text,
        refs=refs([e.id], (), [e.carrier.tax_id, e.consignee.tax_id], [e.mrn]),
        facts={"destination": e.destination, "due": day(due), "coverage": round(share, 3)},
    )


def _orphans(ctx: Context) -> Iterator[Alert]:
    ledger = ctx.ledger
    for ref, receipts in ledger.receipts.items():
        if ref in ledger.by_id or ref in ledger.transits:
            continue
        for r in receipts:
            if ctx.fresh(ledger.at(r)) and ctx.judged(r):
                yield _orphan_alert(ctx, r)


def _orphan_alert(ctx: Context, r: ev.Receipt) -> Alert:
    amount = f"{r.quantity:,}" if r.quantity is not None else f"{r.mass_kg or 0:,} kg"
    text = (
        f"Receipt {r.id} on {day(ctx.ledger.at(r))} from {r.country} ({r.document.kind} "
        f"{r.document.number}) confirms {amount} arrived for {r.ref!r}, but no dispatch, export "
        f"or transit in the ledger has that event id or MRN."
    )
    return Alert(
        rule=ORPHAN,
        subject_kind="event",
        subject=r.id,
        score=ctx.config.ghost.score_orphan,
        time_us=ctx.ledger.at(r),
        explanation=text,
        refs=refs([r.id]),
        facts={"ref": r.ref, "country": r.country},
    )

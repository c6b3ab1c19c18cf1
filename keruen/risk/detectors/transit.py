"""Transit findings as alerts: not exited, exited toward Russia, off route, seals, mass.

Transit monitoring (keruen.transit) replays every movement and reports findings with their
facts; this rule scores each one — by kind, else by the severity transit gave it — and an
exit at a post on a watched destination's border for goods declared elsewhere scores highest.
"""

from __future__ import annotations

from collections.abc import Iterator

from keruen.risk.context import Context
from keruen.risk.facts import TransitFinding
from keruen.risk.model import Alert, SubjectKind, refs

PREFIX = "transit_"
KINDS = [
    "overdue",
    "late_exit",
    "exit_other_post",
    "destination_mismatch",
    "route_deviation",
    "checkpoint_off_route",
    "long_stop",
    "seal_breach",
    "seal_silent",
    "seal_alarm",
    "seal_reused",
    "mass_difference",
    "quantity_difference",
    "ping_after_close",
    "ping_unbound",
    "event_after_close",
    "undeclared",
    "duplicate_mrn",
    "route_unresolved",
]
RULES = {PREFIX + k: f"Transit finding: {k.replace('_', ' ')}" for k in KINDS}


def detect(ctx: Context) -> Iterator[Alert]:
    for f in ctx.facts.transit:
        if ctx.fresh(f.time_us) and _judged(ctx, f):
            yield _alert(ctx, f)


def _judged(ctx: Context, f: TransitFinding) -> bool:
    if ctx.only_events is None:
        return True
    return f.mrn in ctx.only_events


def score(ctx: Context, f: TransitFinding) -> float:
    cfg = ctx.config.transit
    watched = ctx.config.watch.destinations
    facts = f.facts
    if (
        f.kind == "exit_other_post"
        and facts.get("post_neighbour") in watched
        and facts.get("destination") not in watched
    ):
        return cfg.exit_toward_watched
    return cfg.kinds.get(f.kind, cfg.severity.get(f.severity, 0.5))


def _alert(ctx: Context, f: TransitFinding) -> Alert:
    on_event = f.subject in ("dispatch", "export")
    kind: SubjectKind = "event" if on_event else "transit"
    declared = ctx.ledger.transits.get(f.mrn)
    parties = (declared.carrier, declared.consignee) if declared else ()
    tax_ids = [p.tax_id for p in parties if p.tax_id]
    events = [f.mrn] if on_event else [declared.id] if declared else []
    return Alert(
        rule=PREFIX + f.kind,
        subject_kind=kind,
        subject=f.mrn,
        score=score(ctx, f),
        time_us=f.time_us,
        explanation=f.explanation,
        refs=refs(events, (), tax_ids, [] if on_event else [f.mrn]),
        facts={"severity": f.severity, **f.facts},
    )

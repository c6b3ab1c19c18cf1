"""What one detection run sees: the ledger as of `now`, provenance, facts, configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from keruen.model import events as ev
from keruen.risk.config import RiskConfig
from keruen.risk.facts import Facts
from keruen.risk.provenance import Provenance, trace
from keruen.risk.state import Ledger

DAY_US = 86_400_000_000


@dataclass
class Context:
    ledger: Ledger
    facts: Facts
    config: RiskConfig
    now_us: int
    since_us: int = 0
    # when set, only these subjects are judged (a pre-check judges one planned dispatch)
    only_events: frozenset[str] | None = None
    # buyers (their keys) known to have bought before the ledger read: a pre-check reads the
    # batch's lineage, not every earlier outflow (keruen.risk.scope.bought_before)
    buyers_seen: frozenset[str] = frozenset()
    _prov: Provenance | None = field(default=None, repr=False)

    @cached_property
    def transit_findings(self) -> frozenset[str]:
        """MRNs that transit monitoring found something against: not a telemetry gap (a seal
        that stopped reporting says nothing of where the goods went), nothing of low severity."""
        return frozenset(
            f.mrn for f in self.facts.transit if f.kind != "seal_silent" and f.severity != "low"
        )

    @cached_property
    def prov(self) -> Provenance:
        return self._prov or trace(self.ledger)

    def fresh(self, time_us: int) -> bool:
        """An alert whose facts were complete at `time_us` belongs to this run."""
        return self.since_us <= time_us <= self.now_us

    def judged(self, e: ev.Event) -> bool:
        return self.only_events is None or e.id in self.only_events

    def outflows(self) -> list[ev.Dispatch]:
        """Dispatches and exports this run judges."""
        return [e for e in self.ledger.outflows if self.judged(e)]

    def in_force(self, time_us: int) -> bool:
        """Whether the export bans on watched destinations applied at that time."""
        d = self.config.watch.effective
        start = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * 1_000_000
        return time_us >= start

    def route(self, country: str) -> str | None:
        """'watched' for a watched destination, 'conduit' for a conduit state, else None."""
        watch = self.config.watch
        if country in watch.destinations:
            return "watched"
        return "conduit" if country in watch.conduits else None

    def usd(self, money: ev.Money) -> float | None:
        rate = self.config.usd.rates.get(money.currency)
        return None if rate is None else float(money.amount) * rate

    def days(self, us: int) -> float:
        return us / DAY_US

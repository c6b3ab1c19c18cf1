"""Building risk contexts from factory events, without a database."""

from __future__ import annotations

from typing import Any

from keruen.model.validate import parse
from keruen.risk import engine
from keruen.risk.config import RiskConfig
from keruen.risk.context import Context
from keruen.risk.facts import Facts, PartyHit, TransitFinding
from keruen.risk.model import Alert
from keruen.risk.sources import goods_rules
from keruen.risk.state import Ledger, build
from keruen.screening import builtin_screener
from tests import factory as f

RULES = goods_rules(builtin_screener())


def ledger_of(*events: dict[str, Any]) -> Ledger:
    return build(parse(f.line(e)).event for e in events)


def context(
    *events: dict[str, Any],
    config: RiskConfig | None = None,
    party_hits: list[PartyHit] | None = None,
    transit: list[TransitFinding] | None = None,
    now: int | None = None,
    since: int = 0,
) -> Context:
    ledger = ledger_of(*events)
    facts = Facts(RULES, party_hits or [], transit or [], set())
    return Context(ledger, facts, config or RiskConfig(), now or ledger.latest_us, since)


def found(*events: dict[str, Any], **kw: Any) -> list[Alert]:
    return engine.detect(context(*events, **kw))


def rules_on(alerts: list[Alert], subject: str) -> set[str]:
    return {a.rule for a in alerts if a.subject == subject}


def config(**sections: dict[str, Any]) -> RiskConfig:
    return RiskConfig.model_validate(sections)

"""Terminal rendering of the risk results: evaluation tables, lanes, top alerts."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from keruen.console import out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _days(d: dict[str, float] | None) -> str:
    return "—" if not d else f"{d['median']:.0f} / {d['max']:.0f}"


def evaluation_table(result: dict[str, Any]) -> Table:
    table = Table(
        "scheme kind",
        "schemes",
        "found",
        "recall",
        "diverted USD",
        "alerts",
        "days",
        title="detection against the planted schemes",
        caption="recall: share of the diverted value; days: to detect, median / max",
    )
    for kind, k in result["per_kind"].items():
        table.add_row(
            kind,
            str(k["schemes"]),
            str(k["detected"]),
            _pct(k["recall"]),
            f"{k['value_usd']:,.0f}",
            str(k["alerts"]),
            _days(k["days_to_detect"]),
        )
    table.add_row(
        "[bold]all[/]",
        str(result["schemes"]),
        str(result["detected"]),
        f"[bold]{_pct(result['recall'])}[/]",
        "",
        str(result["alerts"]),
        _days(result["days_to_detect"]),
    )
    return table


def print_evaluation(result: dict[str, Any]) -> None:
    out.print(evaluation_table(result))
    b = result["burden_detail"]
    out.print(
        f"recall {_pct(result['recall'])} of diverted value (target ≥ 95%) · "
        f"precision {_pct(result['precision'])} of {result['alerts']:,} alerts (target ≥ 90%) · "
        f"burden {_pct(result['burden'])}: {b['flagged']:,} of {b['legitimate']:,} legitimate "
        f"movements flagged or sent to yellow/red (target ≤ 1%)",
        highlight=False,
    )
    rules = Table("rule", "alerts", "tied to a scheme", "precision", title="per rule")
    for rule, r in result["per_rule"].items():
        rules.add_row(rule, str(r["alerts"]), str(r["tied"]), _pct(r["precision"]))
    out.print(rules)

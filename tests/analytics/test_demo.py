from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine

from keruen.demo.job import trade_table
from tests.analytics.conftest import fill, ledger_events


def test_the_demo_takes_its_trade_figures_from_the_analytics_engine(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    fill(sqlite_engine, ledger_events())
    (tmp_path / "rates.csv").write_text("currency,date,units_per_usd\nKZT,2024-03,460\n")
    console = Console(record=True, width=200)
    console.print(trade_table(sqlite_engine, tmp_path))
    text = " ".join(console.export_text().split())  # column widths and wrapping vary
    assert "arrival │ 10,000 │ RU 100%" in text  # 4,600,000 KZT at 460 per USD
    assert "dispatch │ 1,800 │ KG 50%, RU 50%" in text  # the cancelled dispatch left out
    caption = text
    # RU 10,000 arrived + 900 dispatched of 11,800 with EAEU partners
    assert "Russia's share of turnover with EAEU partners: 2024 92.4%" in caption
    assert (tmp_path / "export" / "manifest.json").exists()

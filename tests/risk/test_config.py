"""Typed configuration: TOML overrides, refusals that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from keruen.risk.config import RiskConfig, load
from keruen.risk.errors import BadInput


def test_defaults_and_a_toml_override(tmp_path: Path) -> None:
    path = tmp_path / "risk.toml"
    path.write_text("[lanes]\nred = 0.9\nrandom_rate = 0.01\n[watch]\neffective = 2022-03-01\n")
    cfg = load(path)
    assert cfg.lanes.red == 0.9 and cfg.lanes.random_rate == 0.01
    assert str(cfg.watch.effective) == "2022-03-01"
    assert cfg.lanes.yellow == RiskConfig().lanes.yellow


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[lanes]\nred = 2\n", "config lanes.red"),
        ("[lanes]\nredd = 0.5\n", "config lanes.redd"),
        ("[lanes\n", "not TOML"),
    ],
)
def test_a_bad_configuration_is_refused_with_its_field(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "risk.toml"
    path.write_text(text)
    with pytest.raises(BadInput, match=where.replace(".", r"\.")):
        load(path)

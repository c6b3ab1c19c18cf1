"""The calibration tables: real HS codes, complete mixes, the whole CHPL covered."""

from __future__ import annotations

from keruen import reference
from keruen.sim import tables


def test_catalogue_codes_are_real_subheadings() -> None:
    for hs, item in tables.catalog().items():
        assert hs in reference.hs_subheadings(), hs
        assert item.unit in reference.units(), item.unit
        assert 0 < item.price_lo <= item.price_hi and 0 < item.lot_lo <= item.lot_hi


def test_every_chpl_code_has_realistic_values() -> None:
    assert tables.chpl_codes() <= set(tables.catalog())
    assert len(tables.chpl_codes()) == 50


def test_mixes_and_targets_fit_together() -> None:
    mixes = tables.mixes()
    for t in tables.targets():
        assert t.mix in mixes, t
        assert t.partner in reference.countries()
    for name, pairs in mixes.items():
        assert pairs and all(share > 0 for _, share in pairs), name


def test_value_shares_hold_in_draws() -> None:
    """Items are drawn in proportion to value share / consignment value."""
    mix = tables.mix("dispatch_ru")
    draws = [mix.pick(i / 20000) for i in range(20000)]
    value = {}
    for item in draws:
        value[item.hs] = value.get(item.hs, 0.0) + item.mean_lot_value
    shares = dict((i.hs, s) for i, s in tables.mixes()["dispatch_ru"])
    total_v, total_s = sum(value.values()), sum(shares.values())
    assert abs(value["260111"] / total_v - shares["260111"] / total_s) < 0.02


def test_seasonality_sums_to_one() -> None:
    for profile, weights in tables.seasonality().items():
        assert abs(sum(weights) - 1) < 1e-9, profile

from __future__ import annotations

import ibis

from keruen.analytics.decimals import FACTOR, product, ratio, violations

T = ibis.table({"a": "decimal(38,6)", "b": "decimal(38,12)", "k": "string"}, name="t")


def test_the_policy_product_and_ratio_pass() -> None:
    e = T.group_by("k").aggregate(v=product(T.a, T.b).sum(), r=ratio(T.a.sum(), T.b.sum()))
    assert violations(e) == []


def test_an_uncast_decimal_product_is_named() -> None:
    e = T.group_by("k").aggregate(v=(T.a.cast(FACTOR) * T.a.cast(FACTOR)).sum())
    assert any("not cast to decimal(38, 6)" in v for v in violations(e))
    e = T.mutate(v=(T.a * T.a).cast("decimal(38,6)"))
    assert any("uncast operands" in v for v in violations(e))


def test_a_decimal_quotient_is_named() -> None:
    e = T.group_by("k").aggregate(r=T.a.sum() / T.a.sum())
    assert any("decimal quotient" in v for v in violations(e))

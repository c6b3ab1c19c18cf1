"""Identifiers check like the real ones and never collide (also across shards)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from keruen.jurisdiction import kz_bin_problem
from keruen.sim import ids

dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31))


@given(dates, st.integers(min_value=0, max_value=10**9), st.sampled_from([1, 2, 4, 5]))
def test_a_bin_is_valid_and_starts_with_its_registration_month(
    registered: date, serial: int, stride: int
) -> None:
    b = ids.kz_bin(registered, serial, stride)
    assert kz_bin_problem(b) is None
    assert b[:4] == f"{registered:%y%m}"
    assert int(b[6:11]) % stride == serial % stride  # a shard keeps its residue class


@given(st.sampled_from(["77", "55", "74", "02"]), st.integers(min_value=0, max_value=10**9))
def test_a_russian_inn_has_its_check_digit(region: str, serial: int) -> None:
    inn = ids.ru_inn(region, serial)
    assert len(inn) == 10 and inn.startswith(region)
    assert ids.ru_inn_valid(inn)
    wrong = inn[:9] + str((int(inn[9]) + 1) % 10)
    assert not ids.ru_inn_valid(wrong)


@given(dates, st.integers(min_value=0, max_value=10**6))
def test_a_kyrgyz_inn_embeds_the_registration_date(registered: date, serial: int) -> None:
    inn = ids.kg_inn(registered, serial)
    assert len(inn) == 14 and inn[1:9] == f"{registered:%d%m%Y}"


@given(
    st.sets(st.integers(min_value=0, max_value=2**40), min_size=2, max_size=200),
    st.integers(min_value=0, max_value=2**48),
)
def test_event_ids_never_repeat(counters: set[int], salt: int) -> None:
    made = {ids.event_id(n, salt) for n in counters}
    assert len(made) == len(counters)
    assert all(len(i) == 16 for i in made)


def test_mrn_and_seal_shapes() -> None:
    assert ids.mrn(2022, "55601", 17) == "22KZ55601T00000017"
    assert len(ids.mrn(2022, "55601", 17)) == 18
    assert ids.seal(5) == "ENP000000005"

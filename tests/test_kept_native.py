"""The quick yes for the kept EPCIS event (keruen/model/_kept.c) is never wrong: whatever it
says True to, the Python check (decode, encode with sorted keys, compare) says True to as well,
on JSON written every way (sorted or not, spaced or not, escapes, non-ASCII text, numbers,
nulls, duplicate keys, deep nesting, truncation); and it does say True to the canonical form
of a tree of text, whole numbers, lists, objects and flags, as the bridge writes it."""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keruen.model import strict

KEPT = strict._KEPT
ON_CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(
    KEPT is None and not ON_CI, reason="keruen.model._kept was not built (no compiler)"
)

_sorted = msgspec.json.Encoder(order="sorted")


def _python_says(raw: bytes) -> bool:
    try:
        return strict._kept_encoder.encode(strict._kept_decoder.decode(raw)) == raw
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False


def test_the_kept_check_is_built_on_ci() -> None:
    assert KEPT is not None, "keruen.model._kept did not import: the C extension was not built"


keys = st.one_of(st.sampled_from(["a", "b", "B", "_", "ab", "{x}y", "", "é", "a\\"]), st.text())
leaf = st.one_of(
    st.text(), st.sampled_from(["x", "/", "\x7f", "\n", '"', "\\", "ü"]), st.booleans(),
    st.none(), st.integers(), st.floats(allow_nan=False), st.sampled_from([0, -1, 10**18, 2**63]),
)  # fmt: skip
trees = st.recursive(
    leaf,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(keys, kids, max_size=3)),
    max_leaves=12,
)


def _writings(value: Any) -> list[bytes]:
    text = json.dumps(value, ensure_ascii=False)
    return [
        _sorted.encode(value),
        msgspec.json.encode(value),
        text.encode(),
        json.dumps(value, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(),
        text.replace(":", ": ", 1).encode(),
    ]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, st.integers(0, 40))
def test_a_quick_yes_is_always_the_pythons_yes(value: Any, cut: int) -> None:
    assert KEPT is not None
    for raw in _writings(value):
        for text in (raw, raw[: len(raw) - cut], raw.replace(b"}", b',"a":"x"}', 1)):
            if KEPT.canonical(text):
                assert _python_says(text), text


texts = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
plain_trees = st.recursive(
    st.one_of(texts, st.booleans(), st.integers(-(10**18) + 1, 10**18 - 1)),
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(texts, kids, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(plain_trees)
def test_the_bridges_kept_events_get_the_quick_yes(value: Any) -> None:
    assert KEPT is not None
    raw = _sorted.encode(value)
    assert KEPT.canonical(raw) == (b"\\" not in raw)  # (a quote or backslash is escaped)


def test_deep_nesting_is_left_to_python() -> None:
    assert KEPT is not None
    deep = b"[" * 100 + b"]" * 100
    assert not KEPT.canonical(deep) and _python_says(deep)
    assert KEPT.canonical(b"[" * 60 + b"]" * 60)

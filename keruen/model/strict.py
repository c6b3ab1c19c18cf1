"""Strict twins of the contract structs: the same fields, unknown fields refused.

A line that decodes into its strict twin carries no field beyond the contract and no explicit
`null` (a twin's optional field takes its value or is left out), so its canonical form is the
typed event alone (no merge with the raw JSON object): the parse's fast
path (`keruen.model.validate.parse_many`). Twins subclass their contract struct (`isinstance`
holds) and never leave the parse: it hands back canonical bytes, which are decoded again into
the contract's own types. Generated from `keruen.model.events`, so they cannot drift.

One field beyond the contract is let through: `epcis`, the EPCIS event the bridge keeps with
each line it maps (`keruen.epcis.mapping`), as the line's own bytes (`msgspec.Raw`). The parse
takes the line's fast path only when those bytes are already the field's canonical form
(`kept_is_canonical`); the bridge writes them so.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Union

import msgspec

from keruen.model import events as ev

_TWINS: dict[type, type] = {}


KEPT = "epcis"  # the field beyond the contract an event type's twin carries as raw bytes


def twin(cls: type[msgspec.Struct], kept: bool = False) -> type[msgspec.Struct]:
    """`cls` refusing unknown fields, its struct fields' types twinned too (with `kept`,
    an event type's: the optional raw field `epcis` too)."""
    if cls in _TWINS:
        return _TWINS[cls]
    fields: list[tuple[str, Any, Any]] = []
    if kept:
        fields.append((KEPT, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
    for f in msgspec.structs.fields(cls):
        default: Any = msgspec.field(name=f.encode_name) if f.encode_name != f.name else None
        if f.required:
            fields.append((f.name, _twinned(f.type), default or msgspec.NODEFAULT))
        else:
            value = f.default if f.default is not msgspec.NODEFAULT else f.default_factory()
            kept = msgspec.field(default=value, name=f.encode_name)
            fields.append((f.name, _twinned(_not_null(f.type) if value is None else f.type), kept))
    config = cls.__struct_config__
    strict: type[msgspec.Struct] = msgspec.defstruct(
        f"Strict{cls.__name__}",
        [(n, t, d) if d is not msgspec.NODEFAULT else (n, t) for n, t, d in fields],
        bases=(cls,),
        kw_only=True,
        omit_defaults=True,
        forbid_unknown_fields=True,
        tag_field=config.tag_field,
        tag=config.tag,
        module=__name__,
    )
    _TWINS[cls] = strict
    return strict


def _not_null(tp: Any) -> Any:
    """An optional field's type without None: its twin refuses an explicit `null`, which the
    full parse keeps in the canonical form (a field left out is None all the same)."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        kept = [a for a in typing.get_args(tp) if a is not type(None)]
        return kept[0] if len(kept) == 1 else _UNION[tuple(kept)]
    return tp


# typing's forms, subscripted at run time with types built here
_ANNOTATED: Any = Annotated
_LIST: Any = list
_UNION: Any = Union


def _twinned(tp: Any) -> Any:
    """A field's type with every contract struct in it replaced by its twin."""
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return twin(tp)
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *meta = typing.get_args(tp)
        return _ANNOTATED[(_twinned(base), *meta)]
    if origin is list:
        return _LIST[_twinned(typing.get_args(tp)[0])]
    if origin in (Union, types.UnionType):
        return _UNION[tuple(_twinned(a) for a in typing.get_args(tp))]
    return tp


STRICT_TYPES: dict[type, type] = {cls: twin(cls, kept=True) for cls in ev.EVENT_TYPES.values()}
_strict = msgspec.json.Decoder(_UNION[tuple(STRICT_TYPES.values())])


def decode(line: bytes) -> ev.Event | None:
    """The line as its strict twin, or None when it is not one (unknown fields, a `null`, or
    anything the full parse must look at: it then gives the reason). A value nested deeper
    than the decoder recurses (skipped in an unknown field or read as the kept `epcis`) is
    such a line too: the full parse refuses it for its depth before decoding it."""
    try:
        event: ev.Event = _strict.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return event


def _load_kept() -> Any:
    """keruen/model/_kept.c: True only where the check below would say True (text of
    printable ASCII, sorted keys, no numbers or nulls); None where it was not built."""
    try:
        from keruen.model import _kept
    except ImportError:
        return None
    return _kept


_KEPT = _load_kept()
_kept_decoder = msgspec.json.Decoder(float_hook=Decimal)  # as the full parse reads the field
_kept_encoder = msgspec.json.Encoder(order="sorted")  # as the full parse writes it


def kept_is_canonical(event: msgspec.Struct) -> bool:
    """Whether the event's raw `epcis` field (if any) is written as the full parse would
    write it (keys sorted at every level, no space, no float: those it writes as text), so
    that the line's canonical form is the typed event with those bytes as they are."""
    raw = getattr(event, KEPT, msgspec.UNSET)
    if raw is msgspec.UNSET:
        return True
    if _KEPT is not None and _KEPT.canonical(raw):  # (the bridge's lines: a quick yes)
        return True
    text = bytes(raw)
    try:
        return _kept_encoder.encode(_kept_decoder.decode(text)) == text
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False


def normalise(event: msgspec.Struct) -> bool:
    """Write `event`'s decimals and times the canonical way, in place, so that encoding it
    with sorted keys gives its canonical form (as `validate._canonical` writes it): a decimal
    in its shortest plain notation, a time in UTC. False when one has no plain `str` (a very
    small decimal prints with an exponent): the full parse writes that one."""
    for name in _VISIT[type(event)]:
        value = getattr(event, name)
        kind = type(value)
        if kind is Decimal:
            plain = _plain(value)
            if plain is None:
                return False
            if plain is not value:
                setattr(event, name, plain)
        elif kind is datetime:
            setattr(event, name, value.astimezone(UTC))
        elif kind is list:
            for item in value:
                if isinstance(item, msgspec.Struct):
                    if not normalise(item):
                        return False
                elif type(item) is Decimal or type(item) is datetime:
                    return False
        elif value is not None and not normalise(value):
            return False
    return True


def _plain(q: Decimal) -> Decimal | None:
    """`q` as the decimal whose `str` is its shortest plain notation, or None."""
    # Most are written so already: no exponent, no trailing zero, not zero, and fewer digits
    # than the context's precision (28), to which `normalize` rounds.
    text = str(q)
    last = text[-1]
    if (
        len(text) <= 28
        and "E" not in text
        and ("1" <= last <= "9" or (last == "0" and "." not in text and q))
    ):
        return q
    if q == 0:
        return _ZERO
    n = q.normalize()
    if n.as_tuple().exponent > 0:  # type: ignore[operator]
        n = n.quantize(_ONE)  # 1E+3 -> 1000
    return None if n.adjusted() < -6 or "E" in str(n) else n


_ZERO, _ONE = Decimal(0), Decimal(1)


def _visited(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of `cls` that may hold a decimal, a time, a list or a struct with such a
    field (the rest, a party, goods or a document among them, are text, numbers and booleans
    the encoder writes as they are)."""
    return tuple(
        f.name for f in msgspec.structs.fields(cls) if any(_walked(a) for a in _leaves(f.type))
    )


def _walked(tp: Any) -> bool:
    if not isinstance(tp, type):
        return False
    if issubclass(tp, msgspec.Struct):
        return bool(_visited(tp))
    return issubclass(tp, Decimal | datetime | list)


def _leaves(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _leaves(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [leaf for a in typing.get_args(tp) for leaf in _leaves(a)]
    if origin is list:
        return [list]
    return [tp]


_VISIT: dict[type, tuple[str, ...]] = {strict: _visited(strict) for strict in _TWINS.values()}

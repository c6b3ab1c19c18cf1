"""The CBV 2.0 pre-hash in C (keruen/epcis/_hash.c); see keruen.epcis.hashing."""

from collections.abc import Callable
from typing import Any

def configure(
    canonical_value: Callable[[str], str],
    canonical_time: Callable[[str], str],
    text: Callable[[Any], str],
    /,
) -> None: ...
def prehash(event: dict[str, Any], /) -> str | None: ...

"""The detectors: one module each, pure functions from a run's `Context` to alerts.

`DETECTORS` is the registry the engine runs, in this order; each module's docstring says what
its rule means, and its `RULES` name the codes it raises (a test keeps them unique).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from keruen.risk.context import Context
from keruen.risk.detectors import (
    chpl,
    ghost,
    layering,
    newco,
    origin,
    phantom,
    reexport,
    sanctions,
    transit,
    unitvalue,
)
from keruen.risk.model import Alert

Detector = Callable[[Context], Iterable[Alert]]

MODULES = (chpl, sanctions, reexport, origin, transit, phantom, newco, unitvalue, layering, ghost)
DETECTORS: dict[str, Detector] = {m.__name__.rsplit(".", 1)[1]: m.detect for m in MODULES}
RULES: dict[str, str] = {code: doc for m in MODULES for code, doc in m.RULES.items()}

"""Transit monitoring (SPEC C2): movements, seals, corridors, exits — and their findings.

The pure core (no I/O): `geo` (great-circle geometry in km), `corridor` (entry post ->
declared waypoints -> exit post, with a width and a detour limit), `watch` + `movement`
(one MRN's state machine and findings), `tracker` (routes events and seal pings),
`model` (`Config`, `Finding`, the finding kinds and EAEU seal codes), `explain`, `mapview`.
At the edges: `service` (replays the ledger's transit events; what the CLI, the API and
the risk engine call), `bindings` + `tables` (the seal-binding index), `resume` (the tracker
kept between runs, so a replay reads only what is new), `cli`.

```
from keruen.transit import service
with engine.connect() as conn:
    service.findings(conn, now)          # [Finding(mrn, kind, time_us, severity, facts, ...)]
    service.overview(conn, now)          # movements with their state, and findings: one replay
    service.movement(conn, "24KZ...")    # one movement: state, timeline, corridor, findings
service.refresh(engine)                  # index new seal bindings, bring the saved tracker up
```
"""

from __future__ import annotations

from keruen.transit.model import KINDS, SEAL_CODES, Config, Entry, Finding
from keruen.transit.movement import Movement
from keruen.transit.tracker import Tracker

__all__ = ["KINDS", "SEAL_CODES", "Config", "Entry", "Finding", "Movement", "Tracker"]

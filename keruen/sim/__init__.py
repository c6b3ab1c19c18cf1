"""The synthetic Kazakhstan economy (SPEC C8): `keruen simulate` and a Python API for tests.

- `Scenario`: hand-built, targeted event lists (a CHPL batch through three shells to a
  Russian buyer, a transit that exits toward Russia, ...) with their ground truth.
- `Simulation` / `write_all`: a whole preset (small, year, national) as a stream of events,
  with truth.jsonl, bait.jsonl and world.json.
- `PLANTS` / `BAITS`: the scheme and bait kinds, each a process with its parameters.

Reference: docs/sim.md.
"""

from keruen.sim.bait import BAITS
from keruen.sim.presets import PRESETS, Preset
from keruen.sim.run import write_all
from keruen.sim.scenario import Scenario
from keruen.sim.schemes import PLANTS
from keruen.sim.simulation import Outcome, Simulation
from keruen.sim.truth import Record

__all__ = [
    "BAITS",
    "PLANTS",
    "PRESETS",
    "Outcome",
    "Preset",
    "Record",
    "Scenario",
    "Simulation",
    "write_all",
]

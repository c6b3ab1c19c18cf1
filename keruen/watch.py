"""Who the goods must not reach, in one place: the watched destinations (the sanctioned
states goods are traced towards), the principal one (whose border raises the highest
severity), and the conduit states goods are re-routed through.

Transit monitoring, the CHPL goods list and the risk configuration's defaults all read these;
`keruen.risk.config` lets a deployment override the detectors' copy in its TOML file.
"""

from __future__ import annotations

WATCHED_DESTINATIONS = frozenset({"RU", "BY"})
PRINCIPAL = "RU"  # the watched destination with a land border to the home country
CONDUITS = frozenset({"KG", "AM"})  # union partners goods are re-routed through

assert PRINCIPAL in WATCHED_DESTINATIONS

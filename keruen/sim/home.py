"""The country the simulator models: Kazakhstan, its economy, partners and border posts.

The engine takes its home country from configuration (`keruen.jurisdiction`); the simulator's
calibration (trade targets, names, routes) is Kazakhstan's, so the ledgers it writes are
Kazakh ledgers, ingested under `KERUEN_JURISDICTION=KZ`.
"""

from __future__ import annotations

from keruen import jurisdiction
from keruen.reference import Post

HOME = jurisdiction.get("KZ")


def posts() -> dict[str, Post]:
    """Kazakhstan's border posts, by code."""
    return HOME.posts

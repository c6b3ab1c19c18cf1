"""Where the external EPCIS material is: `$KERUEN_EPCIS_CONFORMANCE`, or `../shared` beside
the checkout (the main checkout, a helper's worktree and CI's clean clone alike).

Missing material skips these tests on a workstation and fails them on CI (`CI=true`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def conformance_path() -> Path | None:
    env = os.environ.get("KERUEN_EPCIS_CONFORMANCE")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "conformance" / "epcis" for p in (ROOT.parent, ROOT)]
    return next((c for c in candidates if (c / "event-hash-oracle").is_dir()), None)


@pytest.fixture(scope="session")
def conformance() -> Path:
    found = conformance_path()
    if found is None:
        message = "EPCIS conformance material not found (../shared/conformance/epcis)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found

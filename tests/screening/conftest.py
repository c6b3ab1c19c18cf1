"""Where the shared material lives: `../shared` beside the checkout (in /work/main, in a
worktree, and in CI's clean clone alike). Missing under CI is a failure, not a skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
SHARED = CHECKOUT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if (SHARED / "conformance" / "names").is_dir() and (SHARED / "data").is_dir():
        return SHARED
    if os.environ.get("CI") == "true":
        pytest.fail(f"{SHARED}: the shared folder is missing beside the checkout")
    pytest.skip(f"{SHARED}: no shared folder beside the checkout")

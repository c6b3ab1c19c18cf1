"""Generated docs are checked so they cannot drift from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parent.parent / "docs"


def test_cli_reference_is_generated_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "keruen.cli",
            "utils",
            "docs",
            "--name",
            "keruen",
            "--title",
            "Keruen CLI reference",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == out.read_text(encoding="utf-8"), (
        "docs/cli.md drifted: run scripts/docs.sh"
    )

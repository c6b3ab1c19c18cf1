"""The README's tour, run as written on `keruen simulate` output: every command exits 0, the
holder has stock, the batch and MRN exist, precheck answers without `--at`."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keruen.cli import app
from keruen.settings import get_settings

ROOT = Path(__file__).parent.parent.parent


def tour() -> list[list[str]]:
    """The tour's `keruen` commands (each `&&` part apart) and its `export NAME=VALUE` lines,
    without the shell's comments."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## A tour", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        code = line.split("  # ", 1)[0]
        for part in code.split("&&"):
            words = shlex.split(part)
            if words and words[0] in ("keruen", "export"):
                commands.append(words[1:] if words[0] == "keruen" else words)
    return commands


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """The tour sets `KERUEN_*` variables; settings are read once per process."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_the_readme_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the tour loads the shipped list by its path in the checkout
    monkeypatch.setenv("KERUEN_DB", str(tmp_path / "default.db"))
    runner = CliRunner()
    outputs = {}
    for words in tour():
        if words[0] == "export" and "=" in words[1]:
            monkeypatch.setenv(*words[1].split("=", 1))
            get_settings.cache_clear()
            continue
        if words[0] == "serve":
            continue  # a server runs until stopped; tests/api covers it
        args = [w.replace("/tmp/", f"{tmp_path}/") for w in words]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (words, result.output)
        outputs[words[0]] = result.output
    assert json.loads(outputs["stock"]), "the tour's holder holds nothing"
    assert "lane" in outputs["precheck"]
    assert (tmp_path / "map.html").stat().st_size > 0
    assert (tmp_path / "report" / "index.html").stat().st_size > 0

"""The ledger's physical schema is `keruen.store`'s business: everyone else reads the port.

No module outside `keruen/store/` imports the ledger's tables (area `tables.py` modules may
take the shared `metadata` and `Id` column type to define their own tables) or touches the
stored `canonical` JSON; the write path (`keruen.model` makes the canonical form,
`keruen.ledger` and `keruen.ingest` carry it to the store) is the only other place it occurs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import keruen

ROOT = Path(keruen.__file__).parent
SHARED = {"metadata", "Id"}
WRITE_PATH = ("store/", "model/", "ledger/", "ingest.py", "split.py")  # split: the ingest too


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path)))
        for path in sorted(ROOT.rglob("*.py"))
    ]


def _schema_imports(rel: str, tree: ast.Module) -> list[str]:
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.startswith("keruen.store.schema")]
        elif isinstance(node, ast.ImportFrom) and node.module == "keruen.store":
            bad += [f"keruen.store.{a.name}" for a in node.names if a.name == "schema"]
        elif isinstance(node, ast.ImportFrom) and node.module == "keruen.store.schema":
            names = {a.name for a in node.names}
            if not (rel.endswith("tables.py") and names <= SHARED):
                bad.append(f"keruen.store.schema: {sorted(names)}")
    return bad


def _canonical_uses(tree: ast.Module) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr == "canonical")
        or (isinstance(node, ast.Constant) and node.value == "canonical")
    ]


def test_only_the_store_imports_the_ledger_tables() -> None:
    found = {
        rel: bad
        for rel, tree in _modules()
        if not rel.startswith("store/") and (bad := _schema_imports(rel, tree))
    }
    assert found == {}, "read the ledger through keruen.store.port.LedgerReader"


def test_only_the_store_and_the_write_path_touch_the_stored_json() -> None:
    found = {
        rel: lines
        for rel, tree in _modules()
        if not rel.startswith(WRITE_PATH) and (lines := _canonical_uses(tree))
    }
    assert found == {}, "typed events come from keruen.store.port (decoded in keruen.store.codec)"


def test_the_checks_see_a_violation() -> None:
    tree = ast.parse("from keruen.store import schema as t\nx = row.canonical\n")
    assert _schema_imports("risk/store.py", tree) == ["keruen.store.schema"]
    assert _canonical_uses(tree) == [2]
    shared = ast.parse("from keruen.store.schema import metadata\n")
    assert _schema_imports("risk/tables.py", shared) == []
    assert _schema_imports("risk/store.py", shared) != []


def _imported(tree: ast.Module) -> set[str]:
    """Every module a module imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


# Tooling (benchmarks, their synthetic generators, the demo) is not the product: it lives in
# keruen/bench and keruen/demo, and only they and the root CLI that mounts them may use it or
# the simulator. `keruen.cli` is the one place that knows every area.
TOOLING = ("bench/", "demo/")
MAY_SIMULATE = ("sim/", *TOOLING, "cli.py")


def _uses(prefixes: tuple[str, ...], allowed: tuple[str, ...]) -> dict[str, list[str]]:
    found = {
        rel: sorted(m for m in _imported(tree) if m.startswith(prefixes))
        for rel, tree in _modules()
        if not rel.startswith(allowed)
    }
    return {rel: mods for rel, mods in found.items() if mods}


def test_detection_does_not_depend_on_the_simulator() -> None:
    """Benchmarks that need a simulated ledger live in keruen.bench, not in the domain: risk,
    transit, screening, the store, the API and every other area run without the simulator."""
    assert _uses(("keruen.sim",), MAY_SIMULATE) == {}


def test_the_domain_does_not_depend_on_tooling() -> None:
    assert _uses(("keruen.bench", "keruen.demo"), (*TOOLING, "cli.py")) == {}


def test_no_tooling_module_inside_a_domain_package() -> None:
    """A benchmark, a generator for one, or a demo inside an area: move it to keruen/bench or
    keruen/demo (the names are how such modules have been called here)."""
    found = [
        rel
        for rel, _ in _modules()
        if not rel.startswith(TOOLING) and Path(rel).stem.startswith(("bench", "demo", "synth"))
    ]
    assert found == []


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _tests_paths(tree: ast.Module) -> list[int]:
    """Lines with a string (not a docstring) naming a `tests` folder: the installed package has
    none (a wheel ships keruen/ alone), so reading one breaks outside the checkout."""
    docs = _docstrings(tree)
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and re.search(r"(^|[/\\])tests([/\\]|$)", node.value)
    ]


def test_nothing_in_the_package_reads_the_repository_tests() -> None:
    found = {rel: lines for rel, tree in _modules() if (lines := _tests_paths(tree))}
    assert found == {}


def test_the_tooling_checks_see_a_violation() -> None:
    tree = ast.parse(
        '"""Reads tests/data in its docstring: allowed."""\n'
        "from keruen.sim.run import write_all\n"
        "def f():\n"
        "    from keruen.bench import detect\n"
        "    return Path('tests') / 'screening', 'x/tests/y.csv'\n"
    )
    assert _imported(tree) == {"keruen.sim.run", "keruen.bench"}
    assert _tests_paths(tree) == [5, 5]


# Lazy imports count: a cycle hidden in a function still ties two modules together.
# Known and left: screening.loaders dispatches OFAC's XML to screening.ofac_xml, which reads
# the CSV loader's helpers.
KNOWN_CYCLES = {("keruen.screening.loaders", "keruen.screening.ofac_xml")}


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found & modules


def _mutual_imports() -> set[tuple[str, str]]:
    named = {
        "keruen." + rel.removesuffix(".py").replace("/", "."): tree for rel, tree in _modules()
    }
    named = {k.removesuffix(".__init__"): v for k, v in named.items()}
    graph = {m: _imports(tree, set(named)) - {m} for m, tree in named.items()}
    return {
        (a, b)
        for a in graph
        for b in graph[a]
        if a < b and a in graph[b] and not any(m == "keruen" for m in (a, b))
    }


def test_no_two_modules_import_each_other() -> None:
    """A module pair that imports each other cannot be read, tested or moved apart (the
    simulator's run and parallel modules did, until the simulation got its own module)."""
    assert _mutual_imports() == KNOWN_CYCLES

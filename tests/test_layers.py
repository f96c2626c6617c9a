"""The map of docs/ARCHITECTURE.md, held: no import cycles, and no module importing from a layer above it.

Read from the source with ``ast`` (imports inside functions count; those under ``if TYPE_CHECKING``
do not, since they never run), so a violation fails here before it becomes a tangle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "trimtab"

#: Each part and the parts it may import (beside itself, ``errors``, ``lazy`` and ``extras``).
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "parsing": {"core"},
    "data": {"core"},
    "venues": {"core", "data"},
    "journal": {"core"},
    "config": {"core", "config_template", "venues", "engine"},  # the typed config names engine settings
    "config_template": {"core", "config"},
    "backtest": {"core", "data"},
    "engine": {"core", "venues", "journal"},
    "monitor": {"core", "venues", "journal", "engine", "config", "backtest", "data"},
    "demo": {"core", "venues", "journal", "engine", "config", "backtest", "data", "monitor"},
    "paper_setup": {"core", "venues", "config", "config_template", "parsing", "wiring", "data"},
    "wiring": {"core", "venues", "journal", "engine", "config", "monitor", "parsing", "data"},
    # many portfolios, each built by the composition root as every entry point builds one
    "fleet": {"core", "venues", "journal", "engine", "config", "wiring"},
}
#: Known, deliberate exceptions, each with its reason.
ALLOWED = {
    # ``trimtab.backtest(targets, ...)`` is callable (the package's module class forwards the call to
    # the Python API); the import happens only when it is called.
    ("trimtab.backtest", "trimtab.api"),
}
FREE = {"errors", "lazy", "extras"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("trimtab", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(sub) for sub in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trimtab"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("trimtab"))
    return {m for m in found if m in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_no_module_imports_from_a_layer_above_it():
    wrong = []
    for module, imported in _graph().items():
        part = _part(module)
        if part not in MAY_IMPORT:
            continue
        for other in imported:
            other_part = _part(other)
            if other_part in {part, *FREE, *MAY_IMPORT[part]} or (module, other) in ALLOWED:
                continue
            wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_interfaces_are_reached_only_from_the_interfaces():
    wrong = [f"{m} imports {o}" for m, imported in _graph().items() for o in imported
             if _part(o) == "interfaces" and _part(m) not in {"interfaces", "__main__"}]
    assert not wrong, "\n".join(sorted(wrong))


def test_there_are_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    cycles = [c for c in cycles if not any((a, b) in ALLOWED for a in c for b in c)]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_reader_counts_imports_in_functions_and_not_those_for_type_checking(tmp_path):
    """The checker itself: a function-local import is an edge, a TYPE_CHECKING one is not."""
    source = tmp_path / "scratch.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from trimtab.wiring import build_agent\n"
                      "def f():\n    from trimtab.interfaces.output import stdout\n    from trimtab.journal import store\n")
    assert _imports(source, _modules()) == {"trimtab.interfaces.output", "trimtab.journal.store"}

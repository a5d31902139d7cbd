"""No import circles inside ``medpipe.activities``: between modules, nor between its parts.

The graph is read from the source with ``ast`` (every ``import``, at module level, in
functions and under ``TYPE_CHECKING`` alike: a circle hidden behind a lazy import is
still a circle in the design). A *part* is a sub-package (``signing``, ``keys``, …) or a
top-level module: ``ledger.py`` importing ``signing.dsse`` while ``signing.evidence``
imports ``ledger`` is a circle between parts even though no module imports itself back.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import medpipe.activities

Graph = dict[str, set[str]]


def _modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join([package, *parts])] = (path, is_package)
    return found


def _imported(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        anchor = name if is_package else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            anchor = anchor.rpartition(".")[0]
        base = f"{anchor}.{base}" if base else anchor
    return [f"{base}.{a.name}" for a in node.names] + [base]


def import_graph(root: Path, package: str) -> Graph:
    """Module -> the modules of ``package`` it imports (names resolved to modules)."""
    modules = _modules(root, package)
    graph: Graph = {}
    for name, (path, is_package) in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _imported(node, name, is_package):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    deps.add(target)  # (a module's own parent packages are already loading)
        graph[name] = deps
    return graph


def by_part(graph: Graph, package: str) -> Graph:
    """The graph between parts: a sub-package or a module directly under ``package``."""

    def part(module: str) -> str:
        rest = module.removeprefix(package + ".")
        return rest.split(".")[0] if rest != module else module

    parts: Graph = {}
    for module, deps in graph.items():
        own = part(module)
        parts.setdefault(own, set()).update(p for d in deps if (p := part(d)) != own)
    return parts


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a path ``[a, b, …, a]``, or None when the graph has none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


ACTIVITIES = Path(medpipe.activities.__file__).resolve().parent


def test_activities_modules_import_no_circle() -> None:
    graph = import_graph(ACTIVITIES, "medpipe.activities")
    assert len(graph) > 40 and graph["medpipe.activities.deploy"], "the graph was not read"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_activities_parts_import_no_circle() -> None:
    parts = by_part(import_graph(ACTIVITIES, "medpipe.activities"), "medpipe.activities")
    assert {"signing", "keys", "storage", "context"} <= set(parts)
    assert find_cycle(parts) is None, " -> ".join(find_cycle(parts) or [])


def _plant(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))


def test_a_planted_module_circle_is_found(tmp_path: Path) -> None:
    _plant(tmp_path, {"__init__.py": "", "context.py": "from pkg.deploy import X\n",
                      "deploy.py": "from typing import TYPE_CHECKING\n"
                                   "if TYPE_CHECKING:\n    from .context import Y\n",
                      "other.py": "import pkg.context\n"})
    cycle = find_cycle(import_graph(tmp_path, "pkg"))
    assert cycle is not None and set(cycle) == {"pkg.context", "pkg.deploy"}


def test_a_planted_part_circle_is_found(tmp_path: Path) -> None:
    _plant(tmp_path, {"__init__.py": "", "signing/__init__.py": "",
                      "signing/dsse.py": "import json\n",
                      "signing/evidence.py": "from pkg.ledger import Ledger\n",
                      "ledger.py": "from pkg.signing.dsse import TrustedKeys\n"})
    graph = import_graph(tmp_path, "pkg")
    assert find_cycle(graph) is None  # no module imports itself back ...
    cycle = find_cycle(by_part(graph, "pkg"))  # ... but ledger and signing do
    assert cycle is not None and set(cycle) == {"ledger", "signing"}

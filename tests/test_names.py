"""Temporal names come from ``medpipe.contracts.names``, never from string literals.

Reads the code (AST, not regex: a call split over lines is still a call) of
every layer, benchmarks and tests, and fails on a string literal where a
workflow, activity, query, signal or update name goes, on a search attribute
key built outside ``contracts/names.py``, and on a workflow or activity of
the product registered under an implicit name (the method's name would then
be the wire name, defined nowhere).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("contracts", "workflows", "activities", "workers", "bench", "tests")
#: Layers whose registrations must carry an explicit name from contracts.
PRODUCT = ("workflows", "activities")
NAMES_MODULE = ROOT / "contracts" / "names.py"

#: Calls whose first argument is a Temporal name.
NAME_FIRST = {
    "start_workflow", "execute_workflow", "start_child_workflow", "execute_child_workflow",
    "query", "signal", "execute_update", "start_update", "start_update_with_start",
    "execute_activity", "execute_local_activity", "start_activity", "start_local_activity",
}
#: Keyword arguments that are Temporal names wherever they appear.
NAME_KEYWORDS = {"start_signal", "update_name"}
#: Registration decorators (``module.attr``) and whether they take a name.
REGISTRATIONS = {("workflow", "defn"), ("workflow", "query"), ("workflow", "signal"),
                 ("workflow", "update"), ("activity", "defn")}
SEARCH_ATTRIBUTE_FACTORIES = re.compile(r"^for_[a-z_]+$")
SEARCH_ATTRIBUTE_NAME = re.compile(r"^Medpipe[A-Z][A-Za-z]+$")


def _is_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) \
        or isinstance(node, ast.JoinedStr)


def _attr_name(func: ast.AST) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else None


def _registration(node: ast.AST) -> tuple[str, str] | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        pair = (target.value.id, target.attr)
        return pair if pair in REGISTRATIONS else None
    return None


def literal_name_sites(path: Path, product: bool) -> list[str]:
    """``path:line: what`` for each Temporal name given as a literal (or not at all)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:"
                     f"{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _attr_name(node.func)
            if name in NAME_FIRST and node.args and _is_literal(node.args[0]):
                report(node, f"{name}() with a string-literal name")
            for kw in node.keywords:
                if kw.arg in NAME_KEYWORDS and _is_literal(kw.value):
                    report(node, f"{kw.arg}= is a string literal")
            if name and SEARCH_ATTRIBUTE_FACTORIES.match(name) and path != NAMES_MODULE \
                    and node.args and _is_literal(node.args[0]):
                report(node, f"search attribute key {name}() outside contracts/names.py")
            if _registration(node) is not None:
                for kw in node.keywords:
                    if kw.arg == "name" and _is_literal(kw.value):
                        report(node, "registered under a string-literal name")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and SEARCH_ATTRIBUTE_NAME.match(node.value) and path != NAMES_MODULE:
            report(node, f"search attribute name {node.value!r} as a literal")
        if product and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for dec in node.decorator_list:
                pair = _registration(dec)
                named = isinstance(dec, ast.Call) and any(k.arg == "name" for k in dec.keywords)
                if pair is not None and not named:
                    report(dec, f"@{pair[0]}.{pair[1]} without name= (implicit wire name)")
    return found


def scan(roots: tuple[str, ...] = SCANNED) -> list[str]:
    """Every offending site under ``roots`` of the repository."""
    found: list[str] = []
    for top in roots:
        for path in sorted((ROOT / top).rglob("*.py")):
            found += literal_name_sites(path, product=top in PRODUCT)
    return found


def test_no_temporal_name_is_a_string_literal() -> None:
    found = scan()
    assert not found, "use medpipe.contracts.names:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    'await handle.query("status", result_type=X)',
    'await handle.signal(\n    "rollback-signal", request)',
    'await handle.execute_update("rollback", request)',
    'await client.start_workflow("ReleaseWorkflow", request, id="x", task_queue="q")',
    'await workflow.start_child_workflow("CanaryWorkflow", inp, id="x")',
    'await workflow.execute_activity(f"medpipe.{stage}", inp)',
    'await workflow.execute_local_activity("medpipe.ledger.append", inp)',
    'key = SearchAttributeKey.for_keyword("SomeKey")',
    'attrs["MedpipeState"]',
    '@workflow.defn(name="ReleaseWorkflow")\nclass W: ...',
    '@activity.defn(name="medpipe.ingest")\ndef f(): ...',
    'class W:\n    @workflow.signal(name="canary-settled")\n    def s(self): ...',
])
def test_a_planted_literal_is_found(tmp_path: Path, source: str) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(source + "\n")
    assert literal_name_sites(planted, product=False), source


@pytest.mark.parametrize("source", [
    "@workflow.defn\nclass W: ...",
    "class W:\n    @workflow.query\n    def status(self): ...",
    "@activity.defn\ndef ingest(): ...",
])
def test_an_implicit_name_in_the_product_is_found(tmp_path: Path, source: str) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(source + "\n")
    assert literal_name_sites(planted, product=True), source
    assert not literal_name_sites(planted, product=False)  # test-only workflows may


def test_names_from_contracts_pass(tmp_path: Path) -> None:
    planted = tmp_path / "ok.py"
    planted.write_text(
        "await handle.query(QueryName.STATUS, result_type=X)\n"
        "await workflow.execute_activity(call.activity, inp)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "@workflow.defn(name=WorkflowName.RELEASE)\nclass W: ...\n")
    assert literal_name_sites(planted, product=True) == []


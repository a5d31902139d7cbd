"""Every distribution the code imports is declared in ``pyproject.toml``.

A module that imports a package only present because something else pulled
it in works on the machine that wrote it and breaks a week later elsewhere
(``activities/signing/oms.py`` imported ``sigstore_models`` and
``google.protobuf`` through ``model-signing``). Shipped code may use the base
dependencies and the product's extras; tests and benchmarks also the
``test`` extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.depscan import (
    ROOT,
    SHIPPED,
    Declared,
    Import,
    declared,
    imports_of,
    is_local,
    owner_of,
    python_files,
)

SHIPPED_ROOTS = frozenset({"medpipe"})
#: Benchmarks are scripts: they import their siblings (``_stack``) by file name.
TOOLING_ROOTS = frozenset({"medpipe", "tests", "bench"}) | frozenset(
    p.stem for p in (ROOT / "bench").glob("*.py"))


def undeclared(files: Iterable[Path], allowed: frozenset[str],
               local_roots: frozenset[str],
               exempt: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """One line per import whose distribution is not in ``allowed``.

    ``exempt`` names (file relative to the repository, module) imports that are let through
    whatever they import: a probe's one import of a package it measures.
    """
    problems = []
    for path in files:
        for imp in imports_of(path):
            if is_local(imp.module, local_roots) or (_rel(imp), imp.module) in exempt:
                continue
            owner = owner_of(imp.module)
            where = f"{_rel(imp)}:{imp.line}"
            if owner is None:
                problems.append(f"{where} imports {imp.module}, which no installed "
                                "distribution provides")
            elif owner not in allowed:
                problems.append(f"{where} imports {imp.module} from {owner}, which "
                                "pyproject.toml does not declare")
    return problems


def _rel(imp: Import) -> str:
    try:
        return str(imp.file.relative_to(ROOT))
    except ValueError:
        return str(imp.file)


def _shipped_files() -> list[Path]:
    return list(python_files(*(ROOT / f for f in SHIPPED if f != "medpipe")) ) + \
        sorted((ROOT / "medpipe").glob("*.py"))


def test_shipped_code_imports_only_declared_distributions() -> None:
    files = _shipped_files()
    assert len(files) > 50  # the walk found the code
    problems = undeclared(files, declared().product(), SHIPPED_ROOTS)
    assert not problems, "\n".join(problems)


#: Probes that measure a package the project does not depend on, run from a separate venv
#: (their docs say how), and the one import each may make of it: (file, module).
PROBE_ONLY = frozenset({
    # spaCy and a model: measured over the rules, not adopted (docs/deid.md); the probe
    # exits with the install command when spaCy is absent
    ("bench/deid_ner_probe.py", "spacy"),
})


def test_tests_and_benchmarks_import_only_declared_distributions() -> None:
    spec = declared()
    allowed = spec.product() | spec.extras["test"]
    problems = undeclared(python_files(ROOT / "tests", ROOT / "bench"), allowed,
                          TOOLING_ROOTS, exempt=PROBE_ONLY)
    assert not problems, "\n".join(problems)


def test_the_check_catches_an_undeclared_and_an_unknown_import(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("import json\n"
                       "import hypothesis  # installed (test extra), not a product dependency\n"
                       "from medpipe.contracts import errors\n"
                       "def f():\n"
                       "    import no_such_module_anywhere\n")
    problems = undeclared([planted], declared().product(), SHIPPED_ROOTS)
    assert len(problems) == 2, problems
    assert "hypothesis from hypothesis, which pyproject.toml does not declare" in problems[0]
    assert "planted.py:5 imports no_such_module_anywhere" in problems[1]
    # an exemption lets that one (file, module) through, not the file's other imports
    exempt = frozenset({(str(planted), "hypothesis")})
    problems = undeclared([planted], declared().product(), SHIPPED_ROOTS, exempt=exempt)
    assert len(problems) == 1 and "no_such_module_anywhere" in problems[0], problems


def test_a_namespace_package_maps_to_the_right_distribution() -> None:
    """``google`` belongs to several distributions; the longest prefix decides."""
    assert owner_of("google.protobuf.json_format") == "protobuf"
    assert owner_of("google.cloud.storage") == "google-cloud-storage"
    assert owner_of("yaml") == "pyyaml"


def test_extras_are_read_without_following_self_references() -> None:
    spec: Declared = declared()
    assert "boto3" in spec.extras["aws"]
    assert "medpipe" not in spec.extras["all"]
    assert "temporalio" in spec.base

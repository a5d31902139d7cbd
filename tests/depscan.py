"""Which distribution provides each import of the code, read from the installed files.

``tests/test_dependencies.py`` uses this to check that every third-party
import of the shipped code is declared in ``pyproject.toml``. Modules are
mapped to distributions through each distribution's RECORD (its file list),
never by importing them: importing great-expectations alone takes seconds,
and a namespace package such as ``google`` belongs to many distributions
(``google.protobuf`` to protobuf, ``google.cloud.storage`` to
google-cloud-storage), so the mapping goes by the longest dotted prefix.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
#: The folders that ship in the wheel (as ``medpipe.<folder>``), plus the package itself.
SHIPPED = ("contracts", "workflows", "activities", "workers", "medpipe")
#: Extras that are not part of the product (the test tooling).
TOOLING_EXTRAS = frozenset({"test"})
_SUFFIX = re.compile(r"(\.cpython-[^.]+|\.abi3)?\.(py|so|pyd)$")


@dataclass(frozen=True)
class Import:
    """One ``import`` statement: where it is and the module it names."""

    file: Path
    line: int
    module: str


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imports_of(path: Path) -> Iterator[Import]:
    """Absolute imports in one file (relative imports are the package's own)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from google.cloud import storage`` names google.cloud.storage (or a name
            # inside google.cloud); the owner lookup takes the longest installed prefix.
            for alias in node.names:
                name = node.module if alias.name == "*" else f"{node.module}.{alias.name}"
                yield Import(path, node.lineno, name)


def python_files(*folders: Path) -> Iterator[Path]:
    """Every ``.py`` file under ``folders``, following no symlink twice."""
    for folder in folders:
        if folder.is_file():
            yield folder
            continue
        for path in sorted(folder.rglob("*.py")):
            if not any(part.startswith(".") for part in path.relative_to(folder).parts):
                yield path


@cache
def module_owners() -> dict[str, str]:
    """Dotted module name → normalized name of the distribution that installed it."""
    owners: dict[str, str] = {}
    for dist in metadata.distributions():
        name = normalize(dist.metadata["Name"] or "")
        for file in dist.files or ():
            text = str(file).replace("\\", "/")
            if text.startswith("..") or not _SUFFIX.search(text):
                continue
            parts = _SUFFIX.sub("", text).split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts):
                owners.setdefault(".".join(parts), name)
    return owners


def owner_of(module: str) -> str | None:
    """The distribution providing ``module`` (longest dotted prefix that one installed)."""
    owners = module_owners()
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        owner = owners.get(".".join(parts[:n]))
        if owner:
            return owner
    return None


def is_local(module: str, local_roots: frozenset[str]) -> bool:
    """Standard library, ``__future__`` or one of the repository's own packages."""
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or top == "__future__" or top in local_roots


@dataclass(frozen=True)
class Declared:
    """The distributions ``pyproject.toml`` declares, base and per extra."""

    base: frozenset[str]
    extras: dict[str, frozenset[str]]

    def extras_of(self, dist: str) -> list[str]:
        """The extras that declare ``dist`` (directly, not through another extra)."""
        return sorted(e for e, names in self.extras.items() if dist in names)

    def product(self) -> frozenset[str]:
        """Base and every extra a user may install (the test tooling excluded)."""
        names = set(self.base)
        for extra, deps in self.extras.items():
            if extra not in TOOLING_EXTRAS:
                names |= deps
        return frozenset(names)


def declared(pyproject: Path = ROOT / "pyproject.toml") -> Declared:
    """Read the base dependencies and extras (self-references such as ``medpipe[aws]``
    are followed when a set is asked for, not stored twice)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    own = normalize(project["name"])

    def names(reqs: list[str]) -> frozenset[str]:
        return frozenset(normalize(Requirement(r).name) for r in reqs
                         if normalize(Requirement(r).name) != own)

    extras = {e: names(reqs) for e, reqs in project.get("optional-dependencies", {}).items()}
    return Declared(base=names(project["dependencies"]), extras=extras)

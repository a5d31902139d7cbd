"""Every data file the package ships names its source and licence (docs/third-party-data.md).

Word lists and gazetteers come from other people's data under licences with
obligations (CC BY, CC BY-SA); a file shipped without a row in that page is one
nobody reviewed.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("activities", "contracts", "workers", "workflows")
DOC = ROOT / "docs" / "third-party-data.md"


def _shipped() -> list[str]:
    """Files under the packages that ``package-data`` installs."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["*"]
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts \
                    and any(fnmatch.fnmatch(path.name, g) for g in globs):
                found.append(path.relative_to(ROOT).as_posix())
    return sorted(found)


def _rows() -> dict[str, list[str]]:
    """The page's table: file -> its cells."""
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 5:
            rows[cells[0].strip("`")] = cells
    return rows


def test_every_shipped_data_file_has_a_provenance_row() -> None:
    shipped = _shipped()
    assert len(shipped) >= 9, shipped  # the lists the de-identifier reads are found
    missing = [f for f in shipped if f not in _rows()]
    assert not missing, f"shipped without a row in {DOC.name}: {missing}"


def test_every_row_names_a_source_and_a_licence_and_its_file_exists() -> None:
    for name, cells in _rows().items():
        assert (ROOT / name).is_file(), f"{name} is listed but not in the package"
        assert all(cells[1:4]), f"{name}: what, source and licence must all be filled"
        assert re.search(r"CC BY|MIT|public domain|own", cells[3], re.I), (name, cells[3])

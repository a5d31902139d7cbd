"""The order ``./run test`` hands modules to its pytest-xdist workers (tests/support_ci.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from tests.support_ci import SLOWEST_MODULES, slowest_first

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class _Item:
    nodeid: str


def test_every_listed_slow_module_exists() -> None:
    """A renamed module would silently lose its early place: name it here instead."""
    missing = [m for m in SLOWEST_MODULES if not (ROOT / m).is_file()]
    assert not missing, f"tests/support_ci.py lists modules that do not exist: {missing}"


def test_listed_modules_go_first_in_their_order_and_the_rest_keep_theirs() -> None:
    ids = ["tests/a.py::t1", "tests/slow2.py::t1", "tests/b.py::t1", "tests/slow1.py::t1",
           "tests/slow2.py::t2", "tests/a.py::t2", "tests/slow1.py::t2[x]"]
    items = cast(list[Any], [_Item(i) for i in ids])
    ordered = [i.nodeid for i in slowest_first(items, ("tests/slow1.py", "tests/slow2.py"))]
    assert ordered == ["tests/slow1.py::t1", "tests/slow1.py::t2[x]", "tests/slow2.py::t1",
                       "tests/slow2.py::t2", "tests/a.py::t1", "tests/b.py::t1",
                       "tests/a.py::t2"]

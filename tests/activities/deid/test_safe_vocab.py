"""The shipped safe-list vocabulary is what its build script makes from the pinned sources.

``activities/deid/safe_words.txt`` and ``safe_lower.txt`` are generated
(``tests/data/build_safe_vocab.py``) and shipped, so the scrubber reads no
package at run time. A change to their inputs (the name and place lists,
``words.NOT_NAMES``, the clinical hand list) without regenerating them, or a
hand edit, fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _shipped(name: str) -> list[str]:
    lines = (ROOT / "activities" / "deid" / name).read_text().splitlines()
    return [w for w in lines if w and not w.startswith("#")]


def test_shipped_lists_rebuild_identically() -> None:
    spec = importlib.util.spec_from_file_location("build_safe_vocab",
                                                  ROOT / "tests" / "data" / "build_safe_vocab.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    safe, lower_only = module.build()
    assert len(safe) > 50_000  # the sources were read
    assert safe == _shipped("safe_words.txt")
    assert lower_only == _shipped("safe_lower.txt")

"""The shipped given- and family-name lists (Faker's locale data; see docs/third-party-data.md).

A module of its own so that every rule can read the lists without importing
the cued-name rule (``names``), which imports the rule modules' triggers.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def dictionary() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, family names), folded and lower-case."""
    pkg = resources.files("medpipe.activities.deid")
    given = frozenset(pkg.joinpath("given_names.txt").read_text().split())
    family = frozenset(pkg.joinpath("family_names.txt").read_text().split())
    return given, family

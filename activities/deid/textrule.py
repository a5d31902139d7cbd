"""A rule module's entry in the rule table: a name, an RE2 trigger and its finder.

The general-form rule modules (``idruns``, ``dateparts``, ``cityforms``,
``namecues``) are plain functions over a folded text; this is the one shape
``rules.MODULES`` takes them in, so a new module is its ``find`` plus one
``FunctionRule`` line, not another wrapper class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Python's ``\s`` on ASCII text, for RE2 triggers (RE2's ``\s`` lacks ``\v`` and
#: ``\x1c``-``\x1f``; a trigger must select every text the Python rule can match).
WS = r"[\t-\r\x1c-\x1f ]"


@dataclass(frozen=True)
class FunctionRule:
    """A rule made of a finder function: ``find(folded)`` gives its spans."""

    name: str
    trigger: str
    find: Callable[[str], list[Span]]

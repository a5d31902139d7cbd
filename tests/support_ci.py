"""How the suite is spread over pytest-xdist workers: the slowest modules are handed out first.

``./run test`` runs two workers that each take a whole module at a time
(``--dist loadfile``: module fixtures such as the chaos stack start once). A
module that takes minutes and is handed out last runs alone while the other
worker idles, so the modules measured slowest go first (longest-first keeps
the two workers' ends close). Seconds are from a two-worker run on the shared
development machine; only the order matters. A module missing here (new or
renamed) keeps its place after these.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

#: Modules, slowest first (measured with ``--durations``; setup + call + teardown).
SLOWEST_MODULES: tuple[str, ...] = (
    "tests/workers/test_chaos_stack.py",
    "tests/workflows/test_release_evidence.py",
    "tests/workflows/test_canary_approval.py",
    "tests/workflows/test_byom_refusals.py",
    "tests/activities/deid/test_names_differential.py",
    "tests/activities/deid/test_grammar.py",
    "tests/activities/deid/test_differential.py",
)


def slowest_first(items: Iterable[pytest.Item],
                  order: tuple[str, ...] = SLOWEST_MODULES) -> list[pytest.Item]:
    """``items`` with the modules of ``order`` first, in that order; the rest after, as
    collected (a stable sort: tests keep their order within a module)."""
    rank = {module: i for i, module in enumerate(order)}
    return sorted(items, key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))

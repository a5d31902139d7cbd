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

#: Modules, slowest first: seconds (setup + call + teardown, summed over the module's tests) in
#: a two-worker run of all 1271 tests on the shared machine (load ~16 on 2 cores; inflated,
#: only the order matters). The modules after these take under a minute each there.
SLOWEST_MODULES: tuple[str, ...] = (
    "tests/workers/test_cli_conventions.py",  # 730 s: hundreds of CLI processes
    "tests/workers/test_chaos_stack.py",  # 646 s: one emulated dev stack, seven exercises
    "tests/workers/test_cli.py",  # 483 s: a dev stack up, release, canary, rollback, down
    "tests/activities/storage/test_contract.py",  # 466 s: 144 tests over four stores
    "tests/activities/pseudonymize/test_fanout.py",  # 227 s
    "tests/activities/deid/test_differential.py",  # 187 s
    "tests/workers/test_chaos_units.py",  # 185 s
    "tests/workflows/test_canary_approval.py",  # 161 s
    "tests/activities/deid/test_names_differential.py",  # 158 s
    "tests/workflows/test_canary.py",  # 155 s
    "tests/test_packaging.py",  # 147 s: ruff and mypy
    "tests/test_install.py",  # 146 s
    "tests/workflows/test_durability.py",  # 145 s
    "tests/workers/test_ledger_truncation.py",  # 126 s
    "tests/activities/test_governance.py",  # 108 s
    "tests/workers/test_cli_errors.py",  # 105 s
    "tests/workflows/test_release.py",  # 101 s
    "tests/test_compose.py",  # 98 s
    "tests/activities/keys/test_providers.py",  # 95 s
    "tests/activities/test_validate_parallel.py",  # 77 s
    "tests/workflows/test_drift.py",  # 75 s
    "tests/workflows/test_release_evidence.py",  # 48 s, one test: not last
    "tests/workflows/test_byom_refusals.py",  # one test: not last
)


def slowest_first(items: Iterable[pytest.Item],
                  order: tuple[str, ...] = SLOWEST_MODULES) -> list[pytest.Item]:
    """``items`` with the modules of ``order`` first, in that order; the rest after, as
    collected (a stable sort: tests keep their order within a module)."""
    rank = {module: i for i, module in enumerate(order)}
    return sorted(items, key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))

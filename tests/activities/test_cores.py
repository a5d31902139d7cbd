"""The core budget: concurrent data stages, and worker processes of one machine, share cores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medpipe.activities.cores import ENV, CoreBudget, default_cores


def test_stages_of_one_worker_share_its_cores() -> None:
    budget = CoreBudget(2)
    with budget.take() as first:
        assert first == 2 and budget.in_use == 2
        with budget.take() as second:
            assert second == 1  # runs in its own thread, no child processes
        assert budget.in_use == 2
    assert budget.in_use == 0
    with budget.take(1) as one, budget.take() as rest:
        assert (one, rest) == (1, 1) and budget.in_use == 2


def test_workers_of_one_machine_share_the_lock_files(tmp_path: Path) -> None:
    a, b = CoreBudget(3, tmp_path / "cores"), CoreBudget(3, tmp_path / "cores")
    with a.take(2) as got_a:
        with b.take() as got_b:
            assert (got_a, got_b) == (2, 1)
    with b.take() as got_b:
        assert got_b == 3
    a.close()
    b.close()


def test_a_killed_worker_leaves_no_core_taken(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\n"
         "from medpipe.activities.cores import CoreBudget\n"
         f"b = CoreBudget(2, Path({str(tmp_path)!r}))\n"
         "with b.take():\n    print('held', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        budget = CoreBudget(2, tmp_path)
        with budget.take() as got:
            assert got == 1
        holder.kill()
        holder.wait()
        with budget.take() as got:
            assert got == 2
        budget.close()
    finally:
        holder.kill()
        holder.wait()


def test_the_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "3")
    assert default_cores() == 3
    monkeypatch.setenv(ENV, "0")
    with pytest.raises(ValueError, match=ENV):
        default_cores()
    monkeypatch.delenv(ENV)
    assert default_cores() >= 1

"""CPU seconds of worker process groups and of the whole machine, read from ``/proc``.

The bench machine is shared: wall time alone mixes our work with other people's.
These figures say how many cores *our* workers kept busy during a run (their
CPU seconds over its wall time) and how busy the machine was with everything
else, so a poor wall-time ratio can be told apart from a busy neighbour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from _rss import group_cpu_seconds  # one reading of a group's CPU, with reaped children

_TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (every core)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)  # idle + iowait
    total = sum(parts[:8])  # guest time is already counted in user
    return (total - idle) / _TICK, total / _TICK


@dataclass
class CpuWindow:
    """CPU used between ``start()`` and ``stop()`` by some process groups and the machine."""

    pgids: list[int]
    ours: float = 0.0
    busy: float = 0.0
    total: float = 0.0

    def start(self) -> CpuWindow:
        self._ours0 = sum(group_cpu_seconds(g) for g in self.pgids)
        self._busy0, self._total0 = machine_cpu_seconds()
        return self

    def stop(self) -> CpuWindow:
        self.ours = sum(group_cpu_seconds(g) for g in self.pgids) - self._ours0
        busy, total = machine_cpu_seconds()
        self.busy, self.total = busy - self._busy0, total - self._total0
        return self

    def report(self, wall: float, cores: int) -> str:
        """One line: cores our processes kept busy, and the rest of the machine's load."""
        others = max(0.0, self.busy - self.ours)
        return (f"CPU: our workers {self.ours:.1f} CPU-s in {wall:.1f} s = "
                f"{self.ours / wall:.2f} of {cores} cores busy "
                f"({self.ours / (wall * cores):.0%}); everything else on the machine "
                f"{others / wall:.2f} cores")

"""Faults a chaos exercise asks a worker to simulate (non-production fleets only).

The GPU-loss exercise flips a flag file under ``$MEDPIPE_HOME/chaos/``; while
it exists, GPU-placed steps on this host refuse their accelerator exactly as
a host whose CUDA provider vanished does (``AcceleratorUnavailable``), so the
workflow's real failover path runs. The flag only ever makes a worker refuse
work, never accept work it could not do.
"""

from __future__ import annotations

import os
from pathlib import Path

ACCELERATOR_OFF = "accelerator-off"


def flags_dir(home: str | Path | None = None) -> Path:
    """Directory of the chaos flags of the stack under ``home`` (default ``$MEDPIPE_HOME``)."""
    return Path(home or os.environ.get("MEDPIPE_HOME", ".medpipe")).resolve() / "chaos"


def accelerator_refused(home: str | Path | None = None) -> bool:
    """Whether a chaos exercise currently takes this stack's accelerators away."""
    return (flags_dir(home) / ACCELERATOR_OFF).exists()

"""Generated input files shared by the benchmarks (nothing is downloaded)."""

from __future__ import annotations

import os
from pathlib import Path


def write_model(path: Path, size: int) -> None:
    """A stand-in model file of ``size`` bytes (random, so nothing compresses or dedups it)."""
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)

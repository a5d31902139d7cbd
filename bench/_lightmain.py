"""Shared by the benchmarks that run medpipe's data stages in their own process.

The stages' process pools start their children with ``forkserver``, and a
forkserver child imports its parent's ``__main__`` module first (by path) before
it runs a task. In a worker that is the ``medpipe`` console script, which costs
nothing; in a bench it is the bench script, whose imports (Temporal's client,
every activity, pyarrow's CSV, great-expectations...) cost each pool child about
a second, billed to the stage being measured. ``light_main`` makes ``__main__``
an empty module while the stages run, so the children start like a worker's.

A function a bench hands to a pool must then live in an importable module, not
in the script itself: pickle finds it by module name, and ``__main__`` is empty.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def light_main() -> Iterator[None]:
    """While it lasts, ``__main__`` is an empty module.

    Measured in ``bench/orchestration.py``'s direct run: evaluate 2.0 -> 0.48 s,
    validate 1.9 -> 1.3 s, pseudonymize 4.2 -> 3.5 s (ratio to a release 0.685 ->
    1.087).
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main

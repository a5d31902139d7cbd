"""medpipe: a durable, secure release pipeline for healthcare AI models, on Temporal.

The distribution installs one package, ``medpipe``; the repository keeps the
layers in top-level folders (``contracts/``, ``workflows/``, ``activities/``,
``workers/``) that ``pyproject.toml`` maps to ``medpipe.contracts``, … so that
nothing generic lands in a user's site-packages. In a source checkout the
symlinks beside this file give the same names to tools that do not run the
installed import hook (mypy, ``python -m`` from the repository root).

This module stays free of imports: the workflow sandbox imports it before
``medpipe.contracts`` in every workflow run.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``medpipe.__version__``, read from the installed distribution when asked for."""
    if name == "__version__":
        from medpipe.revision import version

        return version()
    raise AttributeError(name)

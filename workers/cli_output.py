"""How every ``medpipe`` command prints: ``--output table|json``, JSON of contracts, a console
that never wraps in a pipe.

Kept apart from ``cli_render`` (the release and canary tables) so that a command
that draws no release imports neither the release contracts nor the Temporal
client.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
from pydantic import BaseModel
from rich.console import Console

T = TypeVar("T")
#: The ``--output`` formats of every command that reads state.
OUTPUT_FORMATS = ("table", "json")


def output_option(fn: Callable[..., T]) -> Callable[..., T]:
    """``--output json|table`` (and the deprecated ``--json``), passed on as ``output``.

    One option for every command that reads state, so scripts ask the same way everywhere;
    ``--json`` stays as a hidden alias of ``--output json`` for the commands that had it.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, output: str, as_json: bool, **kwargs: Any) -> T:
        return fn(*args, output="json" if as_json else output, **kwargs)

    wrapper = click.option("--json", "as_json", is_flag=True, hidden=True,
                           help="Deprecated: --output json.")(wrapper)
    return click.option("--output", "output", type=click.Choice(OUTPUT_FORMATS),
                        default="table", show_default=True,
                        help="table for people, json (the contract) for scripts.")(wrapper)


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def to_json(value: BaseModel | dict[str, Any] | Iterable[BaseModel | dict[str, Any]]) -> str:
    """A contract (or a list of them) as JSON: ``model_dump(mode="json")``, indented."""
    if isinstance(value, BaseModel | dict):
        return json.dumps(_plain(value), indent=2)
    return json.dumps([_plain(v) for v in value], indent=2)


#: Console width when stdout is not a terminal: wide enough that nothing wraps or is cut.
PIPE_WIDTH = 10_000


def make_console() -> Console:
    """A console sized by the terminal, or, when stdout is a pipe or a file, one that never wraps
    or truncates (tables at full width, URLs on one line) so scripts read whole values."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=PIPE_WIDTH, soft_wrap=True)


__all__ = ["OUTPUT_FORMATS", "PIPE_WIDTH", "make_console", "output_option", "to_json"]

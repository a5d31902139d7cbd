"""How every ``medpipe`` subcommand reports a refusal: one line, exit code 2, no traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from medpipe.contracts.errors import MedpipeError

T = TypeVar("T")


def clear_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Print domain errors as one line on stderr and exit 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except MedpipeError as e:
            click.echo(f"error: {e.message}", err=True)
            sys.exit(2)

    return wrapper

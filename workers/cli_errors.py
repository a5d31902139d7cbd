"""How every ``medpipe`` command reports a refusal: one line on stderr, an exit code, no traceback.

One way for all commands (``tests/workers/test_cli_errors.py`` checks each
command is wrapped):

- a verification that says no (signature, ledger, digest) prints
  ``REFUSED: …`` and exits 1;
- any other domain error, and a request Temporal refuses, print ``error: …``
  and exit 2;
- an SDK from an optional extra that is not installed prints which extra to
  install (``install medpipe[sign]``) and exits 2.

``fail`` is for refusals a command decides itself (bad option combinations).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click
from temporalio.service import RPCError

from medpipe.contracts.errors import IntegrityError, LedgerTampered, MedpipeError, SignatureInvalid
from medpipe.workers.extras import extra_for, install_hint

T = TypeVar("T")
#: Attribute set on every wrapped command callback (tests check every command has it).
MARKER = "__medpipe_clear_errors__"
#: Exit status of a verification that refused; 2 is every other refusal.
EXIT_REFUSED = 1
EXIT_ERROR = 2


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    click.echo(f"{click.style('error:', fg='red')} {message}", err=True)
    sys.exit(code)


def _missing_module(e: ModuleNotFoundError) -> NoReturn:
    name = e.name or "?"
    extra = extra_for(name)
    if extra:
        fail(f"this command needs {name}, from the optional dependencies of "
             f"medpipe[{extra}]: {install_hint([extra])}")
    fail(f"the Python module {name} is missing from this installation: reinstall medpipe")


def report(e: BaseException) -> NoReturn:
    """Print ``e`` the medpipe way and exit; re-raise what is not a refusal."""
    if isinstance(e, SignatureInvalid | LedgerTampered | IntegrityError):
        click.echo(f"{click.style('REFUSED:', fg='red')} {e.message}", err=True)
        sys.exit(EXIT_REFUSED)
    if isinstance(e, MedpipeError):
        fail(e.message)
    if isinstance(e, RPCError):
        fail(f"Temporal refused the request: {e.message}")
    if isinstance(e, ModuleNotFoundError):
        _missing_module(e)
    raise e


def clear_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Wrap a command so that refusals print as one line, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (MedpipeError, RPCError, ModuleNotFoundError) as e:
            report(e)

    setattr(wrapper, MARKER, True)
    return wrapper


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, reporting refusals like ``clear_errors``."""
    try:
        return asyncio.run(coro)
    except (MedpipeError, RPCError, ModuleNotFoundError) as e:
        report(e)


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """An ``async def`` click command, run to completion with ``clear_errors``."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(fn(*args, **kwargs))

    return clear_errors(wrapper)

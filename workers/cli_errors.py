"""How every ``medpipe`` command reports a refusal: one line on stderr, an exit code, no traceback.

One way for all commands (``tests/workers/test_cli_errors.py`` checks each
command is wrapped), and one table of exit codes, here only:

- 0: the command did what it was asked;
- 1 (``EXIT_REFUSED``): a refusal or a verdict — a verification that says no
  (signature, ledger, digest: ``REFUSED: …``), residual identifiers, a failed
  gate, a request Temporal refuses, and every other domain error;
- 2 (``EXIT_USAGE``): the invocation is wrong — click's own usage errors,
  input that does not exist, does not parse or cannot work together
  (``InvalidInput``, ``InvalidModel``, ``DatasetMismatch``), an option
  combination a command refuses (``fail``), an optional extra that is not
  installed (``install medpipe[sign]``);
- 3 (``EXIT_UNREACHABLE``): infrastructure does not answer — Temporal, an
  object store or a key service (``ProviderUnavailable``,
  ``InputUnavailable``, ``KeyUnavailable``, ``Transient``, an RPC that
  ends ``UNAVAILABLE`` or ``DEADLINE_EXCEEDED``, and a query the workflow did
  not answer: ``WorkflowQueryFailedError``), so a script can retry.

``fail`` is for refusals a command decides itself (bad option combinations).

Temporal's ``RPCError`` and ``WorkflowQueryFailedError`` are recognised without
importing the SDK here: they can only exist once a command has imported it, and
commands that never talk to Temporal should not pay for its import.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from medpipe.contracts.errors import (
    DatasetMismatch,
    InputUnavailable,
    IntegrityError,
    InvalidInput,
    InvalidModel,
    KeyUnavailable,
    LedgerTampered,
    MedpipeError,
    ProviderUnavailable,
    SignatureInvalid,
    Transient,
)
from medpipe.workers.extras import extra_for, install_hint

T = TypeVar("T")
#: Attribute set on every wrapped command callback (tests check every command has it).
MARKER = "__medpipe_clear_errors__"
#: Exit status of a refusal or a negative verdict.
EXIT_REFUSED = 1
#: Exit status of a wrong invocation (click uses 2 for its own usage errors too).
EXIT_USAGE = 2
#: Kept for callers written before the table: a wrong invocation.
EXIT_ERROR = EXIT_USAGE
#: Exit status when Temporal, a store or a key service does not answer.
EXIT_UNREACHABLE = 3
_UNREACHABLE = (ProviderUnavailable, InputUnavailable, KeyUnavailable, Transient,
                ConnectionError, TimeoutError)
#: File-system errors a command reports as one line naming the path (never a traceback).
_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                FileExistsError)
_CAUGHT = (MedpipeError, ModuleNotFoundError, ConnectionError, TimeoutError, *_FILE_ERRORS)
#: ``RPCStatusCode`` names of an RPC that did not get through (retry later).
_RPC_UNREACHABLE = ("UNAVAILABLE", "DEADLINE_EXCEEDED")


def _is_rpc_error(e: BaseException) -> bool:
    """Whether ``e`` is Temporal's ``RPCError`` (never true before the SDK is imported)."""
    service = sys.modules.get("temporalio.service")
    rpc_error = getattr(service, "RPCError", None)
    return rpc_error is not None and isinstance(e, rpc_error)


def _is_query_failed(e: BaseException) -> bool:
    """Whether ``e`` is the client's ``WorkflowQueryFailedError`` (a workflow answered a
    query with an error: the answering worker could not replay it, or the handler
    raised); recognised, like ``RPCError``, without importing the SDK."""
    client = sys.modules.get("temporalio.client")
    failed = getattr(client, "WorkflowQueryFailedError", None)
    return failed is not None and isinstance(e, failed)


def _is_refusal(e: BaseException) -> bool:
    """Whether ``e`` is reported as one line (else it propagates with its traceback)."""
    return isinstance(e, _CAUGHT) or _is_rpc_error(e) or _is_query_failed(e)


def exit_code(e: BaseException) -> int:
    """The exit status of a refusal ``e`` (the table in this module's docstring)."""
    if isinstance(e, _UNREACHABLE):
        return EXIT_UNREACHABLE
    if _is_rpc_error(e):
        status = getattr(e, "status", None)
        return EXIT_UNREACHABLE if getattr(status, "name", None) in _RPC_UNREACHABLE \
            else EXIT_REFUSED
    if isinstance(e, InvalidInput | InvalidModel | DatasetMismatch | ModuleNotFoundError
                  | FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return EXIT_USAGE
    return EXIT_REFUSED


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
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
        fail(e.message, exit_code(e))
    if _is_rpc_error(e):
        fail(f"Temporal refused the request: {getattr(e, 'message', e)}", exit_code(e))
    if _is_query_failed(e):
        fail(f"the workflow did not answer the query: {e}; it may still run (the Temporal "
             f"UI shows its history)", EXIT_UNREACHABLE)
    if isinstance(e, ModuleNotFoundError):
        _missing_module(e)
    if isinstance(e, _FILE_ERRORS):
        where = f" {e.filename}" if e.filename else ""
        fail(f"cannot use{where}: {e.strerror or e}", exit_code(e))
    if isinstance(e, ConnectionError | TimeoutError):
        fail(f"a service did not answer: {e}", exit_code(e))
    raise e


def clear_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Wrap a command so that refusals print as one line, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if not _is_refusal(e):
                raise
            report(e)

    setattr(wrapper, MARKER, True)
    return wrapper


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, reporting refusals like ``clear_errors``."""
    try:
        return asyncio.run(coro)
    except Exception as e:
        if not _is_refusal(e):
            raise
        report(e)


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """An ``async def`` click command, run to completion with ``clear_errors``."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(fn(*args, **kwargs))

    return clear_errors(wrapper)

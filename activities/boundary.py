"""The activity boundary: domain errors become typed Temporal failures.

Workflows decide on failover and retries by ``ApplicationError.type``; this
is the one place where a ``MedpipeError`` (or an unexpected exception) is
turned into one, so every activity reports failures the same way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio.exceptions import ApplicationError

from medpipe.contracts.errors import ErrorType, InputUnavailable, MedpipeError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("medpipe.activities")


def to_application_error(error: BaseException) -> ApplicationError:
    """Translate an exception raised inside an activity into an ``ApplicationError``.

    Domain errors keep their type and retryability. Anything else is a bug or
    a passing fault: reported as retryable ``Transient`` with its class name
    only (its message could quote data).
    """
    if isinstance(error, ApplicationError):
        return error
    if isinstance(error, InputUnavailable):
        return ApplicationError(error.message, error.bucket_uri, type=error.error_type,
                                non_retryable=True)
    if isinstance(error, MedpipeError):
        return ApplicationError(error.message, type=error.error_type,
                                non_retryable=not error.retryable)
    return ApplicationError(f"unexpected {type(error).__name__} in activity",
                            type=ErrorType.TRANSIENT, non_retryable=False)


def translate_errors(fn: F) -> F:
    """Decorate a (sync) activity so its failures cross the boundary typed."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - the boundary translates everything
            if not isinstance(e, Exception):
                raise
            translated = to_application_error(e)
            if translated is not e and not isinstance(e, MedpipeError):
                log.exception("unexpected error in %s", fn.__name__)
            raise translated from e

    return wrapper  # type: ignore[return-value]

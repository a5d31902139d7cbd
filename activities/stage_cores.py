"""A data stage run by a worker holds one of the machine's cores while it runs.

Data stages (pseudonymize, validate, evaluate) are CPU-bound: two of them in
one core's time each run at half speed, and a stage's child processes on top
of that thrash. A worker wraps them so that each first holds a core from the
worker's ``CoreBudget`` (waiting for one, heartbeating, when every core is
busy), then runs; a stage that spreads its chunks over processes adds the
free cores to its own (``CoreBudget.take``). So the data stages running on a
machine at once never outnumber its cores, however many releases are in
flight and however many activity slots its workers have.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import CancelledError

from medpipe.activities.cores import CoreBudget
from medpipe.activities.memory import release_freed
from medpipe.activities.progress import kept_alive

F = TypeVar("F", bound=Callable[..., Any])


def give_up_if_cancelled(stage: str) -> Callable[[], None]:
    """Called while a stage waits for a core: stop waiting once the activity is cancelled
    or its worker shuts down (outside an activity, e.g. direct calls, it does nothing)."""

    def tick() -> None:
        if activity.in_activity() and (activity.is_cancelled()
                                       or activity.is_worker_shutdown()):
            raise CancelledError(f"{stage}: cancelled while waiting for a core")

    return tick


def holding_a_core(name: str, fn: F, budget: CoreBudget) -> F:
    """The activity ``fn`` (a sync ``@activity.defn``), registered as ``name``, holding a
    core of ``budget`` while it runs.

    Args:
        name: the activity's Temporal name (``contracts.names.ActivityName``).
        fn: the activity callable (a bound method of an activity class).
        budget: the worker's cores (``WorkerContext.cores``).
    """

    @functools.wraps(fn, updated=())  # not its __dict__: its activity definition
    def run(*args: Any, **kwargs: Any) -> Any:
        with contextlib.ExitStack() as held:
            with kept_alive(f"{name}: waiting for a core"):  # heartbeats while it waits
                held.enter_context(budget.hold(give_up_if_cancelled(name), tick_s=0.25))
            try:
                return fn(*args, **kwargs)
            finally:
                release_freed()  # the next stage starts from the worker's base, not this peak

    return activity.defn(name=name)(run)  # type: ignore[return-value]

"""Replay every closed medpipe workflow of a server, as a fresh worker would.

A worker replays a workflow's whole history whenever it answers a query on an
uncached run, takes a release over from a dead worker, or restarts. A history the
workflow code cannot replay (a nondeterminism error) shows only then, and only in
the shapes the server recorded: under load a workflow task is heartbeated, timed out
or retried, shapes no short test run writes on purpose. CI saw one such error once
(``release-home-by-load`` patch marker, load 15) and lost its history with the test's
temporary directory.

So the test suite replays, at the end of each session, every history the session's
workflows wrote: a nondeterminism error fails the run, and the failing history is
kept (JSON, importable by ``WorkflowHistory.from_json``) and summarised in the
failure message, so one failure is enough to reproduce it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from medpipe.workers import codec
from medpipe.workers.client import connect, data_converter
from medpipe.workers.config import StackConfig
from medpipe.workers.worker import WORKFLOWS, workflow_runner

#: Where failing histories are kept when ``MEDPIPE_REPLAY_KEEP`` does not say.
DEFAULT_KEEP = Path(__file__).resolve().parent.parent / ".replay-failures"


@dataclass(frozen=True)
class ReplayFailure:
    """One history the current workflow code could not replay."""

    workflow_id: str
    run_id: str
    error: str
    saved: Path
    shape: str


def closed_query(types: list[str]) -> str:
    """Visibility query for closed runs of ``types`` (running ones have no full history)."""
    names = ", ".join(f"'{t}'" for t in types)
    return f"WorkflowType IN ({names}) AND ExecutionStatus != 'Running'"


def workflow_type_names() -> list[str]:
    """The names medpipe registers its workflows under."""
    return [getattr(w, "__temporal_workflow_definition").name for w in WORKFLOWS]


def event_line(e: HistoryEvent) -> str:
    """One history event as a short line: id, type, and what tells markers apart."""
    kind = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
    extra = ""
    if e.HasField("marker_recorded_event_attributes"):
        m = e.marker_recorded_event_attributes
        extra = f" {m.marker_name}"
        for key in ("patch-data", "data"):  # the patch's id; the local activity's type
            if key in m.details and m.details[key].payloads:
                extra += f" {marker_detail(m.details[key].payloads[0].data)}"
    elif e.HasField("activity_task_scheduled_event_attributes"):
        extra = f" {e.activity_task_scheduled_event_attributes.activity_type.name}"
    elif e.HasField("workflow_task_failed_event_attributes"):
        extra = f" {e.workflow_task_failed_event_attributes.failure.message[:160]}"
    elif e.HasField("workflow_task_timed_out_event_attributes"):
        extra = " (timed out)"
    return f"{e.event_id:>4} {e.event_time.ToDatetime():%H:%M:%S.%f} {kind}{extra}"


def marker_detail(data: bytes) -> str:
    """What a core marker's JSON detail names (patch id, activity type and seq), briefly."""
    try:
        detail = json.loads(data)
    except ValueError:
        return data[:80].decode(errors="replace")
    if not isinstance(detail, dict):
        return str(detail)[:80]
    keep = ("id", "deprecated", "activity_type", "seq", "attempt")
    return json.dumps({k: detail[k] for k in keep if k in detail})


def shape_of(history: WorkflowHistory, limit: int = 60) -> str:
    """The first ``limit`` events of a history, one line each (the part replay failed on
    is nearly always early: patches and placement run before ingest)."""
    lines = [event_line(e) for e in history.events[:limit]]
    more = len(history.events) - limit
    return "\n".join(lines + ([f"     … {more} more events"] if more > 0 else []))


async def replay_closed(client: Client, keep_dir: Path) -> tuple[int, list[ReplayFailure]]:
    """Replay every closed medpipe workflow on ``client``'s server (``replay_histories``),
    decoding payloads as ``client`` does (a stack with a payload codec needs its key).

    Runs whose input is encrypted under a codec ``client`` does not have (a codec test's
    own key, on the shared session server) are left out: they cannot be decoded here.
    """
    histories: list[WorkflowHistory] = []
    can_decrypt = client.data_converter.payload_codec is not None
    async for execution in client.list_workflows(closed_query(workflow_type_names())):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        if can_decrypt or not encrypted_input(history):
            histories.append(history)
    return len(histories), await replay_histories(histories, keep_dir, client.data_converter)


def encrypted_input(history: WorkflowHistory) -> bool:
    """Whether the run's input was sealed by a payload codec (``workers.codec``)."""
    started = history.events[0].workflow_execution_started_event_attributes
    return any(p.metadata.get("encoding") == codec.ENCODING for p in started.input.payloads)


async def replay_histories(histories: list[WorkflowHistory], keep_dir: Path,
                           converter: DataConverter | None = None) -> list[ReplayFailure]:
    """Replay ``histories`` on the current workflow code; keep each that fails under
    ``keep_dir`` and return what failed (empty: all replayed)."""
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(),
                        data_converter=converter or data_converter())
    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    by_run = {h.run_id: h for h in histories}
    failures: list[ReplayFailure] = []
    for run_id, error in results.replay_failures.items():
        history = by_run[run_id]
        keep_dir.mkdir(parents=True, exist_ok=True)
        saved = keep_dir / f"{history.workflow_id}--{run_id}.json"
        saved.write_text(history.to_json())
        failures.append(ReplayFailure(history.workflow_id, run_id, first_line(error), saved,
                                      shape_of(history)))
    return failures


def first_line(error: Exception) -> str:
    """The error's message without the stack trace core folds into it."""
    return str(error).split(", stack_trace:")[0][:400]


def replay_keep_dir() -> Path:
    """Where failing histories are kept: ``$MEDPIPE_REPLAY_KEEP``, else ``.replay-failures``."""
    return Path(os.environ.get("MEDPIPE_REPLAY_KEEP") or DEFAULT_KEEP)


async def replay_stack(config: StackConfig) -> tuple[int, list[ReplayFailure]]:
    """``replay_closed`` on the server of a medpipe stack (``medpipe dev up``), with the
    stack's own payload codec."""
    client = await connect(config, data_converter(config))
    return await replay_closed(client, replay_keep_dir())


def failure_report(failures: list[ReplayFailure]) -> str:
    """What a red run prints: the error, where the history is kept, and its shape."""
    parts = [f"{len(failures)} workflow histories do not replay on the current code:"]
    for f in failures:
        parts += [f"- {f.workflow_id} ({f.run_id}): {f.error}", f"  kept: {f.saved}", f.shape]
    return "\n".join(parts)

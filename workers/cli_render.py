"""How the ``medpipe`` commands draw releases and canaries: rich tables and the lines under them.

Pure functions of the status contracts, so the live view (``watch``), the
one-shot views (``status``, ``canary``, ``list``) and any future front end
draw the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table

from medpipe.contracts.canary import CanaryStatus
from medpipe.contracts.fanout import FANOUT_DETAIL
from medpipe.contracts.names import SearchAttr
from medpipe.contracts.release import ReleaseState, ReleaseStatus, StageOutcome

if TYPE_CHECKING:
    from temporalio.client import WorkflowExecution

def status_table(status: ReleaseStatus) -> Table:
    """Per-stage table: where each stage ran, how long, how it ended, what moved it."""
    table = Table(title=f"{status.release_id} — {status.state.value}")
    for col in ("stage", "cloud/region/host", "accelerator", "seconds", "outcome", "failovers"):
        table.add_column(col)
    for s in status.stages:
        where = f"{s.ran_on.cloud}/{s.ran_on.region}/{s.ran_on.host}" if s.ran_on else "-"
        accel = (s.ran_on.accelerator if s.ran_on else "-") + (" (degraded)" if s.degraded else "")
        fos = "; ".join(f"{f.from_queue}→{f.to_queue or 'none'} ({f.cause.value}, "
                        f"{f.seconds:.1f}s)" for f in s.failovers) or "-"
        color = "green" if s.outcome is StageOutcome.SUCCEEDED else "red"
        part = s.detail.removeprefix(FANOUT_DETAIL) if s.detail.startswith(FANOUT_DETAIL) else ""
        table.add_row(s.stage.value + (f" · {part}" if part else ""), where, accel,
                      f"{s.seconds:.2f}",
                      f"[{color}]{s.outcome.value}[/{color}]", fos)
    if status.current_stage and status.state in (ReleaseState.RUNNING, ReleaseState.WAITING) \
            and status.current_stage not in {s.stage for s in status.stages}:
        table.add_row(status.current_stage.value, "-", "-", "-",
                      "[yellow]waiting[/yellow]" if status.waiting else "[yellow]running[/yellow]",
                      "-")
    return table


def status_footer(status: ReleaseStatus) -> str:
    """Lines under the table: waiting reason, metrics, error."""
    lines = []
    if status.waiting:
        w = status.waiting
        lines.append(f"[yellow]waiting:[/yellow] {w.reason} "
                     f"(round {w.rounds}, next try {w.next_try_at:%H:%M:%S})")
    if status.evaluation:
        ev = status.evaluation
        read = f", read from output {ev.output.output} ({ev.output.kind.value})" \
            if ev.output else ""
        lines.append(f"evaluation: {ev.metrics.summary()} ({ev.execution_provider}{read})")
    if status.gate and status.gate.baseline:
        lines.append(f"in service ({status.gate.baseline_version}) on the same rows: "
                     f"{status.gate.baseline.summary()}")
    if status.gate:
        verdict = "[green]passed[/green]" if status.gate.passed else "[red]failed[/red]"
        lines.append(f"model gate: {verdict}" + (f" — {'; '.join(status.gate.reasons)}"
                                                 if status.gate.reasons else ""))
    if status.canary:
        c = status.canary
        steps = ", ".join(f"{a.weight}% {a.verdict.value}" for a in c.analyses) or "no steps"
        what = "initial deployment" if c.initial_deploy else steps
        lines.append(f"canary: {c.state.value} ({what})"
                     + (f" — {c.rollback_cause}" if c.rollback_cause else ""))
    if status.error:
        lines.append(f"[red]failed:[/red] {status.error}")
    return "\n".join(lines)


def canary_table(status: CanaryStatus) -> Table:
    """Every step's verdict with its figures, per gateway."""
    table = Table(title=f"canary {status.release_id}: {status.state.value}, "
                        f"weight {status.weight} %")
    for col in ("step", "verdict", "gateway", "requests c/s", "errors c/s", "p99 ms c/s", "PSI"):
        table.add_column(col, no_wrap=col == "gateway")
    for a in status.analyses:
        for f in a.figures or ():
            p99 = (f"{f.canary_p99_ms:.1f}" if f.canary_p99_ms is not None else "-") + "/" + \
                  (f"{f.stable_p99_ms:.1f}" if f.stable_p99_ms is not None else "-")
            table.add_row(f"{a.weight} %", a.verdict.value, f.gateway,
                          f"{f.canary_requests}/{f.stable_requests}",
                          f"{f.canary_error_rate:.3f}/{f.stable_error_rate:.3f}", p99,
                          f"{f.psi:.3f}" + ("" if f.task == "binary" else f" ({f.shift_metric})"))
        if not a.figures:
            table.add_row(f"{a.weight} %", a.verdict.value, "-", "-", "-", "-", "-")
    return table


def canary_footer(status: CanaryStatus) -> str:
    """Problems, pause reason and rollback cause under the table."""
    lines = [f"{a.weight} % {a.verdict.value}: {'; '.join(a.reasons)}"
             for a in status.analyses if a.reasons]
    lines += [f"[yellow]gateway {p.gateway}[/yellow]: {p.operation} failing since "
              f"{p.since:%H:%M:%S} ({p.attempts} attempts): {p.message}" for p in status.problems]
    if status.pause_reason:
        lines.append(f"[yellow]paused:[/yellow] {status.pause_reason}")
    lines += [f"[yellow]reconciled[/yellow] {note}" for note in status.reconciled]
    if status.approval is not None:
        ap = status.approval
        lines.append(f"approvals: {len(ap.approvers)} of {ap.required} "
                     f"({', '.join(ap.approvers) or 'none yet'}), holding at {ap.at_weight} %"
                     if not ap.approved else f"approved by {', '.join(ap.approvers)}")
        lines += [f"[yellow]approval refused:[/yellow] {r}" for r in ap.refusals]
    if status.rollback_cause:
        lines.append(f"[red]rollback:[/red] {status.rollback_cause}")
    if status.rollback_review:
        lines.append(f"rollback authorisation: {status.rollback_review}")
    return "\n".join(lines)


def release_view(status: ReleaseStatus, canary: CanaryStatus | None) -> Any:
    """The stage table, plus the canary's step table and footer when there is a canary."""
    if canary is None:
        return status_table(status)
    parts: list[Any] = [status_table(status), canary_table(canary)]
    footer = canary_footer(canary)
    if footer:
        parts.append(footer)
    return Group(*parts)


def query_warning(error: str, running: bool) -> str:
    """The line under a release's view when its status query failed (the view is the
    last status that was read)."""
    then = "asking again" if running else "the workflow's close status decides the exit code"
    return (f"[yellow]status query failed:[/yellow] {escape(error)} "
            f"(showing the last status read; {then})")


def with_warning(view: Any, warning: str | None) -> Any:
    """``view``, with ``warning`` under it when there is one."""
    return view if warning is None else Group(view, warning)


#: The search attributes ``medpipe list`` shows, in column order.
SHOWN = (SearchAttr.MODEL, SearchAttr.VERSION, SearchAttr.STAGE, SearchAttr.CLOUD,
         SearchAttr.STATE)
_RELEASE_COLUMNS = ("release", "model", "version", "stage", "cloud", "state", "started")


def release_rows(releases: Iterable[WorkflowExecution]) -> list[dict[str, str]]:
    """One row per release, from its search attributes (no payload is decoded)."""
    rows = []
    for wf in releases:
        get = {p.key.name: p.value for p in wf.typed_search_attributes}
        row = {"release": wf.id}
        row.update({col: str(get.get(key.name, ""))
                    for col, key in zip(_RELEASE_COLUMNS[1:-1], SHOWN, strict=True)})
        row["started"] = wf.start_time.isoformat() if wf.start_time else ""
        rows.append(row)
    return rows


def releases_table(releases: Iterable[WorkflowExecution]) -> Table:
    """One row per release, from its search attributes (no payload is decoded)."""
    table = Table()
    for col in _RELEASE_COLUMNS:
        table.add_column(col)
    for row in release_rows(releases):
        started = row["started"][:19].replace("T", " ")
        table.add_row(*(row[c] for c in _RELEASE_COLUMNS[:-1]), started)
    return table

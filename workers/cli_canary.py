"""On-call commands for a running canary: rollback, pause, resume, promote; traffic; gateway.

Incident responders act on a *release* (``risk-model-v2`` or
``release-risk-model-v2``); the command addresses that release's
CanaryWorkflow. ``rollback`` is a Temporal Update: it returns only when
every gateway reports the canary at 0 % (``--signal`` sends the
fire-and-forget Signal instead). Refusals (no reason, nothing to roll back,
no canary for that release) come back as one clear line.
"""

from __future__ import annotations

import asyncio
import csv
import random
import signal
import time
from pathlib import Path
from typing import Any

import click
import httpx
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from medpipe.contracts.approval import ApprovalAction, SignedStatement
from medpipe.contracts.canary import (
    CanaryRollbackResult,
    CanaryState,
    CanaryStatus,
    RollbackRequest,
    canary_id,
)
from medpipe.contracts.errors import InvalidInput, NotFound
from medpipe.contracts.names import QueryName, SignalName, UpdateName
from medpipe.workers.cli_errors import clear_errors, fail, run
from medpipe.workers.cli_output import make_console, output_option, to_json
from medpipe.workers.cli_render import canary_footer, canary_table
from medpipe.workers.client import connect
from medpipe.workers.config import StackConfig
from medpipe.workers.extras import require_extras
from medpipe.workers.who import current_user

console = make_console()


def release_id_of(value: str) -> str:
    """Accept ``risk-model-v2``, ``release-risk-model-v2`` or ``canary-risk-model-v2``."""
    value = value.strip()
    if value.startswith("canary-"):
        return "release-" + value.removeprefix("canary-")
    return value if value.startswith("release-") else f"release-{value}"


def _who(requested_by: str | None) -> str:
    return requested_by or current_user()


def _update_refusal(e: WorkflowUpdateFailedError) -> str:
    cause: BaseException | None = e.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    return cause.message if isinstance(cause, ApplicationError) else str(e.cause or e)


async def canary_handle(client: Client, release: str) -> WorkflowHandle[Any, Any]:
    """The CanaryWorkflow of ``release``; NotFound with a clear message when there is none."""
    wid = canary_id(release_id_of(release))
    handle = client.get_workflow_handle(wid)
    try:
        await handle.describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no canary for release {release_id_of(release)} (looked for "
                           f"workflow {wid}): was it deployed?") from None
        raise
    return handle


@click.command()
@click.argument("release")
@click.option("--reason", required=True, help="Why (recorded with the rollback).")
@click.option("--incident", default="", help="Incident id, e.g. INC-123.")
@click.option("--by", "requested_by", default=None, help="Who (default: your user name).")
@click.option("--signal", "as_signal", is_flag=True,
              help="Fire and forget (Signal) instead of waiting for confirmation (Update).")
@click.option("--key-uri", help="Sign the request with your own key (a responder's): without "
              "it the rollback still happens and is flagged 'unsigned: needs review'.")
@click.option("--key-id", help="Your signing key id (with --key-uri).")
@click.pass_obj
@clear_errors
def rollback(cfg: StackConfig, release: str, reason: str, incident: str,
             requested_by: str | None, as_signal: bool, key_uri: str | None,
             key_id: str | None) -> None:
    """Roll a release's canary back everywhere; returns when every gateway serves 0 % canary."""
    try:
        request = RollbackRequest(reason=reason, incident=incident,
                                  requested_by=_who(requested_by))
    except ValueError:
        fail("a rollback needs a reason (--reason \"...\")")

    async def go() -> None:
        client = await connect(cfg)
        handle = await canary_handle(client, release)
        started = time.perf_counter()
        signed = await _signed_rollback(handle, request, release, key_uri, key_id)
        request_ = request.model_copy(update={"statement": signed}) if signed else request
        if as_signal:
            await handle.signal(SignalName.ROLLBACK, request_)
            console.print(f"rollback signalled to {handle.id}; follow with "
                          f"[bold]medpipe watch {release_id_of(release)}[/bold]")
            return
        try:
            result: CanaryRollbackResult = await handle.execute_update(
                UpdateName.ROLLBACK, request_, result_type=CanaryRollbackResult)
        except WorkflowUpdateFailedError as e:
            fail(f"rollback refused: {_update_refusal(e)}")
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                fail(f"{handle.id} has already ended: nothing left to roll back")
            raise
        seconds = time.perf_counter() - started
        weights = ", ".join(f"{g} {w} %" for g, w in sorted(result.canary_weights.items()))
        if result.state is CanaryState.ROLLED_BACK:
            what = "previous stable restored" if result.restored_previous else "canary at 0 %"
            console.print(f"[green]rolled back[/green] in {seconds:.2f}s: {what} on every "
                          f"gateway ({weights})")
        else:
            fail(f"rollback did not complete ({result.state.value}): {weights}")

    run(go())


async def _signed_rollback(handle: WorkflowHandle[Any, Any], request: RollbackRequest,
                           release: str, key_uri: str | None,
                           key_id: str | None) -> SignedStatement | None:
    """The responder's signed rollback statement, or None (unsigned: flagged for review)."""
    if not key_uri:
        return None
    if not key_id:
        raise InvalidInput("--key-uri needs --key-id (your signing key)")
    from medpipe.workers.cli_approve import sign_statement_for

    status = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
    return sign_statement_for(ApprovalAction.ROLLBACK, release_id_of(release),
                              status.model_sha256, request.requested_by, request.reason,
                              key_uri, key_id)


def _control(update: UpdateName, past: str) -> Any:
    @click.command(name=update.value)
    @click.argument("release")
    @click.option("--by", "requested_by", default=None, help="Who (default: your user name).")
    @click.pass_obj
    @clear_errors
    def command(cfg: StackConfig, release: str, requested_by: str | None) -> None:
        async def go() -> None:
            client = await connect(cfg)
            handle = await canary_handle(client, release)
            try:
                status: CanaryStatus = await handle.execute_update(
                    update, _who(requested_by), result_type=CanaryStatus)
            except WorkflowUpdateFailedError as e:
                fail(f"{update} refused: {_update_refusal(e)}")
            console.print(f"{handle.id} {past}: {status.state.value}, weight {status.weight} %")

        run(go())

    return command


pause = _control(UpdateName.PAUSE, "paused")
pause.help = "Hold the canary at its current weight until resumed."
resume = _control(UpdateName.RESUME, "resumed")
resume.help = "Continue a paused canary (the current step bakes again)."
promote = _control(UpdateName.PROMOTE, "promoting")
promote.help = "Skip the remaining steps and promote now (on-call decision)."


@click.command()
@click.argument("release")
@output_option
@click.pass_obj
@clear_errors
def canary(cfg: StackConfig, release: str, output: str) -> None:
    """Show a canary's state and every step's verdict with its figures."""

    async def go() -> None:
        client = await connect(cfg)
        handle = await canary_handle(client, release)
        status = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
        if output == "json":
            click.echo(to_json(status))
            return
        console.print(canary_table(status))
        footer = canary_footer(status)
        if footer:
            console.print(footer)

    run(go())


# -- traffic ----------------------------------------------------------------------------
def feature_rows(dataset: Path, features: list[str], limit: int = 2000) -> list[list[float]]:
    """Feature vectors from a CSV dataset (only the model's feature columns are read)."""
    try:
        with open(dataset, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [f for f in features if f not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInput(f"{dataset} lacks feature column(s) {', '.join(missing)}")
            return [[float(r[f]) for f in features]
                    for _, r in zip(range(limit), reader, strict=False)]
    except OSError as e:
        raise InvalidInput(f"cannot read {dataset}: {e.strerror}") from e
    except ValueError as e:
        raise InvalidInput(f"{dataset}: a feature value is not a number ({e})") from e


async def send_traffic(urls: list[str], model: str, rows: list[list[float]], rate: float,
                       duration: float | None, counts: dict[str, int],
                       stop: asyncio.Event | None = None) -> None:
    """Send OIP v2 infer requests to every URL at ``rate`` requests/s each."""
    stop = stop or asyncio.Event()
    deadline = time.monotonic() + duration if duration else None

    async def one(url: str) -> None:
        rnd = random.Random(url)
        interval = 1.0 / rate
        next_at = time.monotonic()
        async with httpx.AsyncClient(timeout=5.0) as http:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                row = rows[rnd.randrange(len(rows))]
                body = {"inputs": [{"name": "features", "shape": [1, len(row)],
                                    "datatype": "FP32", "data": row}]}
                try:
                    r = await http.post(f"{url}/v2/models/{model}/infer", json=body)
                    counts["ok" if r.status_code == 200 else "failed"] += 1
                except httpx.HTTPError:
                    counts["unreachable"] += 1
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    await asyncio.gather(*(one(u) for u in urls))


@click.command()
@click.option("--rate", type=float, default=20.0, show_default=True,
              help="Requests per second to each gateway.")
@click.option("--duration", type=float, default=None, help="Seconds (default: until Ctrl-C).")
@click.option("--data", "data_path", default=None,
              help="Validation CSV (default: the sample cohort under $MEDPIPE_HOME).")
@click.option("--model", default=None, help="Model name (default: each gateway's model).")
@click.option("--gateway", "urls", multiple=True,
              help="Public gateway URL (repeatable; default: every gateway of the fleet).")
@click.pass_obj
@clear_errors
def traffic(cfg: StackConfig, rate: float, duration: float | None, data_path: str | None,
            model: str | None, urls: tuple[str, ...]) -> None:
    """Send Open Inference Protocol requests built from validation data (for canaries)."""
    from medpipe.workers.sample import FEATURES

    if rate <= 0:
        fail("--rate must be positive")
    data = Path(data_path) if data_path else Path(cfg.home) / "sample" / "cohort.csv"
    targets = [(u, model) for u in urls] if urls else \
        [(g.public_url, model or g.model) for g in cfg.fleet.gateways if g.public_url]
    if not targets:
        fail("no gateway to send to: pass --gateway URL or configure fleet.gateways")
    if any(not m for _, m in targets):
        fail("which model? pass --model NAME")
    rows = feature_rows(data, list(FEATURES))
    if not rows:
        fail(f"{data} has no rows")
    counts = {"ok": 0, "failed": 0, "unreachable": 0}
    console.print(f"sending {rate:g} req/s to {len(targets)} gateway(s); Ctrl-C to stop")

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        by_model: dict[str, list[str]] = {}
        for url, m in targets:
            by_model.setdefault(str(m), []).append(url.rstrip("/"))
        await asyncio.gather(*(send_traffic(u, m, rows, rate, duration, counts, stop)
                               for m, u in by_model.items()))

    asyncio.run(go())
    console.print(f"sent: {counts['ok']} ok, {counts['failed']} refused, "
                  f"{counts['unreachable']} unreachable")


# -- the gateway process -----------------------------------------------------------------
@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@clear_errors
def gateway(args: tuple[str, ...]) -> None:
    """Run the inference gateway (OIP v2, stable/canary slots, mTLS admin API); --help lists
    its options (the gateway's own parser: ``python -m medpipe.workers.gateway``)."""
    if "--help" not in args and "-h" not in args:
        require_extras("the gateway", "gateway",
                       *(("sign",) if any(a.startswith("--trusted-key") for a in args) else ()))
    from medpipe.workers.gateway.__main__ import main as gateway_main

    gateway_main(list(args), prog="medpipe gateway")


COMMANDS = [rollback, pause, resume, promote, canary, traffic, gateway]

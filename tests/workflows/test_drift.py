"""Drift monitoring end to end: a real Temporal dev server, a real gateway serving real
ONNX models under OIP traffic, the drift schedule created at promotion, a steady
window judged ok, a 0.6 sd shift in one feature detected and rolled back through the
canary's rollback Update (``drift-monitor`` in history and ledger), the alert
webhook retried and idempotent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError

from medpipe.activities.drift import post_alert
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.storage.base import open_store
from medpipe.contracts.canary import CanaryPlan, CanaryState, CanaryStatus
from medpipe.contracts.drift import (
    DriftAction,
    DriftAlertInput,
    DriftMonitorInput,
    DriftPolicy,
    DriftVerdict,
    DriftVerdictKind,
    drift_schedule_id,
)
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.names import SearchAttr
from medpipe.contracts.spec import parse_spec
from medpipe.workers.gateway.sketches import book_of
from medpipe.workers.sample import FEATURES, feature_rows
from tests.canary import FIRST, canary_handle, fleet_with, release
from tests.drift import Receiver, shifted, trigger_and_wait
from tests.gateways import GatewayPKI, gateways, traffic
from tests.support import make_request, running_workers, wait_until

WINDOW = 400
POLICY = DriftPolicy(interval_s=3600, action=DriftAction.ROLLBACK, min_samples=WINDOW)
#: Shift of one feature in the drifted traffic: 0.6 sd is found in every one of 5,000
#: simulated 400-row windows (0.5 sd missed 2).
SHIFT_SD = 0.6
GUARDED = CanaryPlan(steps=(100,), bake_s=1.0, min_requests=0, guard_s=600)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A larger cohort than the session sample: 1,200 held-out rows to profile."""
    from medpipe.workers.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("drift-sample"), patients=2000, visits=3)


@pytest.mark.asyncio
async def test_a_shift_is_detected_and_rolled_back_by_the_monitor(
        client: Client, tmp_path: Path, cohort: dict[str, Path],
        gateway_pki: GatewayPKI) -> None:
    with Receiver(fail_first=2) as receiver, \
            gateways(["gw-drift"], "risk", gateway_pki, tmp_path / "gw") as gws:
        gw = gws[0]
        fleet = fleet_with(tmp_path, gws)
        policy = POLICY.model_copy(update={"webhook_url": receiver.url})
        v1 = make_request(fleet, cohort, canary=FIRST, drift=policy)
        v2 = make_request(fleet, cohort, canary=GUARDED, drift=policy,
                          model_uri=cohort["model_v2"].as_uri(),
                          thresholds={"max_auroc_drop": 0.5})
        # steady traffic comes from the population the profile counts: every split (the
        # held-out fifth alone is 400 patients whose ages differ from the cohort's by
        # chance, enough for about 4 % of steady windows to be judged drifted on age)
        steady = feature_rows(cohort["dataset"])
        moved = shifted(steady, "ldl", SHIFT_SD)
        async with running_workers(client, fleet, ["aws/us-east-1"],
                                   gateway_tls=gateway_pki.client):
            await release(client, v1)
            await release(client, v2)
            assert gw.gateway.stable is not None and gw.gateway.stable.version == v2.version

            # promotion replaced v1's schedule with one watching v2
            schedule = client.get_schedule_handle(drift_schedule_id("risk",
                                                                    fleet.control_queue))
            desc = await schedule.describe()
            action = desc.schedule.action
            assert isinstance(action, ScheduleActionStartWorkflow)
            monitor = (await client.data_converter.decode(list(action.args),
                                                          [DriftMonitorInput]))[0]
            assert monitor.version == v2.version and monitor.policy.action is DriftAction.ROLLBACK
            assert [f.name for f in monitor.profile.features] == FEATURES
            assert monitor.reference_auroc is not None and 0.5 < monitor.reference_auroc <= 1

            async def window_rows() -> int:
                sk = book_of(gw.gateway).window(gw.gateway).stable
                return sk.rows if sk else 0

            book_of(gw.gateway).window(gw.gateway, reset=True)
            async with traffic([gw.target.public_url], "risk", steady.tolist(), rate=200.0):
                await wait_until(lambda: _at_least(window_rows, WINDOW), timeout=60)
            ok = await trigger_and_wait(client, schedule)
            assert ok.verdict.verdict is DriftVerdictKind.OK, ok.verdict
            assert ok.verdict.rows >= WINDOW and len(ok.verdict.figures) == len(FEATURES) + 1
            assert not ok.actions and not receiver.attempts
            assert gw.gateway.stable.version == v2.version

            async with traffic([gw.target.public_url], "risk", moved.tolist(), rate=200.0):
                await wait_until(lambda: _at_least(window_rows, WINDOW), timeout=60)
            result = await trigger_and_wait(client, schedule, timeout=120)
            # the canary ends after its rollback Update returned: wait for it while its
            # worker still runs (a deadline, so a lost task fails instead of hanging)
            status: CanaryStatus = await asyncio.wait_for(
                canary_handle(client, v2).result(), 90.0)

        verdict = result.verdict
        assert verdict.verdict is DriftVerdictKind.DRIFT, verdict
        drifted = {f.feature for f in verdict.figures if f.drifted}
        assert "ldl" in drifted and drifted <= {"ldl", "prediction"}, verdict.figures
        assert any(a.startswith("rolled back via canary-update") for a in result.actions)
        # the model in service is v1 again, through the canary's own rollback Update
        assert gw.gateway.stable.version == v1.version
        assert status.state is CanaryState.ROLLED_BACK
        assert status.rollback is not None and status.rollback.requested_by == "drift-monitor"
        # the schedule went with the version it watched
        with pytest.raises(RPCError):
            await schedule.describe()
        # ledger: the alert, by the monitor, with its figures
        entries = [e for e in Ledger(open_store(fleet.ledger_uri)).entries(v2.release_id)
                   if e.kind == "drift-alert"]
        assert len(entries) == 1 and entries[0].payload["requested_by"] == "drift-monitor"
        assert entries[0].payload["figures"][0]["feature"] in drifted
        rolled = [e for e in Ledger(open_store(fleet.ledger_uri)).entries(v2.release_id)
                  if e.kind == "drift-rollback"]
        assert len(rolled) == 1 and rolled[0].payload["via"] == "canary-update"
        assert rolled[0].payload["restored_previous"] is True
        # webhook: two failures retried, then one alert under one key
        assert len(receiver.attempts) == 3 and len(set(receiver.attempts)) == 1
        assert list(receiver.alerts) == receiver.attempts[:1]
        alert = next(iter(receiver.alerts.values()))
        assert alert["verdict"]["verdict"] == "drift" and alert["version"] == v2.version
        # on-call sees it in the UI: the check's search attribute
        drift_run = client.get_workflow_handle(receiver.attempts[0].split("/")[0])
        attrs = (await drift_run.describe()).typed_search_attributes
        assert attrs.get(SearchAttr.DRIFT) == "drift"
        assert attrs.get(SearchAttr.VERSION) == v2.version


async def _at_least(count, n: int) -> bool:  # type: ignore[no-untyped-def]
    return await count() >= n


def test_the_webhook_key_makes_a_repeated_alert_harmless_and_a_refusal_final() -> None:
    verdict = DriftVerdict(verdict=DriftVerdictKind.DRIFT, rows=1)
    with Receiver() as receiver, httpx.Client() as http:
        inp = DriftAlertInput(url=receiver.url, idempotency_key="k", model="m", version="1",
                              release_id="r", action=DriftAction.ALERT, verdict=verdict)
        assert post_alert(http, inp) == 200
        assert post_alert(http, inp) == 200  # delivered twice, recorded once
        assert receiver.attempts == ["k", "k"] and len(receiver.alerts) == 1
        receiver.refuse = True
        with pytest.raises(InvalidInput, match="refused the alert: HTTP 422"):
            post_alert(http, inp)


def test_an_alert_policy_needs_a_webhook() -> None:
    with pytest.raises(ValueError, match="webhook_url"):
        DriftPolicy(action=DriftAction.ALERT)


def test_the_release_spec_carries_the_drift_policy_and_names_a_bad_field() -> None:
    spec = parse_spec("drift:\n  action: rollback\n  interval_s: 120\n  min_samples: 300\n",
                      "release.yaml", {"drift": {"psi_threshold": 0.2}})
    assert spec.drift == DriftPolicy(action=DriftAction.ROLLBACK, interval_s=120,
                                     min_samples=300, psi_threshold=0.2)
    with pytest.raises(InvalidInput, match=r"release.yaml: .*webhook_url"):
        parse_spec("drift: {action: alert}\n", "release.yaml")
    with pytest.raises(InvalidInput, match=r"field 'drift.interval_s'"):
        parse_spec("drift: {interval_s: 0}\n", "release.yaml")


@pytest.mark.asyncio
async def test_after_the_guard_period_the_monitor_rolls_back_on_the_gateways(
        client: Client, tmp_path: Path, cohort: dict[str, Path],
        gateway_pki: GatewayPKI) -> None:
    """The canary workflow has closed (guard over): the rollback Update has no one to
    answer it, so the monitor restores the previous stable on each gateway itself."""
    with gateways(["gw-late"], "risk", gateway_pki, tmp_path / "gw") as gws:
        gw = gws[0]
        fleet = fleet_with(tmp_path, gws)
        v1 = make_request(fleet, cohort, canary=FIRST, drift=POLICY)
        v2 = make_request(fleet, cohort, canary=FIRST.model_copy(update={"steps": (100,)}),
                          drift=POLICY, model_uri=cohort["model_v2"].as_uri(),
                          thresholds={"max_auroc_drop": 0.5})
        moved = shifted(feature_rows(cohort["dataset"]), "ldl", SHIFT_SD)
        async with running_workers(client, fleet, ["aws/us-east-1"],
                                   gateway_tls=gateway_pki.client):
            await release(client, v1)
            await release(client, v2)
            assert (await canary_handle(client, v2).result()).state is CanaryState.PROMOTED
            schedule = client.get_schedule_handle(drift_schedule_id("risk",
                                                                    fleet.control_queue))

            async def window_rows() -> int:
                sk = book_of(gw.gateway).window(gw.gateway).stable
                return sk.rows if sk else 0

            async with traffic([gw.target.public_url], "risk", moved.tolist(), rate=200.0):
                await wait_until(lambda: _at_least(window_rows, WINDOW), timeout=60)
            result = await trigger_and_wait(client, schedule, timeout=120)
        assert result.verdict.verdict is DriftVerdictKind.DRIFT, result.verdict
        assert "rolled back via gateways (rolled-back)" in result.actions, result.actions
        assert gw.gateway.stable is not None and gw.gateway.stable.version == v1.version
        rolled = [e for e in Ledger(open_store(fleet.ledger_uri)).entries(v2.release_id)
                  if e.kind == "drift-rollback"]
        assert len(rolled) == 1 and rolled[0].payload["via"] == "gateways"
        assert rolled[0].payload["requested_by"] == "drift-monitor"
        assert rolled[0].payload["restored_previous"] is True

"""ReleaseWorkflow on a real Temporal dev server, with real workers.

Covers a full release, each failover cause, GPU→CPU degradation, residency
waiting, idempotent submission and bad inputs.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
import yaml
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from medpipe.contracts.names import ActivityName, SearchAttr
from medpipe.contracts.placement import Fleet, ResidencyPolicy
from medpipe.contracts.release import (
    FailoverCause,
    ReleaseState,
    ReleaseStatus,
    Stage,
    StageOutcome,
)
from medpipe.workers.devserver import TemporalDevServer
from tests.history import activity_runs, history_events, timers_between
from tests.support import (
    FAST,
    make_fleet,
    make_request,
    running_workers,
    start,
    status_of,
    wait_until,
    worker_process,
    write_fleet_file,
)

pytestmark = pytest.mark.asyncio


def stage(status: ReleaseStatus, name: Stage):  # type: ignore[no-untyped-def]
    return next(s for s in status.stages if s.stage is name)


def queue(fleet: Fleet, profile: str) -> str:
    """The CPU activity queue of ``profile``."""
    return fleet.find(profile).queues(fleet.queue_prefix)[0]


async def test_full_release_records_placement_and_metrics(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["aws/us-east-1", "azure/eastus"]):
        handle = await start(client, make_request(fleet, sample))
        result = await handle.result()
    status = result
    assert status.state is ReleaseState.SUCCEEDED
    ingest = stage(status, Stage.INGEST)
    assert ingest.outcome is StageOutcome.SUCCEEDED and ingest.ran_on.cloud == "aws"
    model = status.ingest.artifact("model")
    import hashlib
    clear = sample["model"].read_bytes()
    assert model.content_sha256 == hashlib.sha256(clear).hexdigest()
    stored = (tmp_path / "buckets" / "aws-us-east-1" / model.key).read_bytes()
    assert model.sha256 == hashlib.sha256(stored).hexdigest()  # the stored digest is checked
    # envelope-encrypted at rest: a header and per-segment tags around unreadable bytes
    assert stored[:4] != clear[:4] and clear[16:48] not in stored and model.size > len(clear)
    assert model.encryption and model.encryption.key_uri == fleet.keys.key_uri
    # everything downstream saw the pseudonymized dataset only
    pz = stage(status, Stage.PSEUDONYMIZE)
    assert pz.outcome is StageOutcome.SUCCEEDED and pz.ran_on.jurisdiction == "US"
    assert status.pseudonymization and status.pseudonymization.records > 0
    assert status.validation and status.validation.failed == 0 and status.validation.rows > 0
    assert status.signature and status.signature.bundle_uri.endswith("model.onnx.sig")
    m = status.evaluation.metrics
    assert 0.6 < m.auroc <= 1.0 and m.rows > 0 and 0 <= m.calibration_error < 0.2
    # the GPU profile's worker is not running: evaluate failed over (no worker) to CPU
    ev = stage(status, Stage.EVALUATE)
    assert ev.degraded and ev.ran_on.accelerator == "cpu"
    assert ev.failovers[0].cause is FailoverCause.NO_WORKER
    assert ev.failovers[0].from_queue.endswith(".gpu")
    assert status.evaluation.execution_provider == "CPUExecutionProvider"


async def test_no_worker_on_first_queue_fails_over(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["azure/eastus"]):
        handle = await start(client, make_request(fleet, sample))
        status = await handle.result()
        events = await history_events(handle)
    ingest = stage(status, Stage.INGEST)
    assert ingest.ran_on.cloud == "azure"
    fo = ingest.failovers[0]
    assert fo.cause is FailoverCause.NO_WORKER
    aws, azure = queue(fleet, "aws/us-east-1"), queue(fleet, "azure/eastus")
    assert (fo.from_queue, fo.to_queue) == (aws, azure)
    assert fo.seconds >= FAST.schedule_to_start_s  # it waited for the timeout, not less
    # in order: never picked up on aws (schedule-to-start timeout), then run on azure
    runs = activity_runs(events, ActivityName.INGEST)
    assert [(r.queue, r.events, r.timeout) for r in runs] == [
        (aws, ["timed out"], "TIMEOUT_TYPE_SCHEDULE_TO_START"),
        (azure, ["started", "completed"], None)]


async def test_provider_unavailable_fails_over(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path, missing=["aws/us-east-1"])
    async with running_workers(client, fleet, ["aws/us-east-1", "azure/eastus"]):
        handle = await start(client, make_request(fleet, sample))
        status = await handle.result()
        events = await history_events(handle)
    ingest = stage(status, Stage.INGEST)
    assert ingest.ran_on.cloud == "azure"
    assert ingest.failovers[0].cause is FailoverCause.PROVIDER_UNAVAILABLE
    assert "not reachable" in ingest.failovers[0].detail
    # at once: one failed attempt on aws (not retried, no timeout waited for), then azure
    assert ingest.attempts == 2
    runs = activity_runs(events, ActivityName.INGEST)
    assert [(r.queue, r.events, r.failure_type) for r in runs] == [
        (queue(fleet, "aws/us-east-1"), ["started", "failed"], "ProviderUnavailable"),
        (queue(fleet, "azure/eastus"), ["started", "completed"], None)]
    assert timers_between(events, runs[0].last_id, runs[1].scheduled_id) == 0  # no backoff


async def test_gpu_worker_without_cuda_degrades_to_cpu(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["onprem/gpu-01", "aws/us-east-1"]):
        status = await (await start(client, make_request(fleet, sample))).result()
    ev = stage(status, Stage.EVALUATE)
    assert ev.failovers[0].cause is FailoverCause.ACCELERATOR_UNAVAILABLE
    assert "CUDA" in ev.failovers[0].detail
    assert ev.degraded and status.evaluation.ran_on.accelerator == "cpu"


async def test_eu_only_release_waits_for_an_eu_worker(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    request = make_request(fleet, sample,
                           residency=ResidencyPolicy(allowed_jurisdictions=("EU",)))
    async with running_workers(client, fleet, ["aws/us-east-1", "azure/eastus"]):
        handle = await start(client, request)

        async def waiting() -> bool:
            st = await status_of(handle)
            return st.state is ReleaseState.WAITING

        await wait_until(waiting, timeout=30)
        st = await status_of(handle)
        assert st.waiting and "aws/us-east-1" in st.waiting.reason
        desc = await handle.describe()
        attrs = {p.key.name: p.value for p in desc.typed_search_attributes}
        assert attrs[SearchAttr.WAITING.name] is True
        assert attrs[SearchAttr.STATE.name] == "waiting-for-placement"
        # nothing of the release was written to a US bucket
        assert not list((tmp_path / "buckets" / "aws-us-east-1").glob("releases/*"))
        async with running_workers(client, fleet, ["gcp/europe-west3"], control=False):
            status = await handle.result()
    assert status.state is ReleaseState.SUCCEEDED
    assert {s.ran_on.jurisdiction for s in status.stages} == {"EU-DE"}
    desc = await handle.describe()
    attrs = {p.key.name: p.value for p in desc.typed_search_attributes}
    assert attrs[SearchAttr.WAITING.name] is False and attrs[SearchAttr.STATE.name] == "succeeded"


async def test_resubmitting_a_release_is_idempotent(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    request = make_request(fleet, sample)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        first = await start(client, request)
        second = await start(client, request)
        assert (await first.describe()).run_id == (await second.describe()).run_id
        await first.result()
        third = await start(client, request)
        assert (await third.describe()).run_id == (await first.describe()).run_id
    ingested = list((tmp_path / "buckets" / "aws-us-east-1" / "releases").iterdir())
    assert [p.name for p in ingested] == [request.release_id]


async def _failure(client: Client, tmp_path: Path, sample: dict[str, Path],
                   **overrides: object) -> tuple[ApplicationError, ReleaseStatus]:
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        handle = await start(client, make_request(fleet, sample, **overrides))
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        status = await status_of(handle)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause, status


async def test_missing_source_fails_clearly_without_retrying(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    missing = (tmp_path / "nope.csv").as_uri()
    cause, status = await _failure(client, tmp_path, sample, data_uri=missing)
    assert cause.type == "NotFound" and "nope.csv does not exist" in str(cause)
    assert status.state is ReleaseState.FAILED and status.stages[0].attempts == 1


async def test_invalid_model_fails_clearly(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not onnx")
    cause, status = await _failure(client, tmp_path, sample, model_uri=bad.as_uri())
    assert cause.type == "InvalidModel" and "not a loadable ONNX model" in str(cause)
    assert stage(status, Stage.EVALUATE).outcome is StageOutcome.FAILED


async def test_dataset_not_matching_the_model_fails_clearly(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    other = tmp_path / "other.csv"
    other.write_text("id,a,b,label,split\nP1,1,2,0,test\nP2,3,4,1,test\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("format: tabular\npatient_id: id\nfields:\n  id: {action: token}\n"
                      "  a: {action: keep}\n  b: {action: keep}\n  label: {action: keep}\n"
                      "  split: {action: keep}\n")
    cause, _ = await _failure(client, tmp_path, sample, data_uri=other.as_uri(),
                              policy_uri=policy.as_uri())
    assert cause.type == "DatasetMismatch" and "age" in str(cause)


async def test_columns_the_policy_does_not_cover_are_refused_before_anything_reads_them(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b,label,split\n1,2,0,test\n3,4,1,test\n")
    cause, status = await _failure(client, tmp_path, sample, data_uri=other.as_uri())
    assert cause.type == "InvalidInput" and "not covered by the policy" in str(cause)
    assert "a, b" in str(cause)
    assert status.current_stage is Stage.PSEUDONYMIZE and status.evaluation is None


async def test_an_identifier_left_in_free_text_blocks_the_release(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    """A careless policy keeps the notes column; one planted SSN must stop the release."""
    import csv
    rows = list(csv.DictReader(sample["dataset"].open()))
    for r in rows:
        r["notes"] = "stable, follow up in three months"
    rows[3]["notes"] = "called back, SSN 123-45-6789 confirmed"
    planted = tmp_path / "planted.csv"
    with planted.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    policy = tmp_path / "careless.yaml"
    from medpipe.activities.pseudonymize.policy import default_policy
    careless = default_policy().model_dump(mode="json")
    careless["fields"]["notes"] = {"action": "keep"}
    policy.write_text(yaml.safe_dump(careless))
    cause, status = await _failure(client, tmp_path, sample, data_uri=planted.as_uri(),
                                   policy_uri=policy.as_uri())
    assert cause.type == "IdentifiersFound", cause
    assert "notes: no identifier left" in str(cause) and "found: SSN 1 (1 of" in str(cause)
    assert "123-45-6789" not in str(cause)  # the report counts, it never quotes
    assert status.validation and status.validation.residual_failed >= 1
    assert status.evaluation is None and status.signature is None


async def test_model_gate_blocks_a_weak_model(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    cause, status = await _failure(client, tmp_path, sample,
                                   thresholds={"min_auroc": 0.99})
    assert cause.type == "ModelGateFailed" and "AUROC" in str(cause)
    assert status.evaluation is not None  # the figures are kept for the report


async def test_sigkilled_worker_mid_ingest_fails_over(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    fleet_file = write_fleet_file(fleet, tmp_path / "fleet.yaml")
    big = tmp_path / "big.csv"
    header, _, body = sample["dataset"].read_bytes().partition(b"\n")
    big.write_bytes(header + b"\n" + body * 8)
    # a real worker process, throttled so ingest takes long enough to be killed mid-way
    proc = worker_process(temporal_server.address, fleet_file, "aws/us-east-1",
                          tmp_path / "aws.log", "--no-control", "--ingest-rate-limit", "400000")

    async def polling() -> bool:
        log = tmp_path / "aws.log"
        return log.exists() and "polling" in log.read_text()

    try:
        await wait_until(polling, timeout=30)
        async with running_workers(client, fleet, ["azure/eastus"]):
            handle = await start(client, make_request(fleet, sample, data_uri=big.as_uri()))

            async def ingest_started_on_aws() -> bool:
                desc = await handle.describe()
                return any(p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                           and "aws" in p.last_worker_identity
                           for p in desc.raw_description.pending_activities)

            await wait_until(ingest_started_on_aws, timeout=30)
            await asyncio.sleep(0.5)
            os.killpg(proc.pid, signal.SIGKILL)
            status = await handle.result()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    ingest = stage(status, Stage.INGEST)
    assert ingest.ran_on.cloud == "azure"
    assert ingest.failovers[0].cause is FailoverCause.WORKER_LOST
    import hashlib
    assert status.ingest.artifact("dataset").content_sha256 == \
        hashlib.sha256(big.read_bytes()).hexdigest()


async def test_input_store_down_mid_release_reingests_on_another_cloud(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    """The aws bucket disappears after ingest: evaluate cannot read its inputs anywhere,
    so the workflow re-ingests them onto azure and evaluates there."""
    fleet = make_fleet(tmp_path)
    aws_bucket = tmp_path / "buckets" / "aws-us-east-1"
    async with running_workers(client, fleet, ["aws/us-east-1", "azure/eastus"]):
        handle = await start(client, make_request(fleet, sample))

        async def evaluating() -> bool:  # the GPU queue has no worker: ~1.5 s window
            return (await status_of(handle)).current_stage is Stage.EVALUATE

        await wait_until(evaluating, timeout=30, interval=0.05)
        aws_bucket.rename(tmp_path / "aws-bucket-unmounted")
        status = await handle.result()
    ingests = [s for s in status.stages if s.stage is Stage.INGEST]
    assert [s.ran_on.cloud for s in ingests] == ["aws", "azure"]
    assert "re-ingested: aws/us-east-1 storage did not answer" in ingests[1].detail
    ev = stage(status, Stage.EVALUATE)
    assert ev.outcome is StageOutcome.SUCCEEDED and ev.ran_on.cloud == "azure"
    causes = [f.cause for f in ev.failovers]
    assert FailoverCause.PROVIDER_UNAVAILABLE in causes
    assert any("input store down" in f.detail for f in ev.failovers)
    assert status.ingest.artifact("dataset").bucket_uri.endswith("azure-eastus")


async def test_all_compliant_stores_down_waits_then_resumes(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path, missing=["aws/us-east-1", "azure/eastus", "onprem/gpu-01"])
    async with running_workers(client, fleet, ["aws/us-east-1", "azure/eastus"]):
        handle = await start(client, make_request(fleet, sample))

        async def waiting() -> bool:
            return (await status_of(handle)).state is ReleaseState.WAITING

        await wait_until(waiting, timeout=30)
        (tmp_path / "buckets" / "azure-eastus").mkdir(parents=True)  # the provider returns
        status = await handle.result()
    ingest = stage(status, Stage.INGEST)
    assert ingest.ran_on.cloud == "azure"
    assert {f.cause for f in ingest.failovers} >= {FailoverCause.PROVIDER_UNAVAILABLE}


async def test_reidentification_needs_the_key_and_every_use_is_in_the_ledger(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    import csv
    import json

    from click.testing import CliRunner

    from medpipe.activities.pseudonymize.activity import SealedVaultStore
    from medpipe.activities.pseudonymize.tokens import Vault
    from medpipe.activities.signing.ledger import Ledger
    from medpipe.activities.storage.base import open_store
    from medpipe.contracts.approval import ApprovalAction, Role, action_subject
    from medpipe.workers.cli_pseudo import reidentify_cmd
    from medpipe.workers.config import StackConfig
    from tests.people import make_team, rule_for, signed_roster

    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        await (await start(client, make_request(fleet, sample))).result()
    patient = next(csv.DictReader(sample["dataset"].open()))["patient_id"]
    raw = SealedVaultStore(open_store(fleet.vault_uri), fleet.keys).load()
    assert raw is not None and patient.encode() in raw  # sealed at rest, readable with the key
    vault_file = next((tmp_path / "buckets" / "vault").rglob("v*.sealed")).read_bytes()
    assert patient.encode() not in vault_file
    vault = Vault(lambda: raw, lambda _b: None)
    token = vault.tokens([patient])[0]
    assert vault.new_tokens == 0  # issued by the release, not minted here
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    args = [token, "--reason", "adverse event follow-up", "--by", "dr-who"]
    refused = CliRunner().invoke(reidentify_cmd, args, obj=cfg)  # no roster, no --confirm
    assert refused.exit_code == 2 and "--confirm" in refused.output, refused.output
    run = CliRunner().invoke(reidentify_cmd, [*args, "--confirm"], obj=cfg)
    assert run.exit_code == 0 and run.output.strip().endswith(patient), run.output
    assert "WARNING" in run.output and "no roster is configured" in run.output
    entries = [e for e in Ledger(open_store(fleet.ledger_uri)).entries()
               if e.kind == "reidentified"]
    assert len(entries) == 1 and entries[0].payload["requested_by"] == "dr-who"
    assert entries[0].payload["authorisation"].endswith("needs review")
    assert patient not in json.dumps(entries[0].payload)  # the ledger never holds the identifier
    no_reason = CliRunner().invoke(reidentify_cmd, [token, "--reason", " "], obj=cfg)
    assert no_reason.exit_code != 0 and "needs a reason" in no_reason.output
    # with a signed roster: a data steward's signed statement for this token, nothing less
    team = make_team(tmp_path / "people", "admin", "sam", "bob")
    roster = signed_roster(tmp_path / "roster.yaml", team["admin"], [
        team["sam"].person(Role.DATA_STEWARD), team["bob"].person(Role.APPROVER)])
    cfg = StackConfig(fleet=fleet.model_copy(update={"approval": rule_for(
        roster, team["admin"], required=2)}), home=str(tmp_path))
    confirm_only = CliRunner().invoke(reidentify_cmd, [*args, "--confirm"], obj=cfg)
    assert confirm_only.exit_code == 2 and "--confirm is not enough" in confirm_only.output
    statements = {}
    for who, target in (("sam", token), ("bob", token), ("sam", "pt_other")):
        name, digest = action_subject(ApprovalAction.REIDENTIFY, target)
        statements[(who, target)] = tmp_path / f"{who}-{target}.json"
        statements[(who, target)].write_text(team[who].statement(
            ApprovalAction.REIDENTIFY, release=name, model=digest).bundle)
    for key, why in (((("bob", token)), "bob lacks the role data-steward"),
                     ((("sam", "pt_other")), "sam approved another release or model")):
        run = CliRunner().invoke(reidentify_cmd, [*args, "--approval", str(statements[key])],
                                 obj=cfg)
        assert run.exit_code == 1 and why in run.output, run.output
        assert patient not in run.output
    run = CliRunner().invoke(reidentify_cmd, [*args, "--approval",
                                              str(statements[("sam", token)])], obj=cfg)
    assert run.exit_code == 0 and run.output.strip() == patient, run.output
    last = [e for e in Ledger(open_store(fleet.ledger_uri)).entries()
            if e.kind == "reidentified"][-1]
    assert last.payload["authorised_by"] == ["sam"] and last.payload["authorisation"] == "signed"

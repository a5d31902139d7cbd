"""Stage inputs are data: built from the request and the progress, set per candidate by
the runner (pure functions, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
    TimeoutType,
)

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.ingest import IngestResult
from medpipe.contracts.placement import ComputeKind, DataClass, Fleet, RanOn
from medpipe.contracts.release import FailoverCause, Stage
from medpipe.workflows.placement import StageSpec, candidates
from medpipe.workflows.progress import ReleaseProgress
from medpipe.workflows.stage_inputs import evaluate_input, ingest_input, validate_input
from medpipe.workflows.stage_runner import classify, for_candidate
from tests.support import make_fleet, make_request

EVALUATE = StageSpec(stage=Stage.EVALUATE, data_class=DataClass.PSEUDONYMIZED, wants_gpu=True)


def ref(name: str, cloud: str = "aws") -> ArtifactRef:
    return ArtifactRef(name=name, bucket_uri=f"file:///buckets/{cloud}", key=f"k/{name}",
                       sha256="a" * 64, size=1)


def ingested(cloud: str = "aws") -> IngestResult:
    return IngestResult(artifacts=(ref("model", cloud), ref("dataset", cloud)),
                        ran_on=RanOn(cloud=cloud, region="r", jurisdiction="US", host="h"))


def test_the_runner_asks_only_gpu_queues_to_insist_on_their_accelerator(
        tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet: Fleet = make_fleet(tmp_path, prefix="medpipe")
    request = make_request(fleet, sample)
    progress = ReleaseProgress()
    progress.ingested(ingested())
    inp = evaluate_input(request, progress)
    sent = {c.queue: for_candidate(inp, c) for c in candidates(EVALUATE, fleet,
                                                              request.residency)}
    gpu = [q for q in sent if q.endswith(".gpu")]
    assert gpu == ["medpipe.onprem.gpu-01.gpu"]
    for queue, value in sent.items():
        assert value.require_accelerator is (queue in gpu), queue  # type: ignore[attr-defined]
        assert value.model_copy(update={"require_accelerator": False}) == inp
    # an input without the field goes out as it is
    ingest = ingest_input(request)
    cpu = next(c for c in candidates(EVALUATE, fleet, request.residency)
               if c.kind is ComputeKind.CPU)
    assert for_candidate(ingest, cpu) is ingest


def test_inputs_follow_the_progress_after_a_re_ingest(
        tmp_path: Path, sample: dict[str, Path]) -> None:
    request = make_request(make_fleet(tmp_path), sample)
    progress = ReleaseProgress()
    progress.ingested(ingested("aws"))
    first = evaluate_input(request, progress)
    progress.ingested(ingested("azure"))  # the aws store died: inputs now on azure
    again = evaluate_input(request, progress)
    assert first.dataset.bucket_uri.endswith("/aws")
    assert again.dataset.bucket_uri.endswith("/azure")
    assert progress.inputs.cloud == "azure"


def test_a_stage_input_asked_for_too_early_is_a_clear_error(
        tmp_path: Path, sample: dict[str, Path]) -> None:
    request = make_request(make_fleet(tmp_path), sample)
    progress = ReleaseProgress()
    progress.ingested(ingested())
    with pytest.raises(RuntimeError, match="before that stage"):
        validate_input(request, progress)


def activity_error(cause: BaseException) -> ActivityError:
    error = ActivityError("activity failed", scheduled_event_id=1, started_event_id=2,
                          identity="w", activity_type="medpipe.evaluate", activity_id="1",
                          retry_state=RetryState.NON_RETRYABLE_FAILURE)
    error.__cause__ = cause
    return error


def test_classify_names_placement_failures_and_leaves_the_rest() -> None:
    cases = [
        (TimeoutError("t", type=TimeoutType.SCHEDULE_TO_START, last_heartbeat_details=[]),
         FailoverCause.NO_WORKER),
        (TimeoutError("t", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[]),
         FailoverCause.WORKER_LOST),
        (ApplicationError("s3 down", type=ErrorType.PROVIDER_UNAVAILABLE, non_retryable=True),
         FailoverCause.PROVIDER_UNAVAILABLE),
        (ApplicationError("no cuda", type=ErrorType.ACCELERATOR_UNAVAILABLE,
                          non_retryable=True), FailoverCause.ACCELERATOR_UNAVAILABLE),
        (ApplicationError("bad csv", type=ErrorType.INVALID_INPUT, non_retryable=True), None),
        (ApplicationError("blip", type=ErrorType.TRANSIENT), None),
    ]
    for cause, expected in cases:
        assert classify(activity_error(cause))[0] is expected, cause
    assert classify(activity_error(cases[2][0]))[1] == "s3 down"

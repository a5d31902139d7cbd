"""Issue 11 item 6 in a real release: each refusal names the model or column and what was
expected, fails the release at evaluate, and leaves nothing signed (the no-usable-output
case is in test_byom_release.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError

from medpipe.contracts.evaluate import EvaluationSpec, Task
from medpipe.contracts.release import ReleaseState, ReleaseStatus
from tests import byom
from tests.support import make_fleet, make_request, running_workers, start, status_of

pytestmark = pytest.mark.asyncio
LABS = tuple(byom.LABS)


async def test_each_refusal_names_model_or_column_and_nothing_is_signed(
        client: Client, tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    table, data, policy = byom.cohort(tmp_path)
    logistic = byom.save(byom.skl_logistic(table), tmp_path / "logistic.onnx")
    network = byom.save(byom.two_input_network(table), tmp_path / "net.onnx")
    cases = {  # name: (model, label, spec, error type, what the message must name)
        "missing-feature": (logistic, "diagnosis",
                            EvaluationSpec(features=(*LABS[:3], "ldl")), "DatasetMismatch",
                            ["dataset lacks column 'ldl'", "model input 'X'"]),
        "unknown-class": (logistic, "grade", EvaluationSpec(features=LABS), "DatasetMismatch",
                          ["label column 'grade' has classes model does not know",
                           "'high'", "the model's classes: 'benign', 'malignant'"]),
        "text-regression-label": (network, "grade", EvaluationSpec(
            task=Task.REGRESSION, inputs={"vitals": ("age",), "labs": LABS}),
            "DatasetMismatch", ["regression label column 'grade' is not numeric"]),
    }
    requests = {name: make_request(fleet, {"model": model, "dataset": data}, model=name,
                                   label_column=label, policy_uri=policy.as_uri(),
                                   evaluation=spec, prefer_gpu=False, deploy=False)
                for name, (model, label, spec, _, _) in cases.items()}

    async def refused(name: str) -> ReleaseStatus:
        handle = await start(client, requests[name])
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        return await status_of(handle)

    async with running_workers(client, fleet, ["aws/us-east-1"]):
        statuses = await asyncio.gather(*(refused(n) for n in cases))
    for (name, (_, _, _, error_type, named)), status in zip(cases.items(), statuses,
                                                            strict=True):
        assert status.state is ReleaseState.FAILED and status.error_type == error_type, name
        assert status.error is not None and all(n in status.error for n in named), \
            (name, status.error)
        assert status.signature is None and status.evaluation is None, name
    assert not list((tmp_path / "buckets").rglob("*.sig"))  # nothing signed

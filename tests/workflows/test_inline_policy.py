"""An inline policy reaches the pseudonymize worker: the release runs with it, not a default."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from medpipe.activities.pseudonymize.policy import inline_policy_uri
from medpipe.contracts.evaluate import EvaluationSpec
from medpipe.contracts.release import ReleaseState
from tests import byom
from tests.support import make_fleet, make_request, running_workers, start

pytestmark = pytest.mark.asyncio


async def test_release_pseudonymizes_with_the_inline_policy(client: Client,
                                                            tmp_path: Path) -> None:
    table = byom.make_table(300)
    data = byom.write_table(table, tmp_path / "cohort.csv")
    model = byom.save(byom.skl_logistic(table), tmp_path / "m.onnx")
    fleet = make_fleet(tmp_path)
    request = make_request(fleet, {"model": model, "dataset": data}, model="tumour",
                           label_column="diagnosis", policy_uri=inline_policy_uri(byom.POLICY),
                           evaluation=EvaluationSpec(features=tuple(byom.LABS),
                                                     positive_class="malignant"),
                           prefer_gpu=False, deploy=False)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        status = await (await start(client, request)).result()
    assert status.state is ReleaseState.SUCCEEDED, status.error
    report = status.pseudonymization
    assert report is not None
    # the inline policy's rules, field by field (the default policy knows none of these)
    assert report.field("zip").action.value == "generalize"
    assert report.field("patient_id").action.value == "token"
    assert report.field("radius").action.value == "keep"

"""The sample's second version is another file with the first's scores.

Tests and demos promote ``model_v2`` through a canary judged on score shift: its
scores must not differ from v1's, or a promotion turns into a rollback whenever
the sampled predictions happen to look shifted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from medpipe.workers.sample import write_sample
from tests.gateways import feature_rows


def _scores(model: Path, rows: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, {"features": rows})[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("hidden", [0, 16])
def test_v2_is_another_model_file_with_the_scores_of_v1(tmp_path: Path, hidden: int) -> None:
    paths = write_sample(tmp_path, patients=200, visits=3, hidden=hidden)
    v1, v2 = paths["model"].read_bytes(), paths["model_v2"].read_bytes()
    assert hashlib.sha256(v1).digest() != hashlib.sha256(v2).digest()
    versions = [{p.key: p.value for p in onnx.load_from_string(b).metadata_props}
                ["medpipe.version"] for b in (v1, v2)]
    assert versions == ["1", "2"]
    rows = np.array(feature_rows(paths["dataset"], limit=600), dtype=np.float32)
    np.testing.assert_array_equal(_scores(paths["model"], rows),
                                  _scores(paths["model_v2"], rows))

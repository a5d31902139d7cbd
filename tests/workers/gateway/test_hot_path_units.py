"""The per-request shortcuts on the gateway's hot path give what the general code gives:
the small-tensor finiteness check, one-score prediction binning, the direct
onnxruntime run on CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medpipe.workers.gateway.metrics import SlotStats
from medpipe.workers.gateway.oip import first_scores
from medpipe.workers.gateway.predictions import Predictions
from medpipe.workers.gateway.tensors import all_finite
from tests.workers.gateway.conftest import FEATURES, Models, unsigned_loader


@pytest.mark.parametrize("size", [1, 5, 32, 33, 1000])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_all_finite_agrees_with_numpy_at_every_size(size: int, dtype: type) -> None:
    rng = np.random.default_rng(size)
    base = rng.normal(0, 100, size).astype(dtype)
    assert all_finite(base) and all_finite(base.reshape(1, -1))
    for bad in (np.nan, np.inf, -np.inf):
        for where in {0, size // 2, size - 1}:
            a = base.copy()
            a[where] = bad
            assert all_finite(a) is bool(np.isfinite(a).all()) is False


@pytest.mark.parametrize("value", [0.0, 0.42, 0.999, 1.0, -3.0, 7.5, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("shape", [(1,), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_score_is_binned_as_the_array_path_bins_it(value: float, shape: tuple[int, ...],
                                                       dtype: type) -> None:
    out = np.full(shape, value, dtype=dtype)
    shortcut, general = SlotStats(), SlotStats()
    shortcut.observe(0.001, Predictions(out))
    general._scores(first_scores(out))  # the general path, as before the shortcut
    assert shortcut.prediction_counts.tolist() == general.prediction_counts.tolist()
    assert shortcut.prediction_sum == general.prediction_sum
    assert shortcut.w_predictions.tolist() == general.w_predictions.tolist()


def test_a_cpu_session_runs_directly_with_the_wrappers_answers(tmp_path: Path,
                                                               models: Models) -> None:
    from medpipe.contracts.deploy import LoadModelRequest

    loader = unsigned_loader(tmp_path, models, providers=["CPUExecutionProvider"])
    model = loader.load(LoadModelRequest.model_validate(models.stable.request()))
    assert model._direct_run is not None  # type: ignore[attr-defined]
    feeds = {"features": np.arange(3 * FEATURES, dtype=np.float32).reshape(3, FEATURES)}
    want = model.session.run(None, feeds)
    for names in (None, ["probability"]):
        got = model.run(names, feeds)
        assert len(got) == len(want) and all(np.array_equal(g, w) for g, w in zip(got, want,
                                                                               strict=True))
    with pytest.raises(Exception) as wrapped:
        model.session.run(None, {"features": np.zeros((1, 3), np.float32)})
    with pytest.raises(Exception) as direct:
        model.run(None, {"features": np.zeros((1, 3), np.float32)})
    assert type(direct.value).__name__ == type(wrapped.value).__name__

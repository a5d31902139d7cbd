"""The per-request shortcuts on the gateway's hot path give what the general code gives:
the small-tensor finiteness check, one-score prediction binning, the direct
onnxruntime run on CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medpipe.activities.scores import first_scores
from medpipe.workers.gateway.metrics import SlotStats
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


def _spec() -> dict[str, object]:
    from medpipe.workers.gateway.tensors import InputSpec

    return {"features": InputSpec("features", "FP32", np.dtype(np.float32), (None, FEATURES))}


@pytest.mark.parametrize("shape", [[1, -1], [1, 2.0], [1, True], "1,4", [1, None], [1, "4"]])
def test_a_shape_that_is_not_non_negative_integers_is_refused(shape: object) -> None:
    from medpipe.contracts.errors import InvalidInput
    from medpipe.workers.gateway.oip import decode_request

    doc = {"inputs": [{"name": "features", "shape": shape, "datatype": "FP32",
                       "data": [1.0] * FEATURES}]}
    with pytest.raises(InvalidInput, match="input 'features': 'shape' must be a list of "
                                           "non-negative integers"):
        decode_request(doc, None, _spec(), ["probability"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("where", "expected"), [
    ("request", "request 'parameters'"), ("input", "input 'features' 'parameters'"),
    ("output", "output 'probability' 'parameters'")])
@pytest.mark.parametrize("bad", [{"a": [1]}, {"a": {"b": 1}}, {"a": None}, [1]])
def test_parameters_that_are_not_scalars_are_refused_naming_where(where: str, expected: str,
                                                                   bad: object) -> None:
    from medpipe.contracts.errors import InvalidInput
    from medpipe.workers.gateway.oip import decode_request

    item: dict[str, object] = {"name": "features", "shape": [1, FEATURES], "datatype": "FP32",
                               "data": [1.0] * FEATURES}
    doc: dict[str, object] = {"inputs": [item]}
    if where == "request":
        doc["parameters"] = bad
    elif where == "input":
        item["parameters"] = bad
    else:
        doc["outputs"] = [{"name": "probability", "parameters": bad}]
    with pytest.raises(InvalidInput) as e:
        decode_request(doc, None, _spec(), ["probability"])  # type: ignore[arg-type]
    assert e.value.message == (f"{expected} must be an object of booleans, numbers or "
                               "strings")
    ok = {"a": 1, "b": "x", "c": True, "d": 0.5}
    doc_ok: dict[str, object] = {"inputs": [dict(item, parameters=ok)], "parameters": ok}
    decode_request(doc_ok, None, _spec(), ["probability"])  # type: ignore[arg-type]

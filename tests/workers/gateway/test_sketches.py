"""Gateway sketches: small requests (bisect) and large batches (searchsorted) count
alike, NaN included, as the reference profile was counted; windows reset; the
Prometheus series appear, and are left out beyond the cardinality cap."""

from __future__ import annotations

import httpx
import numpy as np
from prometheus_client import CollectorRegistry, generate_latest

from medpipe.activities.model_inputs import InputBinding
from medpipe.activities.model_io import TensorInfo
from medpipe.activities.profile import ProfileBuilder
from medpipe.contracts.drift import GatewaySketches
from medpipe.contracts.profile import FeatureKind, FeatureProfile, ReferenceProfile
from medpipe.workers.gateway import sketches
from medpipe.workers.gateway.sketches import Sketch, SketchBook, SketchCollector
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body


def _profile() -> ReferenceProfile:
    rng = np.random.default_rng(0)
    builder = ProfileBuilder([InputBinding(TensorInfo("x", "tensor(float)", (None, 3)),
                                           ("a", "b", "c"))])
    x = rng.normal(size=(2000, 3))
    x[:5, 0] = np.nan
    builder.add({"x": x}, rng.uniform(size=(2000, 2)))
    return builder.profile()


def test_row_by_row_and_batch_counting_agree_with_the_reference_bins() -> None:
    profile = _profile()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    x[::17, 0] = np.nan
    scores = rng.uniform(size=300)
    one, batch = Sketch("1", profile), Sketch("1", profile)
    for i in range(300):
        one.observe({"x": x[i:i + 1]}, scores[i:i + 1])
    batch.observe({"x": x}, scores)
    assert one.read() == batch.read().model_copy(update={"window_started_at":
                                                         one.read().window_started_at})
    assert one.read().features["a"][-1] >= 300 // 17  # NaN counted in the last bin
    assert sum(one.read().predictions) == 300 and one.read().rows == 300
    assert profile.features[0].counts[-1] >= 5  # as the profile counted its NaN


def test_reading_with_reset_starts_a_new_window_but_keeps_the_totals() -> None:
    sketch = Sketch("1", _profile())
    sketch.observe({"x": np.zeros((4, 3), dtype=np.float32)}, None)
    first = sketch.read(reset=True)
    assert first.rows == 4 and sum(first.features["b"]) == 4
    assert sketch.read().rows == 0 and sum(sketch.read().features["b"]) == 0
    assert sum(sketch.counters[1].total) == 4


def test_a_model_without_a_profile_has_no_sketch_and_others_follow_the_model() -> None:
    book = SketchBook()
    profile = _profile()
    assert book.get("1", "d" * 64, None) is None
    s = book.get("1", "d" * 64, profile)
    assert s is not None and book.get("1", "d" * 64, profile) is s
    book.keep(set())
    assert book.get("1", "d" * 64, profile) is not s


def test_prometheus_series_per_slot_feature_and_bin_within_the_cap(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sketch = Sketch("1", _profile())
    sketch.observe({"x": np.zeros((2, 3), dtype=np.float32)}, None)
    registry = CollectorRegistry()
    registry.register(SketchCollector(lambda: {"stable": sketch, "canary": None}))
    text = generate_latest(registry).decode()
    zero_bin = int(np.searchsorted(sketch.counters[0].edges, 0.0, side="right"))
    line = f'medpipe_gateway_feature_rows_total{{bin="{zero_bin}",feature="a",slot="stable"}} 2.0'
    assert line in text, text
    monkeypatch.setattr(sketches, "MAX_PROMETHEUS_SERIES", 5)
    assert 'feature="a"' not in generate_latest(registry).decode()


def test_categorical_features_count_unknown_values_as_other() -> None:
    profile = ReferenceProfile(rows=3, features=(FeatureProfile(
        name="site", tensor="site", kind=FeatureKind.CATEGORICAL, categories=("A", "B"),
        counts=(1, 1, 1)),))
    sketch = Sketch("1", profile)
    sketch.observe({"site": np.array(["A", "Z", "B", "A"] * 5, dtype=object)}, None)
    sketch.observe({"site": np.array(["Q"], dtype=object)}, None)
    assert sketch.read().features["site"] == [10, 5, 6]


def _four_feature_profile() -> ReferenceProfile:
    return ReferenceProfile(rows=8, features=tuple(
        FeatureProfile(name=f"f{i}", tensor="features", column=i, kind=FeatureKind.NUMERIC,
                       edges=(0.0, 1.0), counts=(2, 3, 3)) for i in range(4)),
        prediction_counts=(1,) * 20)


def test_over_http_sketches_count_served_rows_and_take_label_feedback(
        admin: httpx.Client, public: httpx.Client, models: Models) -> None:
    r = admin.post("/admin/models", json=models.stable.request(
        profile=_four_feature_profile().model_dump(mode="json")))
    assert r.status_code == 200, r.text
    for i, row in enumerate([[-1.0, 0.5, 2.0, 0.5], [0.5, 0.5, 0.5, 3.0], [2.0, 2.0, -5, 0]]):
        body = infer_body([row])
        body["id"] = f"req-{i}"
        assert public.post(f"/v2/models/{MODEL_NAME}/infer", json=body).status_code == 200
    window = GatewaySketches.model_validate(admin.get("/admin/sketches").json()).stable
    assert window is not None and window.rows == 3 and window.version == models.stable.version
    assert window.features["f0"] == [1, 1, 1] and window.features["f2"] == [1, 1, 1]
    assert sum(window.predictions) == 3

    assert admin.post("/admin/feedback", json={"request_id": "req-0",
                                               "outcome": True}).status_code == 204
    assert admin.post("/admin/feedback", json={"request_id": "req-2",
                                               "outcome": False}).status_code == 204
    again = admin.post("/admin/feedback", json={"request_id": "req-0", "outcome": True})
    assert again.status_code == 400 and "already reported" in again.json()["error"]
    assert admin.post("/admin/feedback", json={"request_id": "req-0"}).status_code == 422

    read = GatewaySketches.model_validate(admin.post("/admin/sketches/reset").json()).stable
    assert read is not None and sum(read.labelled_positive) == 1
    assert sum(read.labelled_negative) == 1
    after = GatewaySketches.model_validate(admin.get("/admin/sketches").json()).stable
    assert after is not None and after.rows == 0 and sum(after.labelled_positive) == 0
    assert 'medpipe_gateway_feature_rows_total{bin="0",feature="f0",slot="stable"} 1.0' \
        in public.get("/metrics").text


def test_a_model_loaded_without_a_profile_is_not_sketched(
        admin: httpx.Client, public: httpx.Client, models: Models) -> None:
    assert admin.post("/admin/models", json=models.stable.request()).status_code == 200
    assert public.post(f"/v2/models/{MODEL_NAME}/infer",
                       json=infer_body([[0.0] * 4])).status_code == 200
    assert admin.get("/admin/sketches").json() == {"stable": None, "canary": None}
    r = admin.post("/admin/feedback", json={"request_id": "req-1", "outcome": True})
    assert r.status_code == 400 and "reference profile" in r.json()["error"]

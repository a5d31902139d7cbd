"""``medpipe spec init`` and ``medpipe release --spec``: drafts, flags over the file, refusals.

Every refusal here happens before a workflow starts: the Temporal address is
a closed port, so reaching it would print "cannot reach Temporal" instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medpipe.activities.pseudonymize.policy import parse_policy
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.spec import parse_spec
from medpipe.workers.devserver import free_port
from tests import byom
from tests.workers.test_cli import medpipe


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("byom")
    table = byom.make_table(300).rename_columns(
        ["patient_id", "zip", "age", "radius", "mean_texture", "smoothness", "concavity",
         "diagnosis", "malignant", "grade", "size_mm", "split"])
    return {"root": root, "data": byom.write_table(table, root / "cohort.parquet"),
            "csv": byom.write_table(table, root / "cohort.csv"),
            "model": byom.save(byom.skl_logistic(byom.make_table(300)), root / "model.onnx"),
            "net": byom.save(byom.two_input_network(byom.make_table(300)), root / "net.onnx"),
            "tree": byom.save(byom.label_only(byom.make_table(300)), root / "tree.onnx")}


NOWHERE = ("--address", "127.0.0.1:1")


def write_spec(root: Path, name: str, **fields: object) -> Path:
    path = root / name
    path.write_text(yaml.safe_dump(fields))
    return path


def test_spec_init_drafts_features_by_type_and_a_consistent_policy(
        files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "release.yaml"
    r = medpipe("spec", "init", str(files["model"]), str(files["data"]), "--label",
                "diagnosis", "-o", str(out))
    assert r.returncode == 0, r.stderr
    spec = parse_spec(out.read_text())
    policy = parse_policy((tmp_path / "policy.yaml").read_text())
    assert spec.task.value == "binary" and spec.label == "diagnosis"
    assert spec.positive_class == "malignant" and spec.score_output == "output_probability"
    # by type: numeric mean_texture is a feature; identifiers, ZIP, text never are
    assert "mean_texture" in spec.features and "age" in spec.features
    assert not {"patient_id", "zip", "diagnosis", "split"} & set(spec.features)
    # the drafted spec and policy are checked against each other: every feature is either
    # kept/generalized by the policy, or the draft says which one is not
    bad = [f for f in spec.features if policy.fields[f].action.value not in
           ("keep", "generalize")]
    for f in bad:
        assert f"'{f}'" in out.read_text() and "review" in r.stdout
    assert spec.model and Path(spec.model).name == "model.onnx"


def test_spec_init_refuses_to_overwrite(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "release.yaml").write_text("x")
    r = medpipe("spec", "init", str(files["model"]), str(files["data"]), "--label",
                "diagnosis", "-o", str(tmp_path / "release.yaml"))
    assert r.returncode == 2 and "exists" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "release.yaml").read_text() == "x"


@pytest.mark.parametrize("fields,expected", [
    ({"task": "ordinal"}, "field 'task': Input should be 'binary', 'multiclass' or "
                          "'regression'"),
    ({"thresholds": {"min_auroc": 1.5}}, "field 'thresholds.min_auroc': Input should be less "
                                         "than or equal to 1"),
    ({"featurs": ["a"]}, "field 'featurs': Extra inputs are not permitted"),
    ({"task": "regression", "positive_class": "x"}, "positive_class applies to binary tasks"),
    ({"fallback": {"kind": "model"}}, "field 'fallback': a 'model' fallback needs a model"),
])
def test_bad_spec_fields_are_refused_naming_field_and_reason(
        files: dict[str, Path], fields: dict[str, object], expected: str) -> None:
    spec = write_spec(files["root"], "bad.yaml", model="model.onnx", data="cohort.parquet",
                      **fields)
    r = medpipe(*NOWHERE, "release", "--spec", str(spec))
    assert r.returncode == 2 and expected in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "cannot reach Temporal" not in r.stderr


@pytest.mark.parametrize("fields,flags,expected", [
    ({"label": "diagnosis", "features": ["radius", "mean_texture", "smoothness", "missing"]},
     (), "dataset lacks column 'missing'"),
    ({"label": "diagnosis"}, ("--model", "tree.onnx"),
     "no output usable for a binary task; expected class probabilities"),
    ({"label": "grade", "task": "regression", "inputs": {"vitals": ["age"],
                                                         "labs": ["radius"]}},
     ("--model", "net.onnx"), "regression label column 'grade' is not numeric"),
    ({"label": "nope"}, (), "has no label column 'nope'"),
])
def test_spec_that_cannot_work_is_refused_before_the_workflow(
        files: dict[str, Path], fields: dict[str, object], flags: tuple[str, ...],
        expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files["root"])
    spec = write_spec(files["root"], "s.yaml", model="model.onnx", data="cohort.parquet",
                      **fields)
    r = medpipe(*NOWHERE, "release", "--spec", str(spec), *flags)
    assert r.returncode == 2 and expected in r.stderr, r.stderr
    assert "cannot reach Temporal" not in r.stderr


def test_a_good_spec_gets_as_far_as_temporal_and_flags_win(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files["root"])
    spec = write_spec(files["root"], "ok.yaml", model="model.onnx", data="cohort.csv",
                      label="diagnosis", features=["radius", "mean_texture", "smoothness",
                                                   "missing"])
    # the file's features name a missing column; the flag replaces them
    r = medpipe("--address", f"127.0.0.1:{free_port()}", "release", "--spec", str(spec),
                "--features", "radius,mean_texture,smoothness,concavity",
                "--positive-class", "malignant")
    assert r.returncode == 3 and "cannot reach Temporal" in r.stderr, r.stderr


def test_policy_removing_a_feature_is_refused(files: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files["root"])
    policy = files["root"] / "strict.yaml"
    policy.write_text(byom.POLICY.replace("texture: {action: keep}",
                                          "mean_texture: {action: scrub}"))
    spec = write_spec(files["root"], "p.yaml", model="model.onnx", data="cohort.csv",
                      label="diagnosis", policy="strict.yaml",
                      features=["radius", "mean_texture", "smoothness", "concavity"])
    r = medpipe(*NOWHERE, "release", "--spec", str(spec))
    assert r.returncode == 2 and "'mean_texture' (scrub)" in r.stderr, r.stderr


def test_a_spec_declares_the_model_s_fallback() -> None:
    spec = parse_spec(yaml.safe_dump({"fallback": {
        "kind": "rule", "breaker": {"open_s": 30, "primary_timeout_s": 0.2},
        "rule": {"name": "refer-to-clinician",
                 "outputs": [{"name": "probability", "datatype": "FP32", "value": [1.0]}]}}}))
    assert spec.fallback is not None and spec.fallback.kind == "rule"
    assert spec.fallback.breaker.primary_timeout_s == 0.2
    assert parse_spec("model: m.onnx").fallback is None  # each gateway's own (previous)


def test_purpose_and_retention_reach_the_release_request(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medpipe.activities.chunkio import file_sha256
    from medpipe.workers.cli_spec import _overrides, build_request
    from medpipe.workers.config import StackConfig
    from tests.support import make_fleet

    monkeypatch.chdir(files["root"])
    text = yaml.safe_dump({"model": "model.onnx", "data": "cohort.csv", "label": "diagnosis",
                           "features": ["radius", "mean_texture", "smoothness", "concavity"],
                           "positive_class": "malignant",
                           "purpose": "triage of breast biopsies", "retention": "2 years"})
    spec = parse_spec(text, "spec", _overrides({"retention": "10 years after last use"}))
    request = build_request(StackConfig(fleet=make_fleet(tmp_path)), spec, file_sha256)
    assert request.purpose == "triage of breast biopsies"  # from the file
    assert request.retention == "10 years after last use"  # the flag wins


def test_fanout_threshold_reaches_the_release_request(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medpipe.activities.chunkio import file_sha256
    from medpipe.workers.cli_spec import build_request
    from medpipe.workers.config import StackConfig
    from tests.support import make_fleet

    monkeypatch.chdir(files["root"])
    text = yaml.safe_dump({"model": "model.onnx", "data": "cohort.csv", "label": "diagnosis",
                           "features": ["radius", "mean_texture", "smoothness", "concavity"],
                           "positive_class": "malignant",
                           "fanout": {"min_bytes": 1 << 20, "shards_per_worker": 2}})
    request = build_request(StackConfig(fleet=make_fleet(tmp_path)), parse_spec(text),
                            file_sha256)
    assert request.fanout.min_bytes == 1 << 20 and request.fanout.shards_per_worker == 2
    assert parse_spec("model: m.onnx").fanout.min_bytes == 256 << 20  # the default
    with pytest.raises(InvalidInput, match=r"fanout\.min_bytes"):
        parse_spec(yaml.safe_dump({"fanout": {"min_bytes": -1}}))
    with pytest.raises(InvalidInput, match=r"fanout\.shards"):
        parse_spec(yaml.safe_dump({"fanout": {"shards": 4}}))  # unknown field

"""``medpipe release`` options and ``medpipe spec init``: a release spec file, and flags over it.

Every field of the spec (``contracts/spec.py``) is also a flag; a flag wins
over the file. The spec is checked against the local model and dataset
(``activities/spec_check``) before any workflow starts, so a bad spec is
refused naming the field and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from medpipe.contracts.canary import CanaryPlan
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.placement import ResidencyPolicy
from medpipe.contracts.pseudonymize import Policy
from medpipe.contracts.release import ReleaseRequest
from medpipe.contracts.spec import ReleaseSpec, parse_spec
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_options import output_path_option
from medpipe.workers.config import StackConfig
from medpipe.workers.who import current_user

F = TypeVar("F", bound=Callable[..., Any])

_THRESHOLDS = ("min_auroc", "max_calibration_error", "max_auroc_drop", "min_accuracy",
               "max_mae", "max_rmse", "min_r2", "max_rmse_increase")
_OPTIONS = [
    click.option("--spec", "spec_path", default=None, help="Release spec (YAML); flags win."),
    click.option("--model", "model", default=None, help="ONNX model (path or URI)."),
    click.option("--data", "data", default=None, help="Dataset, CSV or Parquet (path or URI)."),
    click.option("--policy", "policy", default=None, help="Pseudonymization policy (YAML)."),
    click.option("--name", default=None, help="Model name (default: the model file's stem)."),
    click.option("--version", "version", default=None,
                 help="Model version (default: first 12 hex digits of the model's SHA-256)."),
    click.option("--allow", "allow", multiple=True,
                 help="Jurisdiction allowed for identifiable data (repeatable; default US)."),
    click.option("--label", "label", default=None, help="Label column (default: label)."),
    click.option("--task", type=click.Choice(["binary", "multiclass", "regression"]),
                 default=None, help="What the model predicts (default: binary)."),
    click.option("--features", default=None,
                 help="Comma-separated feature columns, in the model input's order."),
    click.option("--input", "inputs", multiple=True,
                 help="NAME=col1,col2: columns feeding model input NAME (repeatable)."),
    click.option("--positive-class", default=None, help="Label value counted as positive."),
    click.option("--score-output", default=None,
                 help="Model output holding probabilities/values (default: recognised)."),
    *[click.option(f"--{t.replace('_', '-')}", t, type=float, default=None) for t in _THRESHOLDS],
    click.option("--canary-steps", default=None, help="Canary weights in percent, e.g. 5,25,100."),
    click.option("--canary-bake", type=float, default=None,
                 help="Seconds each canary step serves traffic before it is analysed."),
    click.option("--no-deploy", is_flag=True, default=None,
                 help="Stop after the model gate (no canary)."),
    click.option("--purpose", default=None,
                 help="Why the data is processed (quoted by the DPIA record)."),
    click.option("--retention", default=None,
                 help="How long the release's artifacts are kept (quoted by the DPIA record)."),
]


def release_options(fn: F) -> F:
    """Add every spec field as a ``medpipe release`` option."""
    for option in reversed(_OPTIONS):
        fn = option(fn)
    return fn


def _overrides(opts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: opts[k] for k in ("model", "data", "policy", "name", "version",
                                                "label", "task", "positive_class",
                                                "score_output", "purpose", "retention")
                           if opts.get(k) is not None}
    if opts.get("allow"):
        out["allow"] = tuple(opts["allow"])
    if opts.get("features"):
        out["features"] = tuple(c.strip() for c in opts["features"].split(",") if c.strip())
    if opts.get("inputs"):
        inputs = {}
        for item in opts["inputs"]:
            name, sep, cols = item.partition("=")
            if not sep or not name:
                raise InvalidInput(f"--input {item!r}: expected NAME=col1,col2")
            inputs[name] = tuple(c.strip() for c in cols.split(",") if c.strip())
        out["inputs"] = inputs
    thresholds = {t: opts[t] for t in _THRESHOLDS if opts.get(t) is not None}
    if thresholds:
        out["thresholds"] = thresholds
    canary: dict[str, Any] = {}
    if opts.get("canary_steps"):
        try:
            canary["steps"] = tuple(int(x) for x in opts["canary_steps"].split(",") if x.strip())
        except ValueError:
            raise InvalidInput("--canary-steps: expected integers, e.g. 5,25,50,100") from None
    if opts.get("canary_bake") is not None:
        canary["bake_s"] = opts["canary_bake"]
    if canary:
        out["canary"] = canary
    if opts.get("no_deploy"):
        out["deploy"] = False
    return out


def load_spec(spec_path: str | None, opts: dict[str, Any]) -> ReleaseSpec:
    """The spec file (paths made relative to it) with the flags applied on top."""
    text, source, base = "", "flags", Path.cwd()
    if spec_path:
        path = Path(spec_path)
        if not path.is_file():
            raise InvalidInput(f"release spec {spec_path} does not exist")
        text, source, base = path.read_text(encoding="utf-8"), str(path), path.parent
    spec = parse_spec(text, source, _overrides(opts))
    files = {}
    for key in ("model", "data", "policy"):
        value = getattr(spec, key)
        if isinstance(value, str) and value and "://" not in value \
                and key not in _overrides(opts):
            files[key] = str((base / value).resolve())
    return spec.model_copy(update=files)


def _local(uri: str | None, what: str) -> Path | None:
    if uri is None or ("://" in uri and not uri.startswith("file://")):
        return None
    from medpipe.activities.sources import local_path  # its TLS settings: only when used

    path = local_path(uri if "://" in uri else str(Path(uri).resolve()))
    if not path.is_file():
        raise InvalidInput(f"{what} {uri} does not exist or is not a file")
    return path


def _policy(value: str | dict[str, Any] | None) -> tuple[str | None, Policy | None]:
    """The policy's URI for the request and the parsed policy (to check the data against).

    A path is read here to check it; an inline mapping is checked and sent as a
    ``data:`` URI (see ``activities.pseudonymize.policy``).
    """
    from medpipe.activities.pseudonymize.policy import inline_policy_uri, parse_policy

    if value is None:
        return None, None
    if isinstance(value, dict):
        text = yaml.safe_dump(value, sort_keys=False)
        source = "release spec field 'policy' (inline)"
        return inline_policy_uri(text, source), parse_policy(text, source)
    path = _local(value, "policy")
    uri = value if "://" in value else Path(value).resolve().as_uri()
    return uri, parse_policy(path.read_text(encoding="utf-8"), str(path)) if path else None


def build_request(cfg: StackConfig, spec: ReleaseSpec,
                  digest: Callable[[Path], str]) -> ReleaseRequest:
    """The workflow's request, after checking the spec against the local model and data.

    Raises:
        InvalidInput / InvalidModel / DatasetMismatch: the field or column and why.
    """
    from medpipe.activities.spec_check import check_spec

    if not spec.model:
        raise InvalidInput("no model: give --model or model: in the release spec")
    if not spec.data:
        raise InvalidInput("no dataset: give --data or data: in the release spec")
    model, data = _local(spec.model, "model"), _local(spec.data, "dataset")
    policy_uri, policy = _policy(spec.policy)
    if model is not None:
        check_spec(model, data, spec.evaluation(), spec.label, policy)
    name = spec.name or (model.stem if model else "model").lower().replace("_", "-")
    version = spec.version or (digest(model)[:12] if model else "latest")

    def uri(v: str) -> str:
        return v if "://" in v else Path(v).resolve().as_uri()

    try:
        return ReleaseRequest(
            model=name, version=version, model_uri=uri(spec.model), data_uri=uri(spec.data),
            policy_uri=policy_uri, label_column=spec.label,
            residency=ResidencyPolicy(allowed_jurisdictions=spec.allow),
            thresholds=spec.thresholds, evaluation=spec.evaluation(),
            requested_by=current_user(), fleet=cfg.fleet, deploy=spec.deploy,
            canary=CanaryPlan.model_validate(spec.canary.model_dump()), fallback=spec.fallback,
            purpose=spec.purpose.strip(), retention=spec.retention.strip(),
            drift=spec.drift, fanout=spec.fanout)
    except ValueError as e:
        raise InvalidInput(f"invalid release request: {str(e)[:300]}") from e


@click.group("spec")
def spec_group() -> None:
    """Release specs: what the model is, which columns it reads, how it is gated."""


@spec_group.command("init")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", default=None, help="Label column (default: guessed by name).")
@output_path_option("out", type=click.Path(path_type=Path), default=Path("release.yaml"),
                    show_default=True, help="Where to write the spec.")
@click.option("--policy-out", type=click.Path(path_type=Path), default=None,
              help="Where to write the drafted policy (default: policy.yaml next to the spec).")
@clear_errors
def spec_init(model: Path, data: Path, label: str | None, out: Path,
              policy_out: Path | None) -> None:
    """Draft a release spec and its pseudonymization policy from MODEL and DATA."""
    from medpipe.activities.spec_draft import draft_spec

    policy_out = policy_out or out.parent / "policy.yaml"
    for target in (out, policy_out):
        if target.exists():
            raise InvalidInput(f"{target} exists; remove it or choose another path")
    spec_text, policy_text, review = draft_spec(
        model.resolve(), data.resolve(), label, policy_name=str(policy_out.resolve()))
    policy_out.write_text(policy_text, encoding="utf-8")
    out.write_text(spec_text, encoding="utf-8")
    click.echo(f"wrote {out} and {policy_out}")
    for r in review:
        click.echo(f"review: {r}")

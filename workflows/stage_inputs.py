"""Each stage's activity input, built as data from the request and the progress.

Pure functions with one signature, ``(request, progress) -> input``: the
workflow calls them again after a re-ingest (the inputs then sit elsewhere),
and the stage runner adds the only candidate-dependent bit
(``require_accelerator``) itself.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from medpipe.contracts.evaluate import EvaluateInput
from medpipe.contracts.ingest import IngestInput, SourceSpec
from medpipe.contracts.provenance import StagePlacement
from medpipe.contracts.pseudonymize import PseudonymizeInput
from medpipe.contracts.release import ReleaseRequest
from medpipe.contracts.sign import SignInput
from medpipe.contracts.validate import ValidateInput
from medpipe.workflows.progress import ReleaseProgress

#: How a stage that reads the stored inputs builds its activity input.
InputBuilder = Callable[[ReleaseRequest, ReleaseProgress], BaseModel]


def ingest_input(request: ReleaseRequest) -> IngestInput:
    """Fetch the model and the dataset named in the request."""
    return IngestInput(release_id=request.release_id, keys=request.fleet.keys, sources=(
        SourceSpec(name="model", uri=request.model_uri),
        SourceSpec(name="dataset", uri=request.data_uri)))


def pseudonymize_input(request: ReleaseRequest, progress: ReleaseProgress) -> PseudonymizeInput:
    """Pseudonymize the raw dataset (the vault is checked by the workflow first)."""
    fleet = request.fleet
    return PseudonymizeInput(
        release_id=request.release_id, dataset=progress.inputs.raw_dataset,
        policy_uri=request.policy_uri, keys=fleet.keys, vault_uri=fleet.vault_uri)


def validate_input(request: ReleaseRequest, progress: ReleaseProgress) -> ValidateInput:
    """Validate the pseudonymized dataset against expectations and identifier digests."""
    return ValidateInput(release_id=request.release_id, dataset=progress.inputs.dataset,
                         identifier_digests=progress.pseudonymized.identifier_digests)


def evaluate_input(request: ReleaseRequest, progress: ReleaseProgress) -> EvaluateInput:
    """Score the candidate (and the in-service baseline, if any) on the dataset."""
    p = progress.inputs
    return EvaluateInput(release_id=request.release_id, model=p.model, dataset=p.dataset,
                         label_column=request.label_column, spec=request.evaluation,
                         baseline=progress.baseline, keys=request.fleet.keys)


def sign_input(request: ReleaseRequest, progress: ReleaseProgress) -> SignInput:
    """Sign the model and the provenance of everything the release did so far."""
    p, pseudo = progress.inputs, progress.pseudonymized
    assert progress.evaluation is not None
    stages = tuple(sp for r in progress.stages
                   if (sp := StagePlacement.from_stage_result(r)) is not None)
    return SignInput(
        release_id=request.release_id, model_name=request.model,
        version=request.version, model=p.model, keys=request.fleet.keys,
        request=request.model_dump(mode="json", exclude={"fleet"}),
        datasets=(p.raw_dataset, p.dataset), policy_sha256=pseudo.policy_sha256,
        reports=tuple(progress.reports),
        metrics=progress.evaluation.metrics.figures(),
        stages=stages, ledger_uri=request.fleet.ledger_uri,
        ledger_checkpoint_uri=request.fleet.ledger_checkpoint_uri)

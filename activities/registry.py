"""Registry activities: read and advance the model in service.

Stored as numbered, write-once JSON objects ``registry/<model>/<seq>.json``
in the deployment's registry bucket; ``create_if_absent`` on the next number
makes concurrent promotions safe (one wins, the other retries on top).
"""

from __future__ import annotations

from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.contracts.errors import InvalidInput, Transient
from medpipe.contracts.names import ActivityName
from medpipe.contracts.registry import (
    InServiceModel,
    LookupInServiceInput,
    LookupInServiceResult,
    RecordInServiceInput,
    RecordInServiceResult,
)

SEQ_WIDTH = 8


def _prefix(model: str) -> str:
    return f"registry/{model}/"


def latest_entry(store: ObjectStore, model: str) -> InServiceModel | None:
    """The newest entry of ``model`` (None if it was never in service)."""
    keys = [i.key for i in store.list(_prefix(model)) if i.key.endswith(".json")]
    if not keys:
        return None
    data = b"".join(store.get(max(keys)))
    return InServiceModel.model_validate_json(data)


def record_entry(store: ObjectStore, entry: InServiceModel, attempts: int = 20) -> InServiceModel:
    """Append ``entry`` as the new model in service (no-op if it already is)."""
    for _ in range(attempts):
        current = latest_entry(store, entry.model)
        if current is not None and current.release_id == entry.release_id \
                and current.artifact.sha256 == entry.artifact.sha256:
            return current
        seq = (current.sequence + 1) if current else 1
        new = entry.model_copy(update={"sequence": seq})
        key = f"{_prefix(entry.model)}{seq:0{SEQ_WIDTH}d}.json"
        if store.create_if_absent(key, new.model_dump_json().encode()):
            return new
    raise Transient(f"registry of {entry.model} is contended; will retry")


class RegistryActivities:
    """Registry activities (any worker may run them: no patient data involved)."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.REGISTRY_LOOKUP)
    @translate_errors
    def lookup(self, inp: LookupInServiceInput) -> LookupInServiceResult:
        """The model in service for ``inp.model``."""
        if not inp.registry_uri:
            return LookupInServiceResult(current=None, ran_on=self.ctx.ran_on())
        return LookupInServiceResult(current=latest_entry(open_store(inp.registry_uri),
                                                          inp.model),
                                     ran_on=self.ctx.ran_on())

    @activity.defn(name=ActivityName.REGISTRY_RECORD)
    @translate_errors
    def record(self, inp: RecordInServiceInput) -> RecordInServiceResult:
        """Put ``inp.entry`` in service."""
        if not inp.registry_uri:
            raise InvalidInput("the fleet configuration names no registry bucket")
        entry = record_entry(open_store(inp.registry_uri), inp.entry)
        return RecordInServiceResult(entry=entry, ran_on=self.ctx.ran_on())

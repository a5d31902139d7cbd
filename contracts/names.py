"""Every Temporal name medpipe registers or calls, defined once.

Workflows, activities, the CLI, benchmarks and tests refer to workflows,
activities, queries, signals, updates and search attributes through these
constants, never through string literals: a name is part of the wire
contract (and of every recorded history), so a typo at a call site must be
an import error, not a workflow that silently never answers.
``tests/test_names.py`` fails on a string literal at any such call site.

Search attributes are never encrypted: only names, versions, stage names,
clouds and states go there, never patient data.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio.common import SearchAttributeKey

__all__ = [
    "SEARCH_ATTRIBUTE_TYPES",
    "ActivityName",
    "QueryName",
    "SearchAttr",
    "SignalName",
    "UpdateName",
    "WorkflowName",
]


class WorkflowName(StrEnum):
    """Registered workflow types (``@workflow.defn(name=...)``)."""

    RELEASE = "ReleaseWorkflow"
    CANARY = "CanaryWorkflow"
    CHAOS_EXERCISE = "ChaosExerciseWorkflow"
    DRIFT = "DriftMonitorWorkflow"


class ActivityName(StrEnum):
    """Registered activity names (workflows call activities by name, never by import)."""

    INGEST = "medpipe.ingest"
    #: local: which compliant queues have workers, and how many releases run on each
    PLACEMENT_PROBE = "medpipe.placement.probe"
    PSEUDONYMIZE = "medpipe.pseudonymize"
    #: a fanned-out pseudonymize (``contracts.fanout``): first pass, one shard, merge
    PSEUDONYMIZE_LEARN = "medpipe.pseudonymize.learn"
    PSEUDONYMIZE_SHARD = "medpipe.pseudonymize.shard"
    PSEUDONYMIZE_MERGE = "medpipe.pseudonymize.merge"
    #: the learn pass fanned out too: the digest key, one learn shard, the merge of parts
    PSEUDONYMIZE_LEARN_KEY = "medpipe.pseudonymize.learn.key"
    PSEUDONYMIZE_LEARN_SHARD = "medpipe.pseudonymize.learn.shard"
    PSEUDONYMIZE_LEARN_MERGE = "medpipe.pseudonymize.learn.merge"
    VALIDATE = "medpipe.validate"
    #: a fanned-out validate (``contracts.fanout``): one shard, merge of the parts
    VALIDATE_SHARD = "medpipe.validate.shard"
    VALIDATE_MERGE = "medpipe.validate.merge"
    EVALUATE = "medpipe.evaluate"
    SIGN = "medpipe.sign"
    LEDGER_APPEND = "medpipe.ledger.append"
    REGISTRY_LOOKUP = "medpipe.registry.lookup"
    REGISTRY_RECORD = "medpipe.registry.record"
    GATEWAY_CALL = "medpipe.gateway.call"
    CHAOS_EXERCISE = "medpipe.chaos.exercise"
    APPROVALS_CHECK = "medpipe.approvals.check"
    DRIFT_ALERT = "medpipe.drift.alert"
    DRIFT_ROLLBACK = "medpipe.drift.rollback"
    DRIFT_SCHEDULE = "medpipe.drift.schedule"


class QueryName(StrEnum):
    """Queries (both workflows answer ``status`` with their status contract)."""

    STATUS = "status"


class SignalName(StrEnum):
    """Signals: the canary tells its parent it settled; fire-and-forget rollback."""

    CANARY_SETTLED = "canary-settled"
    ROLLBACK = "rollback-signal"


class UpdateName(StrEnum):
    """Updates of the canary (validated; each returns once it took effect)."""

    ROLLBACK = "rollback"
    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"
    APPROVE = "approve"


class SearchAttr:
    """Search attribute keys shown to on-call staff in the Temporal Web UI."""

    MODEL = SearchAttributeKey.for_keyword("MedpipeModel")
    VERSION = SearchAttributeKey.for_keyword("MedpipeVersion")
    STAGE = SearchAttributeKey.for_keyword("MedpipeStage")
    CLOUD = SearchAttributeKey.for_keyword("MedpipeCloud")
    STATE = SearchAttributeKey.for_keyword("MedpipeState")
    WAITING = SearchAttributeKey.for_bool("MedpipeWaiting")
    #: the drift monitor's last verdict: ok, drift, insufficient-data
    DRIFT = SearchAttributeKey.for_keyword("MedpipeDrift")


#: name -> temporal CLI type, for ``temporal server start-dev --search-attribute``.
SEARCH_ATTRIBUTE_TYPES: dict[str, str] = {
    SearchAttr.MODEL.name: "Keyword",
    SearchAttr.VERSION.name: "Keyword",
    SearchAttr.STAGE.name: "Keyword",
    SearchAttr.CLOUD.name: "Keyword",
    SearchAttr.STATE.name: "Keyword",
    SearchAttr.WAITING.name: "Bool",
    SearchAttr.DRIFT.name: "Keyword",
}

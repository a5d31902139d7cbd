"""Where work may run: worker profiles, task-queue naming, residency policy.

A worker process is started with one ``WorkerProfile``; it polls the task
queues its profile implies (``medpipe.<cloud>.<region>.cpu`` and, when it has
accelerators, ``medpipe.<cloud>.<region>.gpu``). Workflows choose a queue per
stage with the pure functions in ``workflows.placement``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medpipe.contracts.approval import ApprovalRule
from medpipe.contracts.crypto import KeySettings

#: Default prefix of every task queue; a deployment (or a test) may choose its own
#: so that several environments can share one Temporal namespace.
DEFAULT_QUEUE_PREFIX = "medpipe"


def control_queue(prefix: str = DEFAULT_QUEUE_PREFIX) -> str:
    """Task queue on which every worker process also runs workflow tasks, so that
    orchestration survives the loss of any single worker."""
    return f"{prefix}.control"


CONTROL_QUEUE = control_queue()


class Cloud(StrEnum):
    """Providers a worker may run on."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    ONPREM = "onprem"


class ComputeKind(StrEnum):
    """The kind of compute a queue offers."""

    CPU = "cpu"
    GPU = "gpu"


class DataClass(StrEnum):
    """How sensitive the data a stage touches is (drives residency)."""

    IDENTIFIABLE = "identifiable"
    PSEUDONYMIZED = "pseudonymized"
    NONE = "none"


class WorkerProfile(BaseModel):
    """What a worker is and where it runs.

    Attributes:
        cloud: provider of the host.
        region: provider region (or site name on premises).
        jurisdiction: legal jurisdiction of the region, e.g. ``US``, ``US-CA``, ``EU-DE``.
        accelerators: e.g. ``["cuda:H100"]``; empty for CPU-only hosts.
        store_uri: the bucket URI this worker writes release artifacts to.
    """

    model_config = ConfigDict(frozen=True)

    cloud: Cloud
    region: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    accelerators: tuple[str, ...] = ()
    store_uri: str = ""

    @property
    def name(self) -> str:
        """``cloud/region``, the profile's name on the command line."""
        return f"{self.cloud.value}/{self.region}"

    @property
    def has_gpu(self) -> bool:
        """Whether the profile advertises an accelerator."""
        return bool(self.accelerators)

    def queues(self, prefix: str = DEFAULT_QUEUE_PREFIX) -> list[str]:
        """Task queues this profile polls (CPU always, GPU when it has accelerators)."""
        kinds = [ComputeKind.CPU] + ([ComputeKind.GPU] if self.has_gpu else [])
        return [task_queue(self.cloud, self.region, k, prefix) for k in kinds]


def task_queue(cloud: Cloud | str, region: str, kind: ComputeKind | str,
               prefix: str = DEFAULT_QUEUE_PREFIX) -> str:
    """Name of the task queue for one (cloud, region, compute kind)."""
    return f"{prefix}.{Cloud(cloud).value}.{region}.{ComputeKind(kind).value}"


def jurisdiction_allowed(jurisdiction: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``jurisdiction`` falls under one of ``allowed``.

    ``US`` allows ``US`` and ``US-CA``; ``EU`` allows ``EU-DE``; ``US-CA`` allows
    only ``US-CA``. ``*`` allows anything.
    """
    for entry in allowed:
        if entry == "*" or jurisdiction == entry or jurisdiction.startswith(entry + "-"):
            return True
    return False


class ResidencyPolicy(BaseModel):
    """Where a release's data may be processed.

    Attributes:
        allowed_jurisdictions: jurisdictions allowed for identifiable data.
        pseudonymized_anywhere: whether pseudonymized data may leave them.
    """

    model_config = ConfigDict(frozen=True)

    allowed_jurisdictions: tuple[str, ...] = ("US",)
    pseudonymized_anywhere: bool = False

    @field_validator("allowed_jurisdictions")
    @classmethod
    def _non_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one allowed jurisdiction is required")
        return v

    def allows(self, jurisdiction: str, data_class: DataClass) -> bool:
        """Whether data of ``data_class`` may be processed in ``jurisdiction``."""
        if data_class is DataClass.NONE:
            return True
        if data_class is DataClass.PSEUDONYMIZED and self.pseudonymized_anywhere:
            return True
        return jurisdiction_allowed(jurisdiction, self.allowed_jurisdictions)


class Environment(StrEnum):
    """What a fleet is for: chaos exercises run only on a non-production fleet."""

    PRODUCTION = "production"
    NON_PRODUCTION = "non-production"


class GatewayTarget(BaseModel):
    """One inference gateway models are deployed to (one per cloud profile)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    admin_url: str
    public_url: str = ""
    cloud: str = ""
    model: str = Field(default="", description="the model name it serves ('' = any)")
    region: str = Field(default="", description="the provider region it runs in")
    jurisdiction: str = Field(
        default="", pattern=r"^([A-Z]{2}(-[A-Z0-9]{1,3})?)?$",
        description="legal jurisdiction of its region ('' = the profile of the same cloud "
                    "and region says; none: the front sends it non-identifiable requests only)")


class Fleet(BaseModel):
    """A deployment: its worker profiles (the candidates placement chooses from),
    its queue prefix, and the bucket holding its registry of models in service
    (references and metrics only, never patient data)."""

    model_config = ConfigDict(frozen=True)

    profiles: tuple[WorkerProfile, ...]
    registry_uri: str = ""
    gateways: tuple[GatewayTarget, ...] = ()
    keys: KeySettings = KeySettings()
    vault_uri: str = Field(default="", description="bucket of the pseudonymization vault "
                           "(identifiers: keep it in the home jurisdiction)")
    ledger_uri: str = Field(default="", description="bucket of the provenance ledger")
    ledger_checkpoint_uri: str = Field(
        default="", description="bucket of the ledger's signed head checkpoints: another "
        "store than ledger_uri, so truncating the ledger needs access to both")
    queue_prefix: str = Field(default=DEFAULT_QUEUE_PREFIX, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    non_identifiable_models: tuple[str, ...] = Field(default=(), description=(
        "models whose inference inputs are not identifiable: the front routes their "
        "requests to any region even when the caller states no jurisdiction"))
    environment: Environment = Field(default=Environment.PRODUCTION, description=(
        "production (default: fail closed) or non-production; chaos exercises kill and "
        "stop this fleet's processes, so they refuse anything but non-production"))
    approval: ApprovalRule | None = Field(default=None, description=(
        "signed approvals a canary waits for before going above approval.at_weight; also "
        "what re-identification, key shredding and offboarding verify against"))
    insecure_dev: bool = Field(default=False, description=(
        "run without a key provider: artifacts in clear, no payload codec, no ledger. "
        "Development only; said loudly in logs, the UI summary and the provenance"))

    @property
    def unprotected(self) -> bool:
        """Whether identifiable data would be stored in clear (no key provider)."""
        return not self.keys.enabled

    @property
    def control_queue(self) -> str:
        """The workflow task queue of this fleet."""
        return control_queue(self.queue_prefix)

    def find(self, name: str) -> WorkerProfile:
        """The profile named ``cloud/region``."""
        for p in self.profiles:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.profiles)
        raise KeyError(f"no worker profile '{name}' (known: {known})")


class Candidate(BaseModel):
    """One place a stage may run: a profile and the queue to reach it."""

    model_config = ConfigDict(frozen=True)

    profile: WorkerProfile
    kind: ComputeKind
    queue_prefix: str = DEFAULT_QUEUE_PREFIX

    @property
    def queue(self) -> str:
        """The task queue to schedule on."""
        return task_queue(self.profile.cloud, self.profile.region, self.kind, self.queue_prefix)


class RanOn(BaseModel):
    """Where a step actually ran, as reported by the worker that ran it."""

    model_config = ConfigDict(frozen=True)

    cloud: str
    region: str
    jurisdiction: str
    host: str
    worker_id: str = ""
    accelerator: str = "cpu"
    task_queue: str = ""
    sbom_sha256: str = Field(default="", description="SHA-256 of the CycloneDX SBOM of the "
                             "worker's runtime (activities/sbom.py)")
    sbom_uri: str = Field(default="", description="where that SBOM is stored")

"""What to re-apply to a gateway that no longer serves what the canary put there.

A gateway that comes back mid-canary without its serving state (disk lost, a
fresh machine) answers with empty slots, or with an older state. The canary
workflow reads each gateway's status at every step and re-applies, in order, the
stable model it found at the start, its canary, the step's weight and the
fallback, only where they differ. ``fixes`` decides, purely; ``reapply`` runs the
decided admin calls as activities (``gateway_calls``), so each re-application is
in history.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import workflow

from medpipe.contracts.canary import CanaryInput, GatewayTarget
from medpipe.contracts.deploy import (
    FallbackSpec,
    GatewayStatus,
    LoadModelRequest,
    Slot,
    SlotStatus,
)
from medpipe.workflows.gateway_calls import GatewayCalls

#: ``workflow.patched`` id: canaries started before reconciliation replay without it.
RECONCILE_PATCH = "canary-reconcile-gateways"


@dataclass(frozen=True)
class Desired:
    """What one gateway should serve during this canary step.

    Attributes:
        stable: the stable model's load request as the gateway reported it at the
            start (None: unknown, never re-applied).
        canary: this release's canary load request.
        weight: the current step's canary weight (percent).
        fallback: the declared fallback (None: leave the gateway's default).
    """

    stable: LoadModelRequest | None
    canary: LoadModelRequest
    weight: int
    fallback: FallbackSpec | None = None


@dataclass(frozen=True)
class Fix:
    """One admin call that brings a gateway back to ``Desired``."""

    operation: str
    body: dict[str, object]
    what: str


def canary_request(inp: CanaryInput) -> LoadModelRequest:
    """The load request of this release's canary."""
    return LoadModelRequest(
        slot=Slot.CANARY, name=inp.model, version=inp.version, model_uri=inp.artifact.uri,
        sha256=inp.artifact.sha256, bundle_uri=inp.bundle.uri if inp.bundle else None,
        release_id=inp.release_id, prediction=inp.prediction,
        profile=inp.profile)


def found_serving(inp: CanaryInput, statuses: dict[str, GatewayStatus | None]
                  ) -> tuple[dict[str, LoadModelRequest], dict[str, FallbackSpec]]:
    """From the statuses read at the start, per gateway name: the stable model's load
    request, and the fallback to keep (the canary's declaration, else the gateway's)."""
    stables: dict[str, LoadModelRequest] = {}
    fallbacks: dict[str, FallbackSpec] = {}
    for name, status in statuses.items():
        if status is not None and status.stable is not None and status.stable.source:
            stables[name] = status.stable.source
        spec = inp.fallback or (status.fallback.spec if status is not None
                                and status.fallback is not None else None)
        if spec is not None:
            fallbacks[name] = spec
    return stables, fallbacks


def _holds(slot: SlotStatus | None, req: LoadModelRequest) -> bool:
    return slot is not None and (slot.version, slot.sha256) == (req.version, req.sha256)


def fixes(status: GatewayStatus | None, desired: Desired) -> list[Fix]:
    """The calls (in order) that make a gateway with ``status`` serve ``desired``."""
    out: list[Fix] = []
    stable = status.stable if status is not None else None
    if desired.stable is not None and not _holds(stable, desired.stable):
        out.append(Fix("load", desired.stable.model_dump(mode="json"),
                       f"stable {desired.stable.version}"))
    canary = status.canary if status is not None else None
    reload_canary = not _holds(canary, desired.canary)
    if reload_canary:
        out.append(Fix("load", desired.canary.model_dump(mode="json"),
                       f"canary {desired.canary.version}"))
    weight = status.canary_weight if status is not None else 0
    if desired.weight and (reload_canary or weight != desired.weight):
        out.append(Fix("weight", {"weight": desired.weight}, f"weight {desired.weight} %"))
    current = status.fallback.spec if status is not None and status.fallback else None
    if desired.fallback is not None and current != desired.fallback:
        out.append(Fix("fallback", desired.fallback.model_dump(mode="json"),
                       f"fallback {desired.fallback.kind.value}"))
    return out


async def reapply(gw: GatewayCalls, targets: list[GatewayTarget], canary: LoadModelRequest,
                  weight: int, stables: dict[str, LoadModelRequest],
                  fallbacks: dict[str, FallbackSpec]) -> list[str]:
    """Read every target's status and re-apply what it lost; a note per gateway fixed.

    Workflow code: the status reads and the fixes are activities, in history.
    """
    results = await gw.all(targets, "status")
    notes: list[str] = []

    async def one(target: GatewayTarget, status: GatewayStatus | None) -> None:
        todo = fixes(status, Desired(stables.get(target.name), canary, weight,
                                     fallbacks.get(target.name)))
        for fix in todo:
            await gw.call(target, fix.operation, fix.body)
        if todo:
            note = (f"{target.name}: re-applied {', '.join(f.what for f in todo)} "
                    f"at {workflow.now().isoformat(timespec='seconds')}")
            notes.append(note)
            workflow.logger.warning("gateway %s", note)

    await asyncio.gather(*(one(t, r.status) for t, r in zip(targets, results, strict=True)))
    return notes

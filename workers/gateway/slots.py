"""The gateway's state: which model is in which slot, the canary weight, and routing.

Slot changes (load, promote, rollback, unload) are serialised by one asyncio lock
and applied by swapping references on the event-loop thread, so an in-flight
request always finishes on the model it was routed to and a failed load leaves
every slot as it was. Every change is recorded in the serving state (when the
gateway has one) and ``restore()`` replays it at start. Routing is one
``random()`` per request.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from random import random
from typing import Literal

from starlette.concurrency import run_in_threadpool

from medpipe.contracts.deploy import (
    FallbackKind,
    FallbackSpec,
    GatewayMetrics,
    GatewayRollbackRequest,
    GatewayStatus,
    LoadModelRequest,
    PromoteRequest,
    RollbackResult,
    ServingState,
    Slot,
    SlotStatus,
    TrustReloadResult,
)
from medpipe.contracts.errors import DeployFailed, InvalidInput, InvalidModel
from medpipe.contracts.prediction import PredictionProfile
from medpipe.workers.gateway.fallback import FALLBACK_PROVIDERS, FallbackPath, check_compatible
from medpipe.workers.gateway.loader import LoadedModel, ModelLoader
from medpipe.workers.gateway.metrics import GatewayCollector, SlotStats
from medpipe.workers.gateway.state import ServingStateFile, load_recorded
from medpipe.workers.gateway.trust import distrusted

log = logging.getLogger(__name__)

RollbackAction = Literal["unloaded_canary", "restored_previous", "none"]


class Gateway:
    """Slots, weight and per-slot statistics of one served model name."""

    def __init__(self, model_name: str, loader: ModelLoader,
                 state: ServingStateFile | None = None) -> None:
        """Args:
        model_name: the OIP model name this gateway serves (both slots serve it).
        loader: fetches and verifies models.
        state: where every change is recorded, and read back by ``restore()``.
        """
        self.model_name = model_name
        self.loader = loader
        self.stable: LoadedModel | None = None
        self.canary: LoadedModel | None = None
        self.previous: LoadedModel | None = None
        self.weight = 0
        self.stats: dict[str, SlotStats] = {
            Slot.STABLE: SlotStats(), Slot.CANARY: SlotStats(), "none": SlotStats(samples=1)}
        #: slot -> why its model was taken out of service (e.g. its signer was revoked)
        self.out_of_service: dict[str, str] = {}
        #: the backup inference pathway and the circuit breaker in front of ``stable``
        self.fallback = FallbackPath()
        self._state = state
        self._lock = asyncio.Lock()

    # -- routing -----------------------------------------------------------------------
    def route(self, pin: str | None = None) -> tuple[str, LoadedModel | None]:
        """Pick the slot for one request: canary with probability weight/100, else stable.

        Args:
            pin: ``stable`` or ``canary`` to bypass the weights (tests, shadow checks).

        Raises:
            InvalidInput: ``pin`` names no serving slot.
        """
        if pin is not None:
            if pin == Slot.CANARY:
                return Slot.CANARY, self.canary
            if pin == Slot.STABLE:
                return Slot.STABLE, self.stable
            raise InvalidInput("x-medpipe-slot must be 'stable' or 'canary'")
        canary = self.canary
        if canary is not None and self.weight and random() * 100.0 < self.weight:
            return Slot.CANARY, canary
        return Slot.STABLE, self.stable

    def by_version(self, version: str) -> tuple[str, LoadedModel] | None:
        """The serving slot holding ``version``, if any."""
        for slot, model in ((Slot.STABLE, self.stable), (Slot.CANARY, self.canary)):
            if model is not None and model.version == version:
                return slot, model
        return None

    def unavailable(self, slot: str) -> str:
        """Why ``slot`` cannot answer (the 503 message)."""
        reason = self.out_of_service.get(slot)
        if slot == Slot.STABLE:
            reason = reason or f"model '{self.model_name}' has no stable version loaded"
            return f"{reason}; {self.fallback.unavailable(self.previous)}"
        return reason or f"no model loaded in slot {slot}"

    @property
    def ready(self) -> bool:
        """Ready when a stable model is loaded, or when the one that was got taken out
        (revoked, not restored) and its fallback answers in its place."""
        return self.stable is not None or (Slot.STABLE in self.out_of_service and
                                           self.fallback.backup(self.previous) is not None)

    # -- lifecycle -----------------------------------------------------------------------
    async def load(self, req: LoadModelRequest) -> GatewayStatus:
        """Load a verified model into a slot; the slot changes only if everything passed.

        Loading into ``canary`` sets the weight to 0. Loading into ``stable`` keeps the
        replaced model as ``previous``. Loading the same version and digest again is a
        no-op, so a retried activity is harmless.

        Raises:
            InvalidInput: the request names another model.
            SignatureInvalid, InvalidModel, NotFound: see ``ModelLoader.load``.
        """
        if req.slot == Slot.FALLBACK:
            return await self.set_fallback(FallbackSpec(
                kind=FallbackKind.MODEL, model=req, breaker=self.fallback.breaker.settings))
        if req.name != self.model_name:
            raise InvalidInput(f"this gateway serves model '{self.model_name}', "
                               f"not '{req.name[:100]}'")
        async with self._lock:
            current = self.canary if req.slot == Slot.CANARY else self.stable
            if current is not None and (current.version, current.sha256) == (req.version,
                                                                             req.sha256):
                return self.status()
            model = await run_in_threadpool(self.loader.load, req)
            if req.slot == Slot.CANARY:
                self.weight = 0
                self.canary = model
                self.stats[Slot.CANARY].reset_window()
            else:
                if self.stable is not None:
                    self.previous = self.stable
                self.stable = model
                self.stats[Slot.STABLE].reset_window()
                self.fallback.new_stable(self.stable)
            self.out_of_service.pop(req.slot, None)
            log.info("loaded %s %s into %s", req.name, req.version, req.slot)
            await self._persist()
            return self.status()

    async def set_weight(self, weight: int) -> GatewayStatus:
        """Route ``weight`` percent of requests to the canary.

        Raises:
            DeployFailed: a positive weight without a canary loaded.
        """
        async with self._lock:
            if weight and self.canary is None:
                raise DeployFailed("no canary is loaded: load one before giving it traffic")
            self.weight = weight
            await self._persist()
            return self.status()

    async def promote(self, req: PromoteRequest) -> GatewayStatus:
        """Make the canary stable; the old stable is kept as ``previous``.

        Raises:
            DeployFailed: no canary, or the canary is not the requested version.
        """
        async with self._lock:
            if req.version is not None and self.stable is not None \
                    and self.stable.version == req.version and self.canary is None:
                return self.status()  # already promoted: a retry
            canary = self.canary
            if canary is None:
                raise DeployFailed("no canary is loaded: nothing to promote")
            if req.version is not None and canary.version != req.version:
                raise DeployFailed(f"canary holds version {canary.version}, not {req.version}")
            self.previous, self.stable, self.canary, self.weight = self.stable, canary, None, 0
            self.out_of_service.pop(Slot.STABLE, None)
            self.fallback.new_stable(self.stable)
            for slot in (Slot.STABLE, Slot.CANARY):
                self.stats[slot].reset_window()
            log.info("promoted %s %s to stable", canary.name, canary.version)
            await self._persist()
            return self.status()

    async def rollback(self, req: GatewayRollbackRequest) -> RollbackResult:
        """Take traffic back to the model in service before the canary.

        With a canary loaded: weight 0, then unload it. Without one but after a
        promotion: restore ``previous`` as stable. ``version`` narrows this to one
        release; anything else is a no-op (already rolled back).
        """
        async with self._lock:
            canary, stable = self.canary, self.stable
            action: RollbackAction = "none"
            if canary is not None and req.version in (None, canary.version):
                self.weight = 0
                self.canary = None
                self.stats[Slot.CANARY].reset_window()
                action = "unloaded_canary"
            elif (canary is None and self.previous is not None and stable is not None
                  and req.version in (None, stable.version)):
                self.stable, self.previous = self.previous, None
                self.out_of_service.pop(Slot.STABLE, None)
                self.stats[Slot.STABLE].reset_window()
                self.fallback.new_stable(self.stable)
                action = "restored_previous"
            log.warning("rollback of %s: %s (%s)", req.version or "current canary", action,
                        req.reason[:200])
            await self._persist()
            return RollbackResult(action=action, status=self.status())

    async def set_fallback(self, spec: FallbackSpec) -> GatewayStatus:
        """Declare the backup pathway (a declared model fetched, verified and checked first).

        Raises:
            InvalidInput: the fallback model's inputs differ from the stable model's.
            SignatureInvalid, InvalidModel, NotFound: see ``ModelLoader.load``.
        """
        async with self._lock:
            model = None
            if spec.model is not None:
                model = await run_in_threadpool(self.loader.load, spec.model,
                                                FALLBACK_PROVIDERS)
                check_compatible(self.stable, model)
            self.fallback.declare(spec, model)
            log.info("fallback of %s is now %s", self.model_name, spec.kind.value)
            await self._persist()
            return self.status()

    async def unload(self, slot: str) -> GatewayStatus:
        """Drop the model in ``slot`` (unloading the canary also sets its weight to 0).

        Raises:
            InvalidInput: unknown slot name.
        """
        async with self._lock:
            if slot == Slot.CANARY:
                self.weight, self.canary = 0, None
            elif slot == Slot.STABLE:
                self.stable = None
            elif slot == Slot.PREVIOUS:
                self.previous = None
            elif slot == Slot.FALLBACK:  # back to the default pathway (previous, if kept)
                self.fallback.declare(FallbackSpec(breaker=self.fallback.breaker.settings), None)
            else:
                raise InvalidInput(f"unknown slot '{slot[:50]}' ({', '.join(Slot)})")
            await self._persist()
            return self.status()

    async def reload_trust(self) -> TrustReloadResult:
        """Re-read trusted keys and revocations; unload every model whose signer lost trust.

        A revoked stable's traffic goes at once to a verified, trusted fallback, else
        answers 503 with the reason; a revoked canary loses its traffic at once; a
        revoked ``previous`` or fallback model can no longer answer or be restored.

        Raises:
            InvalidModel: the trust files cannot be read (the old trust stays in force).
        """
        verifier = self.loader.verifier
        if verifier is None:
            return TrustReloadResult(trusted=[], revoked=[])
        async with self._lock:
            try:
                summary = await run_in_threadpool(verifier.reload)
            except ValueError as e:
                raise InvalidModel(f"trust not reloaded: {e}") from None
            taken = distrusted(verifier, {
                Slot.STABLE: self.stable, Slot.CANARY: self.canary,
                Slot.PREVIOUS: self.previous, Slot.FALLBACK: self.fallback.model})
            self.stable = None if Slot.STABLE in taken else self.stable
            self.previous = None if Slot.PREVIOUS in taken else self.previous
            if Slot.CANARY in taken:
                self.canary, self.weight = None, 0
            if Slot.FALLBACK in taken:
                self.fallback.model, self.fallback.out_of_service = None, taken[Slot.FALLBACK]
            self.out_of_service.update({k: v for k, v in taken.items()
                                        if k in (Slot.STABLE, Slot.CANARY)})
            log.warning("trust reloaded: %d key(s) trusted, %d revoked", len(summary.trusted),
                        len(summary.revoked))
            await self._persist()
            return TrustReloadResult(trusted=list(summary.trusted),
                                     revoked=list(summary.revoked), taken_out=taken)

    # -- durable serving state -----------------------------------------------------------
    def serving_state(self) -> ServingState:
        """What this gateway serves now, as it is recorded."""
        def req(model: LoadedModel | None) -> LoadModelRequest | None:
            return model.source if model is not None else None

        return ServingState(model_name=self.model_name, stable=req(self.stable),
                            canary=req(self.canary), previous=req(self.previous),
                            canary_weight=self.weight if self.canary is not None else 0,
                            updated_at=datetime.now(UTC), fallback=self.fallback.spec)

    def _align_predictions(self) -> None:
        """Both slots record predictions on one profile, so the canary analysis compares
        like with like: the canary's when it has one, else the stable model's."""
        profile = next((m.prediction for m in (self.canary, self.stable)
                        if m is not None and m.prediction is not None), PredictionProfile())
        for slot in (Slot.STABLE, Slot.CANARY):
            self.stats[slot].configure(profile)

    async def _persist(self) -> None:
        """Record the current slots (called under the lock, after every change) and
        align the prediction bins with them."""
        self._align_predictions()
        if self._state is None:
            return
        try:
            await run_in_threadpool(self._state.write, self.serving_state())
        except OSError as e:
            log.error("serving state not recorded in %s: %s", self._state.path, e.strerror)
            raise DeployFailed(f"the change is in effect but could not be recorded in "
                               f"{self._state.path} ({e.strerror}); a restart would lose "
                               "it: retry") from None

    async def restore(self) -> dict[str, str]:
        """Load the recorded serving state, verifying every model again.

        A slot whose model no longer loads (file gone, key revoked, signature no
        longer valid) stays empty and answers 503 with the reason; the others serve.

        Returns:
            slot -> why it could not be restored (empty when everything was).

        Raises:
            InvalidInput: the state file is unreadable or names another model.
        """
        if self._state is None:
            return {}
        state = await run_in_threadpool(self._state.read)
        if state is None:
            return {}
        if state.model_name != self.model_name:
            raise InvalidInput(f"serving state {self._state.path} is for model "
                               f"'{state.model_name}', this gateway serves "
                               f"'{self.model_name}'")
        async with self._lock:
            models, problems = await load_recorded(self.loader, state)
            for slot, model in models.items():
                setattr(self, slot.value, model)
            self.weight = state.canary_weight if self.canary is not None else 0
            self._align_predictions()
            self.out_of_service.update({k: v for k, v in problems.items()
                                        if k != Slot.PREVIOUS})
            self.fallback.new_stable(self.stable)
            if state.fallback is not None:
                problem = await self.fallback.restore(state.fallback, self.loader)
                if problem is not None:
                    problems[Slot.FALLBACK] = problem
            log.warning("serving state restored from %s: stable %s, canary %s at %d %%",
                        self._state.path, _version(self.stable), _version(self.canary),
                        self.weight)
        return problems

    # -- reporting ---------------------------------------------------------------------------
    def metrics(self, reset: bool = False) -> GatewayMetrics:
        """Window figures per serving slot; ``reset`` starts new windows atomically."""
        figures = GatewayMetrics(stable=self.stats[Slot.STABLE].window(),
                                 canary=self.stats[Slot.CANARY].window())
        if reset:
            self.stats[Slot.STABLE].reset_window()
            self.stats[Slot.CANARY].reset_window()
        return figures

    def status(self) -> GatewayStatus:
        """Slots, weight, providers and window figures."""
        def st(slot: Slot, model: LoadedModel | None) -> SlotStatus | None:
            return model.status(slot) if model is not None else None

        return GatewayStatus(
            model_name=self.model_name, ready=self.ready, canary_weight=self.weight,
            providers=self.loader.providers, stable=st(Slot.STABLE, self.stable),
            canary=st(Slot.CANARY, self.canary), previous=st(Slot.PREVIOUS, self.previous),
            metrics=self.metrics(), allow_unsigned=self.loader.allow_unsigned,
            out_of_service=dict(self.out_of_service),
            fallback=self.fallback.status(self.previous))

    def collector(self) -> GatewayCollector:
        """A Prometheus collector over this gateway's statistics."""
        def models() -> list[tuple[str, str, str, str]]:
            return [(slot, m.name, m.version, m.provider)
                    for slot, m in ((Slot.STABLE, self.stable), (Slot.CANARY, self.canary),
                                    (Slot.PREVIOUS, self.previous)) if m is not None]

        return GatewayCollector(self.stats, lambda: self.weight, models,
                                lambda: sorted(self.out_of_service),
                                self.loader.allow_unsigned)


def _version(model: LoadedModel | None) -> str:
    return model.version if model is not None else "none"

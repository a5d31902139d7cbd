"""What the canary re-applies to a gateway, from its status (pure, no server)."""

from __future__ import annotations

from datetime import UTC, datetime

from medpipe.contracts.deploy import (
    FallbackKind,
    FallbackSpec,
    FallbackStatus,
    GatewayStatus,
    LoadModelRequest,
    Slot,
    SlotStatus,
)
from medpipe.workflows.reconcile import Desired, fixes

SHA1, SHA2 = "1" * 64, "2" * 64
STABLE = LoadModelRequest(slot=Slot.STABLE, name="risk", version="1", model_uri="/m/1.onnx",
                          sha256=SHA1)
CANARY = LoadModelRequest(slot=Slot.CANARY, name="risk", version="2", model_uri="/m/2.onnx",
                          sha256=SHA2)
RULE = FallbackSpec.model_validate({"kind": "rule", "rule": {"name": "refer", "outputs": [
    {"name": "p", "datatype": "FP32", "value": [1.0]}]}})


def slot(req: LoadModelRequest, sha: str | None = None) -> SlotStatus:
    return SlotStatus(slot=req.slot, name=req.name, version=req.version,
                      sha256=sha or req.sha256, provider="CPUExecutionProvider",
                      loaded_at=datetime(2026, 1, 1, tzinfo=UTC), inputs=[], outputs=[])


def status(stable: SlotStatus | None = None, canary: SlotStatus | None = None,
           weight: int = 0, fallback: FallbackSpec | None = None) -> GatewayStatus:
    fb = FallbackStatus(kind=fallback.kind if fallback else FallbackKind.PREVIOUS,
                        available=False, spec=fallback)
    return GatewayStatus(model_name="risk", ready=stable is not None, canary_weight=weight,
                         providers=[], stable=stable, canary=canary, fallback=fb)


def test_a_gateway_serving_what_it_should_needs_nothing() -> None:
    assert fixes(status(slot(STABLE), slot(CANARY), 25, RULE),
                 Desired(STABLE, CANARY, 25, RULE)) == []


def test_an_empty_gateway_gets_everything_back_in_order() -> None:
    todo = fixes(status(), Desired(STABLE, CANARY, 25, RULE))
    assert [(f.operation, f.what) for f in todo] == [
        ("load", "stable 1"), ("load", "canary 2"), ("weight", "weight 25 %"),
        ("fallback", "fallback rule")]
    assert todo[0].body["slot"] == "stable" and todo[1].body["slot"] == "canary"
    assert todo[3].body == RULE.model_dump(mode="json")
    assert fixes(None, Desired(STABLE, CANARY, 25, None))[0].what == "stable 1"


def test_only_what_differs_is_re_applied() -> None:
    assert [f.what for f in fixes(status(slot(STABLE), slot(CANARY), 5),
                                  Desired(STABLE, CANARY, 25))] == ["weight 25 %"]
    # a different digest under the same version is not the same model
    assert [f.what for f in fixes(status(slot(STABLE, "f" * 64), slot(CANARY), 25),
                                  Desired(STABLE, CANARY, 25))] == ["stable 1"]
    # a reloaded canary starts at weight 0: the weight is set again
    assert [f.what for f in fixes(status(slot(STABLE), None, 25),
                                  Desired(STABLE, CANARY, 25))] == ["canary 2", "weight 25 %"]


def test_unknowns_are_left_alone() -> None:
    # stable unknown at the start (no source reported), no declared fallback, weight 0
    assert [f.what for f in fixes(status(), Desired(None, CANARY, 0))] == ["canary 2"]


def test_medpipe_canary_lists_what_was_re_applied() -> None:
    from medpipe.contracts.canary import CanaryState, CanaryStatus
    from medpipe.workers.cli_render import canary_footer

    footer = canary_footer(CanaryStatus(release_id="r", state=CanaryState.BAKING,
                                        reconciled=("gw-b: re-applied stable 1 at 12:00",)))
    assert "reconciled[/yellow] gw-b: re-applied stable 1 at 12:00" in footer

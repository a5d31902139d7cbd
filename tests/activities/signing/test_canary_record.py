"""The evidence pack's canary record: which ledger entries of a release it carries."""

from __future__ import annotations

from typing import Any

from medpipe.activities.signing.evidence import canary_record


def _entry(seq: int, kind: str, release_id: str = "r1", **payload: Any) -> dict[str, Any]:
    return {"seq": seq, "kind": kind, "at": f"2026-12-01T00:00:0{seq}Z",
            "release_id": release_id, "payload": payload}


def test_drift_alerts_and_drift_rollbacks_of_the_release_are_in_the_record() -> None:
    entries = [_entry(1, "deployed", version="2"),
               _entry(2, "drift-alert", verdict="drift"),
               _entry(3, "drift-rollback", requested_by="drift-monitor"),
               _entry(4, "drift-alert", release_id="other"),
               _entry(5, "ledger-checkpoint")]
    record = canary_record("r1", entries)
    assert [e["kind"] for e in record["events"]] == ["deployed", "drift-alert", "drift-rollback"]
    assert record["events"][2]["requested_by"] == "drift-monitor"
    assert record["deployed"] and record["rolled_back"]


def test_a_release_without_rollback_is_not_marked_rolled_back() -> None:
    record = canary_record("r1", [_entry(1, "deployed"), _entry(2, "drift-alert")])
    assert record["deployed"] and not record["rolled_back"]

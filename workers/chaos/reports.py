"""Resilience reports: judged against the goals, stored, appended to the ledger, read back.

Reports live in the fleet's registry bucket under ``chaos/reports/<scenario>/``
(write-once, one object per exercise, keys sortable by time) and each one's
digest is appended to the provenance ledger (kind ``chaos-exercise``), so an
auditor sees every exercise and can tell a report was not edited afterwards.
"""

from __future__ import annotations

import hashlib
import json

from medpipe.activities.storage.base import open_store
from medpipe.contracts.chaos import ResilienceReport, Scenario, Verdict
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.placement import Fleet

PREFIX = "chaos/reports/"
LEDGER_KIND = "chaos-exercise"


def judge(report: ResilienceReport) -> ResilienceReport:
    """The report with its verdict and every goal it missed, in words."""
    g = report.goals
    missed: list[str] = list(report.failures)
    if report.releases_completed < report.releases_started or report.releases_started == 0:
        missed.append(f"{report.releases_completed}/{report.releases_started} releases "
                      "completed")
    if report.failover_s is not None and report.failover_s > g.max_failover_s:
        missed.append(f"failover {report.failover_s:.1f} s > goal {g.max_failover_s:.0f} s")
    if report.data_lost > g.max_data_lost:
        missed.append(f"{report.data_lost} artifact(s) lost or altered")
    if report.releases_completed and report.artifacts_checked == 0:
        missed.append("no artifact was read back: data loss not verified")
    if report.requests_sent:
        ratio = report.requests_failed / report.requests_sent
        if ratio > g.max_failed_request_ratio:
            missed.append(f"{report.requests_failed}/{report.requests_sent} inference requests "
                          f"failed ({ratio:.0%} > goal {g.max_failed_request_ratio:.0%})")
    if report.front_requests_sent:
        ratio = report.front_requests_failed / report.front_requests_sent
        if ratio > g.max_failed_front_ratio:
            missed.append(f"{report.front_requests_failed}/{report.front_requests_sent} requests "
                          f"through the front failed ({ratio:.1%} > goal "
                          f"{g.max_failed_front_ratio:.0%}"
                          + "".join(f"; {k} {v}" for k, v in
                                    sorted(report.front_failure_reasons.items())) + ")")
    if not report.injections:
        missed.append("nothing was injected")
    return report.model_copy(update={"failures": tuple(missed),
                                     "verdict": Verdict.FAIL if missed else Verdict.PASS})


def _store(fleet: Fleet):  # type: ignore[no-untyped-def]
    if not fleet.registry_uri:
        raise InvalidInput("the fleet has no registry_uri: chaos reports are stored there")
    return open_store(fleet.registry_uri)


def _key(report: ResilienceReport) -> str:
    stamp = report.finished_at.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{PREFIX}{report.scenario.value}/{stamp}-{report.exercise_id}.json"


def store_report(fleet: Fleet, report: ResilienceReport) -> ResilienceReport:
    """Store ``report`` (write-once) and append its digest to the ledger; the stored report."""
    store = _store(fleet)
    key = _key(report)
    report = report.model_copy(update={"report_uri": store.uri_for(key)})
    body = report.model_dump_json(indent=2).encode()
    store.put(key, [body])
    _append_ledger(fleet, report, hashlib.sha256(body).hexdigest())
    return report


def _append_ledger(fleet: Fleet, report: ResilienceReport, sha256: str) -> None:
    if not fleet.ledger_uri or not fleet.keys.enabled:
        return  # an insecure dev fleet keeps no ledger
    from medpipe.activities.keys import shared_provider
    from medpipe.activities.signing.ledger import open_ledger

    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri,
                         shared_provider(fleet.keys.key_uri), fleet.keys.signing_key_id)
    ledger.append(LEDGER_KIND, report.exercise_id, {
        "scenario": report.scenario.value, "verdict": report.verdict.value,
        "report_uri": report.report_uri, "report_sha256": sha256,
        "failover_s": report.failover_s, "data_lost": report.data_lost,
        "releases": list(report.release_ids)}, idempotency_key=f"chaos:{report.exercise_id}")


def latest_reports(fleet: Fleet) -> list[ResilienceReport]:
    """The latest stored report of each scenario (scenario order)."""
    store = _store(fleet)
    out = []
    for scenario in Scenario:
        keys = [info.key for info in store.list(f"{PREFIX}{scenario.value}/")]
        if keys:
            data = b"".join(store.get(sorted(keys)[-1]))
            out.append(ResilienceReport.model_validate(json.loads(data)))
    return out

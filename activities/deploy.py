"""Deploy activities: the inference gateways' admin API, over mutual TLS.

One activity, one admin operation on one gateway, so the canary workflow
can run them on every gateway in parallel, see exactly which one failed,
and retry it visibly. A gateway that does not answer is a retryable
``Transient`` error (reported and retried, never skipped); a refusal — an
unsigned or tampered model, a bad request — is non-retryable and carries
the gateway's own message.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.gateway_sbom import GatewaySboms
from medpipe.activities.tls import TLSSettings, client_context
from medpipe.contracts.canary import GatewayCallInput, GatewayCallResult
from medpipe.contracts.deploy import GatewayMetrics, GatewayStatus, RollbackResult
from medpipe.contracts.drift import GatewaySketches
from medpipe.contracts.errors import DeployFailed, InvalidInput, SignatureInvalid, Transient
from medpipe.contracts.names import ActivityName

#: operation -> (HTTP method, path, what the answer is)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "status": ("GET", "/admin/status", "status"),
    "load": ("POST", "/admin/models", "status"),
    "weight": ("PUT", "/admin/weight", "status"),
    "promote": ("POST", "/admin/promote", "status"),
    "rollback": ("POST", "/admin/rollback", "rollback"),
    "fallback": ("PUT", "/admin/fallback", "status"),
    "unload-canary": ("DELETE", "/admin/models/canary", "status"),
    "metrics": ("GET", "/admin/metrics", "metrics"),
    "metrics-reset": ("POST", "/admin/metrics/reset", "metrics"),
    "sketches": ("GET", "/admin/sketches", "sketches"),
    "sketches-reset": ("POST", "/admin/sketches/reset", "sketches"),
}


class GatewayAdmin:
    """A small client of one gateway's admin API."""

    def __init__(self, tls: TLSSettings, timeout: float = 10.0) -> None:
        verify: ssl.SSLContext | bool = True  # no CA configured: plain-http admin URLs (tests)
        if tls.ca:
            verify = client_context(tls, setting="gateway_tls", purpose="gateway admin APIs")
        self._client = httpx.Client(verify=verify, timeout=timeout)

    def call(self, inp: GatewayCallInput) -> GatewayCallResult:
        """Run one admin operation and parse the answer."""
        if inp.operation not in OPERATIONS:
            raise InvalidInput(f"unknown gateway operation '{inp.operation}'")
        method, path, kind = OPERATIONS[inp.operation]
        url = inp.target.admin_url.rstrip("/") + path
        try:
            resp = self._client.request(method, url, json=inp.body or None)
        except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as e:
            raise Transient(f"gateway {inp.target.name} ({inp.target.admin_url}) does not "
                            f"answer: {type(e).__name__}") from e
        except ssl.SSLError as e:
            raise DeployFailed(f"TLS with gateway {inp.target.name} failed: {e}") from e
        if resp.status_code >= 500:
            raise Transient(f"gateway {inp.target.name} failed {inp.operation}: "
                            f"HTTP {resp.status_code}")
        if resp.status_code >= 400:
            message = _message(resp)
            if resp.status_code == 403:
                raise SignatureInvalid(f"gateway {inp.target.name} refused the model: {message}")
            raise DeployFailed(f"gateway {inp.target.name} refused {inp.operation} "
                               f"(HTTP {resp.status_code}): {message}")
        data: Any = resp.json()
        if kind == "status":
            return GatewayCallResult(status=GatewayStatus.model_validate(data))
        if kind == "metrics":
            return GatewayCallResult(metrics=GatewayMetrics.model_validate(data))
        if kind == "sketches":
            return GatewayCallResult(sketches=GatewaySketches.model_validate(data))
        rb = RollbackResult.model_validate(data)
        return GatewayCallResult(status=rb.status, action=rb.action)

    def sbom(self, inp: GatewayCallInput) -> bytes:
        """The gateway's runtime SBOM document (``GET /admin/sbom``)."""
        try:
            resp = self._client.get(inp.target.admin_url.rstrip("/") + "/admin/sbom")
        except (httpx.HTTPError, ssl.SSLError) as e:
            raise Transient(f"gateway {inp.target.name} SBOM: {type(e).__name__}") from e
        if resp.status_code != 200:
            raise DeployFailed(f"gateway {inp.target.name} SBOM: HTTP {resp.status_code}")
        return resp.content

    def close(self) -> None:
        """Close connections."""
        self._client.close()


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        return str(body.get("error", body))[:300]
    except ValueError:
        return resp.text[:300]


class DeployActivities:
    """Gateway admin activities (no patient data: model references and figures)."""

    def __init__(self, ctx: WorkerContext, tls: TLSSettings | None = None) -> None:
        self.ctx = ctx
        self.admin = GatewayAdmin(tls or TLSSettings())
        self.sboms = GatewaySboms(lambda: ctx.store)

    @activity.defn(name=ActivityName.GATEWAY_CALL)
    @translate_errors
    def call(self, inp: GatewayCallInput) -> GatewayCallResult:
        """One admin operation on one gateway."""
        result = self.sboms.annotate(self.admin.call(inp), lambda: self.admin.sbom(inp))
        return result.model_copy(update={"ran_on": self.ctx.ran_on()})

"""Gateways' runtime SBOMs, stored once per digest next to the workers' SBOMs.

A gateway builds the CycloneDX SBOM of its runtime and reports its digest
in ``/v2`` metadata and in its admin status. When the deploy activity
reads a status naming a digest it has not stored yet, it fetches the
document over the (mTLS) admin API, checks the digest and the CycloneDX
schema, and stores it under ``sboms/<sha256>.cdx.json`` in its worker's
store, like a worker's own SBOM. The status then carries the stored URI,
so the canary, the ledger's deploy entry and the evidence pack can name it.
A gateway whose SBOM cannot be fetched or stored is reported without a URI
(logged): an SBOM is evidence, not a reason to fail a deployment.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

from medpipe.activities.sbom import Sbom, store_sbom, validate_sbom
from medpipe.activities.storage.base import ObjectStore
from medpipe.contracts.canary import GatewayCallResult
from medpipe.contracts.errors import MedpipeError

log = logging.getLogger(__name__)


class GatewaySboms:
    """Digest -> stored URI, for one worker (thread-safe: activities run in threads)."""

    def __init__(self, store: Callable[[], ObjectStore]) -> None:
        self._store = store
        self._stored: dict[str, str] = {}
        self._lock = threading.Lock()

    def annotate(self, result: GatewayCallResult, fetch: Callable[[], bytes]) -> GatewayCallResult:
        """``result`` with its status's SBOM stored and named (unchanged without a digest)."""
        status = result.status
        if status is None or not status.sbom_sha256:
            return result
        uri = self._ensure(status.sbom_sha256, fetch)
        return result.model_copy(update={"status": status.model_copy(update={"sbom_uri": uri})})

    def _ensure(self, sha256: str, fetch: Callable[[], bytes]) -> str:
        with self._lock:
            if sha256 in self._stored:
                return self._stored[sha256]
        try:
            document = fetch()
            if hashlib.sha256(document).hexdigest() != sha256:
                raise MedpipeError("the gateway's SBOM does not match the digest it reports")
            validate_sbom(document)
            uri = store_sbom(self._store(), Sbom(document=document, sha256=sha256,
                                                  components=0))
        except (MedpipeError, OSError) as e:
            log.warning("gateway SBOM %s not stored: %s", sha256[:12],
                        e.message if isinstance(e, MedpipeError) else e)
            return ""
        with self._lock:
            self._stored[sha256] = uri
        return uri

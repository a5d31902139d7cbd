"""The gateway names the SBOM of the runtime it serves on in OIP server metadata."""

from __future__ import annotations

import httpx

from medpipe.activities.sbom import runtime_sbom


def test_server_metadata_names_the_runtime_sbom(public: httpx.Client) -> None:
    meta = public.get("/v2").json()
    assert meta["name"] == "medpipe-gateway"
    assert meta["sbom_sha256"] == runtime_sbom("gateway").sha256
    assert meta["sbom_sha256"] != runtime_sbom("worker").sha256  # the root component differs

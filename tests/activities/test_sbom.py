"""Runtime SBOMs: CycloneDX 1.6 that the library's schema validator accepts, stored once."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import pytest

from medpipe.activities.sbom import runtime_sbom, sbom_key, store_sbom, validate_sbom
from medpipe.activities.storage.base import open_store
from medpipe.contracts.errors import InvalidInput


def test_sbom_is_valid_cyclonedx_listing_the_runtime() -> None:
    sbom = runtime_sbom("worker")
    validate_sbom(sbom.document)  # the cyclonedx-python-lib JSON schema validator
    doc = json.loads(sbom.document)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    assert doc["metadata"]["component"]["name"] == "medpipe-worker"
    purls = {c.get("purl") for c in doc["components"]}
    for dist in ("onnxruntime", "cryptography", "temporalio"):
        assert f"pkg:pypi/{dist}@{importlib.metadata.version(dist)}" in purls
    assert sbom.sha256 == hashlib.sha256(sbom.document).hexdigest()


def test_schema_violations_are_named() -> None:
    doc = json.loads(runtime_sbom("worker").document)
    doc["components"][0]["type"] = "spaceship"
    with pytest.raises(InvalidInput, match="not valid CycloneDX 1.6: 'spaceship'"):
        validate_sbom(json.dumps(doc).encode())


def test_digest_is_stable_and_stored_once(tmp_path: Path) -> None:
    runtime_sbom.cache_clear()
    first = runtime_sbom("worker")
    runtime_sbom.cache_clear()
    assert runtime_sbom("worker").sha256 == first.sha256  # no timestamp, no random serial
    (tmp_path / "b").mkdir()
    store = open_store((tmp_path / "b").as_uri())
    uri = store_sbom(store, first)
    assert uri.endswith(sbom_key(first.sha256))
    store_sbom(store, first)
    assert [i.key for i in store.list("sboms/")] == [sbom_key(first.sha256)]
    assert b"".join(store.get(first.key)) == first.document

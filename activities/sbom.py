"""The SBOM of this process's runtime: CycloneDX 1.6 JSON, built once, stored once per digest.

Every worker and gateway describes what it runs with (Python, every
installed distribution with its version and purl) so that a stage result
or a gateway can be tied to an exact runtime: stage results and provenance
carry the SBOM's SHA-256, and the document itself lives in the fleet's
store under ``sboms/<sha256>.cdx.json`` (no patient data: package names
and versions only).

The document is deterministic for a given environment (no timestamp, a
serial number derived from the content), so restarting a worker on the same
image yields the same digest and stores nothing new.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import sys
import uuid
from dataclasses import dataclass
from functools import lru_cache

from medpipe.activities.serial_imports import import_serially
from medpipe.activities.storage.base import ObjectStore
from medpipe.contracts.errors import InvalidInput

SBOM_PREFIX = "sboms"
SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"
_NAMESPACE = uuid.UUID("6f1e1b1e-7a53-4f0e-9a1c-5b0d2f6c6d15")


@dataclass(frozen=True)
class Sbom:
    """A CycloneDX document of this runtime and its SHA-256."""

    document: bytes
    sha256: str
    components: int

    @property
    def key(self) -> str:
        """Object key of this SBOM in a store."""
        return sbom_key(self.sha256)


def sbom_key(sha256: str) -> str:
    """Where the SBOM with digest ``sha256`` is stored."""
    return f"{SBOM_PREFIX}/{sha256}.cdx.json"


def _distributions() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").strip()
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}\x00{dist.version}"
    return sorted(tuple(v.split("\x00", 1)) for v in seen.values())  # type: ignore[misc]


@lru_cache(maxsize=4)
def runtime_sbom(role: str = "worker") -> Sbom:
    """Build the SBOM of this Python runtime (cached: the environment does not change).

    Args:
        role: ``worker`` or ``gateway`` (names the SBOM's root component).
    """
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    dists = _distributions()
    medpipe_version = next((v for n, v in dists if n.lower() == "medpipe"), "0")
    root = Component(name=f"medpipe-{role}", version=medpipe_version,
                     type=ComponentType.APPLICATION, bom_ref=f"medpipe-{role}")
    interpreter = Component(
        name=sys.implementation.name, version=platform.python_version(),
        type=ComponentType.PLATFORM, bom_ref=f"python:{platform.python_version()}",
        description=f"{platform.python_implementation()} on {platform.machine()}")
    libs = [Component(name=n, version=v, type=ComponentType.LIBRARY,
                      purl=PackageURL("pypi", None, n.lower().replace("_", "-"), v),
                      bom_ref=f"pkg:pypi/{n.lower().replace('_', '-')}@{v}")
            for n, v in dists if n.lower() != "medpipe"]
    seed = "\n".join([role, platform.python_version(), *(f"{n}=={v}" for n, v in dists)])
    bom = Bom(serial_number=uuid.uuid5(_NAMESPACE, seed))
    bom.metadata.timestamp = None  # type: ignore[assignment]  # same runtime, same digest
    bom.metadata.component = root
    bom.components.add(interpreter)
    for lib in libs:
        bom.components.add(lib)
    bom.register_dependency(root, [interpreter, *libs])
    document = JsonV1Dot6(bom).output_as_string(indent=None).encode()
    return Sbom(document=document, sha256=hashlib.sha256(document).hexdigest(),
                components=len(libs) + 1)


def validate_sbom(document: bytes) -> None:
    """Check a document against the CycloneDX 1.6 JSON schema (the library's validator).

    Raises:
        InvalidInput: naming the first schema violation.
    """
    from cyclonedx.exception import MissingOptionalDependencyException
    from cyclonedx.schema import SchemaVersion

    validation = import_serially("cyclonedx.validation.json")  # imports jsonschema
    try:
        error = validation.JsonStrictValidator(SchemaVersion.V1_6).validate_str(
            document.decode())
    except MissingOptionalDependencyException as e:
        raise InvalidInput(f"SBOM not checked: the CycloneDX validator cannot load its "
                           f"schema library ({e})") from e
    if error is not None:
        first = str(error).splitlines()[0]
        raise InvalidInput(f"SBOM is not valid CycloneDX 1.6: {first}")


def store_sbom(store: ObjectStore, sbom: Sbom) -> str:
    """Store ``sbom`` in ``store`` unless already there; returns its URI."""
    store.create_if_absent(sbom.key, sbom.document)
    base, sep, query = store.bucket_uri.partition("?")
    return f"{base.rstrip('/')}/{sbom.key}" + (f"?{query}" if sep else "")

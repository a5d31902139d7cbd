"""Which optional extra of ``medpipe`` provides which import, and the check a command makes.

``pip install medpipe`` brings the base dependencies only: every command's
``--help`` works, and a command that needs an SDK from an extra says which
one to install (``install medpipe[sign]``) instead of a traceback.
``tests/test_dependencies.py`` checks this table against ``pyproject.toml``:
every import of the shipped code that only an extra provides is listed here,
under an extra that declares it.
"""

from __future__ import annotations

import importlib.util

from medpipe.contracts.errors import InvalidInput

#: Import name → the extra whose distributions provide it.
EXTRA_OF_MODULE: dict[str, str] = {
    "boto3": "aws",
    "botocore": "aws",
    "google.cloud.storage": "gcp",
    "azure.storage.blob": "azure",
    "pkcs11": "hsm",
    "prometheus_client": "gateway",
    "uvloop": "gateway",
    "httptools": "gateway",
    "orjson": "gateway",
    "great_expectations": "validate",
    "pandas": "validate",
    "model_signing": "sign",
    "sigstore_models": "sign",
    "OpenSSL": "sign",
}


def extra_for(module: str) -> str | None:
    """The extra that provides ``module`` (or a package it is inside), None if no extra does."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        extra = EXTRA_OF_MODULE.get(".".join(parts[:n]))
        if extra:
            return extra
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing
        return False


def missing_extras(*extras: str) -> list[str]:
    """Those of ``extras`` with a module that is not importable here (no import is run)."""
    return [e for e in extras
            if any(m for m, x in EXTRA_OF_MODULE.items() if x == e and not _installed(m))]


def install_hint(extras: list[str]) -> str:
    """``install medpipe[a,b]``: the words every message about a missing extra uses."""
    return f"install medpipe[{','.join(extras)}]"


def require_extras(what: str, *extras: str) -> None:
    """Refuse up front, naming every missing extra at once, when ``what`` cannot run here.

    Raises:
        InvalidInput: an extra's SDK is not installed.
    """
    missing = missing_extras(*extras)
    if missing:
        raise InvalidInput(f"{what} needs the optional dependencies of medpipe[{','.join(missing)}]"
                           f": {install_hint(missing)} (or medpipe[all])")

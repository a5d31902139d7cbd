"""``medpipe keys``: customer-held keys (BYOK/BYOHSM) at the provider level.

``create`` makes a key-encryption key (or, with ``--signing``, an ECDSA P-256
signing key) inside the provider; ``rotate`` makes a new version current (old
versions keep opening old objects); ``shred`` destroys every version, making
what they wrapped unrecoverable; ``export-public`` writes a signing key's
public key for verifiers. The provider comes from ``--provider`` or
``MEDPIPE_KEY_PROVIDER`` (a key URI: ``local://``, ``aws-kms://``,
``pkcs11://``). Errors are one line naming what and why, exit status 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from activities.keys import KeyProvider, open_provider
from contracts.errors import InvalidInput, MedpipeError

T = TypeVar("T")

provider_option = click.option(
    "--provider", "provider_uri", envvar="MEDPIPE_KEY_PROVIDER", required=True,
    metavar="URI",
    help="Key provider URI: local:///path/keyring.json, aws-kms://REGION[?endpoint=URL] or "
         "pkcs11:///path/module.so?token=LABEL&pin-env=VAR.")


def clear_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Print domain errors as one line on stderr and exit 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except MedpipeError as e:
            click.echo(f"error: {e.message}", err=True)
            sys.exit(2)

    return wrapper


def _provider(uri: str) -> KeyProvider:
    return open_provider(uri)


@click.group(name="keys")
def keys() -> None:
    """Customer-held keys: create, rotate, shred, export public keys."""


@keys.command()
@click.argument("key_id")
@provider_option
@click.option("--signing", is_flag=True,
              help="Create an ECDSA P-256 signing key instead of a key-encryption key.")
@clear_errors
def create(key_id: str, provider_uri: str, signing: bool) -> None:
    """Create KEY_ID in the provider (the key material never leaves it)."""
    provider = _provider(provider_uri)
    if signing:
        created = provider.create_signing_key(key_id)
        click.echo(f"created signing key {created}")
    else:
        created = provider.create_key(key_id)
        click.echo(f"created key-encryption key {created}")


@keys.command()
@click.argument("key_id")
@provider_option
@clear_errors
def rotate(key_id: str, provider_uri: str) -> None:
    """Make a new version of KEY_ID current; old versions still unwrap old objects."""
    version = _provider(provider_uri).rotate(key_id)
    click.echo(f"rotated {key_id}: current version is {version}")
    click.echo("stored objects keep their old wrapping until re-wrapped")


@keys.command()
@click.argument("key_id")
@provider_option
@click.option("--yes", is_flag=True, help="Confirm: everything KEY_ID wrapped becomes "
              "unrecoverable.")
@clear_errors
def shred(key_id: str, provider_uri: str, yes: bool) -> None:
    """Destroy every version of KEY_ID (crypto-shredding). Irreversible."""
    if not yes:
        raise InvalidInput(f"refusing to shred '{key_id}' without --yes: every object it "
                           "protects becomes unrecoverable")
    _provider(provider_uri).destroy(key_id)
    click.echo(f"shredded {key_id}: what it wrapped is unrecoverable")


@keys.command(name="export-public")
@click.argument("key_id")
@provider_option
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the PEM here (default: standard output).")
@clear_errors
def export_public(key_id: str, provider_uri: str, out_path: Path | None) -> None:
    """Print (or write) the public key of signing key KEY_ID, PEM."""
    pem = _provider(provider_uri).public_key_pem(key_id)
    if out_path is None:
        click.echo(pem.decode(), nl=False)
        return
    if out_path.exists() and out_path.read_bytes() != pem:
        raise InvalidInput(f"{out_path} exists with other content: remove it or choose "
                           "another path")
    if not out_path.parent.is_dir():
        raise InvalidInput(f"directory {out_path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(tmp, 0o644)  # a public key: readable by verifiers
    os.replace(tmp, out_path)
    click.echo(f"wrote public key of {key_id} to {out_path}")

"""``medpipe keys``: customer-held keys (BYOK/BYOHSM) at the provider level.

``create`` makes a key-encryption key (or, with ``--signing``, an ECDSA P-256
signing key) inside the provider; ``rotate`` makes a new version current (old
versions keep opening old objects) and, with ``--rewrap STORE``, re-wraps the
data keys of every sealed object in those stores under it, content untouched
(``rewrap`` alone retries a store after failures); ``shred`` destroys every
version, making what they wrapped unrecoverable; ``export-public`` writes a
signing key's public key for verifiers. With ``--ledger STORE --signing-key
ID``, rotations and shreds are recorded in the provenance ledger (kinds
``key-rotated`` and ``key-shredded``). The provider comes from ``--key-uri`` or
``MEDPIPE_KEY_PROVIDER`` (a key URI: ``local://``, ``aws-kms://``,
``pkcs11://``). Errors are one line naming what and why, exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from medpipe.activities.atomicfile import write_atomically
from medpipe.activities.keys import KeyProvider, open_provider
from medpipe.contracts.approval import ApprovalAction
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.contracts.ledger import LedgerKind
from medpipe.workers.authority import approval_option, authorise
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_options import key_uri_option, output_path_option
from medpipe.workers.who import current_user

T = TypeVar("T")

provider_option = key_uri_option(
    "provider_uri", envvar="MEDPIPE_KEY_PROVIDER", required=True,
    help="Key provider URI: local:///path/keyring.json, aws-kms://REGION[?endpoint=URL] or "
         "pkcs11:///path/module.so?token=LABEL&pin-env=VAR.")


def _provider(uri: str) -> KeyProvider:
    return open_provider(uri)


def ledger_options(fn: Callable[..., T]) -> Callable[..., T]:
    """``--ledger STORE --signing-key ID [--by WHO]``: where the key event is recorded."""
    fn = click.option("--by", "who", default=None,
                      help="Who did it, for the ledger (default: your user name).")(fn)
    fn = click.option("--signing-key", "signing_key", default=None, metavar="ID",
                      help="Signing key (in the same provider) that signs ledger entries.")(fn)
    return click.option("--ledger", "ledger_uri", default=None, metavar="STORE_URI",
                        help="Bucket URI of the provenance ledger to record this in.")(fn)


def _ledger(ledger_uri: str | None, signing_key: str | None, provider: KeyProvider,
            key_id: str) -> Any:
    """The ledger to record in (None without ``--ledger``); checked before any key change."""
    if ledger_uri is None:
        if signing_key is not None:
            raise InvalidInput("--signing-key given without --ledger: nothing to sign")
        return None
    if signing_key is None:
        raise InvalidInput("--ledger needs --signing-key ID (ledger entries are signed)")
    if signing_key == key_id:
        raise InvalidInput(f"'{key_id}' cannot sign the ledger entry about itself: "
                           "use the deployment's signing key")
    from medpipe.activities.signing.ledger import Ledger
    from medpipe.activities.storage.base import open_store

    provider.public_key_pem(signing_key)  # fail now, not after the key changed
    return Ledger(open_store(ledger_uri), provider, signing_key)


def _open_stores(store_uris: Sequence[str]) -> list[Any]:
    """Open every store first, so a typo fails before the key changes."""
    from medpipe.activities.storage.base import open_store

    return [open_store(uri) for uri in store_uris]


def _rewrap_stores(provider: KeyProvider, key_id: str, target: str | None,
                   stores: Sequence[Any], prefix: str) -> tuple[list[dict[str, Any]], int]:
    """Re-wrap every store, printing counts and failures.

    A store that fails as a whole (unreachable) is reported and the others
    still run, so the rotation is recorded whatever happened.

    Returns:
        Per-store counts (for the ledger) and the number of failures
        (objects, plus one per store that could not be walked).
    """
    from medpipe.activities.rotation import rewrap_objects

    summary: list[dict[str, Any]] = []
    failed = 0
    for store in stores:
        try:
            report = rewrap_objects(store, provider, key_id, new_key_id=target, prefix=prefix)
        except MedpipeError as e:
            click.echo(f"{store.bucket_uri}: not re-wrapped: {e.message}")
            summary.append({"store": store.bucket_uri, "error": e.message})
            failed += 1
            continue
        click.echo(f"{store.bucket_uri}: rewrapped {report.rewrapped}, already current "
                   f"{report.current}, skipped {report.skipped}, failed {report.failed}")
        for failure in report.failures():
            click.echo(f"  failed {failure.key}: {failure.reason}")
        summary.append({"store": store.bucket_uri, **report.counts()})
        failed += report.failed
    return summary, failed


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


rewrap_option = click.option(
    "--rewrap", "store_uris", multiple=True, metavar="STORE_URI",
    help="Re-wrap the data keys of the sealed objects in this store (repeatable).")
prefix_option = click.option("--prefix", default="", metavar="PREFIX",
                             help="Only objects whose key starts with PREFIX.")


@keys.command()
@click.argument("key_id")
@provider_option
@rewrap_option
@prefix_option
@ledger_options
@clear_errors
def rotate(key_id: str, provider_uri: str, store_uris: tuple[str, ...], prefix: str,
           ledger_uri: str | None, signing_key: str | None, who: str | None) -> None:
    """Make a new version of KEY_ID current and re-wrap stored objects under it.

    Content is never re-encrypted: only each object's wrapped data key
    changes. Objects that fail (reported with the reason) are left as they
    were and still need the old version: do not shred it before they are fixed.
    Exit status 1 when any object failed.
    """
    provider = _provider(provider_uri)
    ledger = _ledger(ledger_uri, signing_key, provider, key_id)
    stores = _open_stores(store_uris)
    version = provider.rotate(key_id)
    click.echo(f"rotated {key_id}: current version is {version}")
    summary, failed = _rewrap_stores(provider, key_id, version, stores, prefix)
    if not stores:
        click.echo("stored objects keep their old wrapping until re-wrapped (--rewrap STORE)")
    if ledger is not None:
        entry = ledger.append(
            LedgerKind.KEY_ROTATED.value, "-",
            {"key_id": key_id, "new_version": version, "by": who or current_user(),
             "at": datetime.now(UTC).isoformat(timespec="seconds"),
             "stores": summary},
            f"key-rotated/{key_id}/{version}")
        click.echo(f"recorded key-rotated in the ledger (entry {entry.seq})")
    if failed:
        click.echo(f"{failed} object(s) not re-wrapped: fix them and run 'medpipe keys rewrap' "
                   "before shredding old versions", err=True)
        sys.exit(1)


@keys.command()
@click.argument("key_id")
@provider_option
@click.option("--store", "store_uris", multiple=True, required=True, metavar="STORE_URI",
              help="Store whose sealed objects to re-wrap (repeatable).")
@prefix_option
@clear_errors
def rewrap(key_id: str, provider_uri: str, store_uris: tuple[str, ...], prefix: str) -> None:
    """Re-wrap objects still on an older version of KEY_ID under its current version.

    Idempotent: objects already current are counted, not rewritten. Exit
    status 1 when any object failed.
    """
    provider = _provider(provider_uri)
    _summary, failed = _rewrap_stores(provider, key_id, None, _open_stores(store_uris), prefix)
    if failed:
        sys.exit(1)


@keys.command()
@click.argument("key_id")
@provider_option
@click.option("--yes", is_flag=True, help="Confirm: everything KEY_ID wrapped becomes "
              "unrecoverable.")
@ledger_options
@approval_option
@clear_errors
def shred(key_id: str, provider_uri: str, yes: bool, ledger_uri: str | None,
          signing_key: str | None, who: str | None, approvals: tuple[Path, ...]) -> None:
    """Destroy every version of KEY_ID (crypto-shredding). Irreversible.

    The key is destroyed first and recorded after, so the ledger never claims
    a shred that did not happen; re-running after a failed record is safe
    (destroying is idempotent, and so is the entry). A deployment with a signed
    roster needs two administrators' signed approvals (``--approval``, from
    ``medpipe approve KEY_ID --action shred-key``); without one, ``--yes`` alone
    shreds and the entry says ``unsigned: needs review``.
    """
    if not yes:
        raise InvalidInput(f"refusing to shred '{key_id}' without --yes: every object it "
                           "protects becomes unrecoverable")
    from medpipe.workers.cli_sign import _deployment

    cfg = _deployment()
    fleet = getattr(cfg, "fleet", None)
    rostered = getattr(fleet, "approval", None) is not None
    authority = authorise(fleet, ApprovalAction.SHRED_KEY, key_id, approvals,
                          confirm=not rostered, by=who or current_user())
    provider = _provider(provider_uri)
    ledger = _ledger(ledger_uri, signing_key, provider, key_id)
    provider.destroy(key_id)
    click.echo(f"shredded {key_id}: what it wrapped is unrecoverable")
    if ledger is not None:
        entry = ledger.append(
            LedgerKind.KEY_SHREDDED.value, "-",
            {"key_id": key_id, "by": who or current_user(),
             "at": datetime.now(UTC).isoformat(timespec="seconds"), **authority},
            f"key-shredded/{key_id}")
        click.echo(f"recorded key-shredded in the ledger (entry {entry.seq})")


@keys.command(name="export-public")
@click.argument("key_id")
@provider_option
@output_path_option("out_path", type=click.Path(dir_okay=False, path_type=Path),
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
    write_atomically(out_path, pem, mode=0o644)  # a public key: readable by verifiers
    click.echo(f"wrote public key of {key_id} to {out_path}")

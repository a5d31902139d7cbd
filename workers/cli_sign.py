"""``medpipe verify | evidence | ledger``: check signed models, releases and the ledger offline.

Nothing here needs Temporal: a model, its bundle and a public key are
enough (``verify``), an evidence directory and a public key for a release
(``verify --evidence``), the ledger's bucket for the ledger. Refusals are one
line naming the case, with exit status 1 (2 for bad usage), never a traceback.

Register with ``for command in cli_sign.COMMANDS: cli.add_command(command)``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from medpipe.contracts.errors import (
    InvalidInput,
)
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_options import AliasedOption, output_path_option, trusted_key_option
from medpipe.workers.cli_output import output_option, to_json


def _read_keys(paths: tuple[str, ...]) -> list[bytes]:
    keys = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InvalidInput(f"public key file {p} does not exist")
        keys.append(path.read_bytes())
    return keys


def _revoked(values: tuple[str, ...]) -> set[str]:
    """Fingerprints given directly or as files (one per line, '#' comments)."""
    out: set[str] = set()
    for v in values:
        path = Path(v)
        lines = path.read_text().splitlines() if path.is_file() else [v]
        out |= {ln.split("#")[0].strip().lower() for ln in lines if ln.split("#")[0].strip()}
    return out


@click.command("verify")
@click.argument("model", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--bundle", "bundle", type=click.Path(path_type=Path),
              help="OMS signature bundle of MODEL (default: MODEL.sig).")
@trusted_key_option("keys")
@click.option("--revoked", multiple=True,
              help="Revoked key fingerprint, or a file of them; repeatable.")
@click.option("--evidence", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Check a release evidence directory (and MODEL against it, if given).")
@click.option("--expect", multiple=True, help="Identity the bundle must carry, e.g. "
                                               "release_id=release-sepsis-3.")
@output_option
@clear_errors
def verify_command(model: Path | None, bundle: Path | None, keys: tuple[str, ...],
                   revoked: tuple[str, ...], evidence: Path | None,
                   expect: tuple[str, ...], output: str) -> None:
    """Verify a signed MODEL, or a release's evidence directory, offline."""
    from medpipe.activities.signing.evidence import verify_evidence
    from medpipe.activities.signing.oms import verify_model

    trusted = _read_keys(keys)
    if evidence is not None:
        if not trusted:
            raise InvalidInput("--evidence needs at least one --trusted-key: the keys inside the "
                               "evidence cannot vouch for themselves")
        summary = verify_evidence(evidence, trusted, _revoked(revoked), model)
        if output == "json":
            click.echo(to_json({"verified": True, **summary}))
            return
        click.echo(f"OK: evidence {evidence} verified")
        for key, value in summary.items():
            click.echo(f"  {key}: {json.dumps(value, sort_keys=True)}")
        return
    if model is None:
        raise InvalidInput("give a MODEL to verify, or --evidence DIR")
    if not trusted:
        raise InvalidInput("give at least one trusted public key with --trusted-key")
    expected = dict(e.split("=", 1) for e in expect if "=" in e)
    verified = verify_model(model, bundle or Path(f"{model}.sig"), trusted, _revoked(revoked),
                            expected=expected or None)
    if output == "json":
        click.echo(to_json(verified))
        return
    click.echo(f"OK: {verified.model_name} ({len(verified.resources)} file(s), root sha256 "
               f"{verified.root_digest}) signed by key {verified.key_fingerprint[:16]}…")


def _deployment() -> Any:
    """The ``medpipe`` configuration when run under the main command (else None)."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().obj if ctx is not None else None


def _store_or_default(store: str | None) -> str:
    if store:
        return store
    cfg = _deployment()
    ledger_uri = str(getattr(cfg.fleet, "ledger_uri", "") or "") if cfg is not None else ""
    if ledger_uri:
        return ledger_uri
    raise InvalidInput("which ledger? pass --store BUCKET_URI (or configure fleet.ledger_uri)")


def _keys_or_default(keys: tuple[str, ...]) -> tuple[str, ...]:
    if keys:
        return keys
    cfg = _deployment()
    if cfg is not None and Path(cfg.public_key_path).exists():
        return (str(cfg.public_key_path),)
    raise InvalidInput("which keys are trusted? pass --trusted-key PUBLIC.pem")


def _ledger(store: str, checkpoint_store: str | None = None, key_uri: str | None = None,
            key_id: str | None = None) -> Any:
    from medpipe.activities.keys.base import open_provider
    from medpipe.activities.signing.ledger import Ledger
    from medpipe.activities.storage.base import open_store

    provider = open_provider(key_uri) if key_uri else None
    return Ledger(open_store(store), provider, key_id,
                  checkpoint_store=open_store(checkpoint_store) if checkpoint_store else None)


@click.command("evidence")
@click.argument("release")
@output_path_option("out_dir", required=True, type=click.Path(path_type=Path))
@click.option("--store", default=None,
              help="Bucket URI of the provenance ledger (default: the deployment's).")
@click.option("--checkpoint-store", help="Bucket URI of the ledger's head checkpoints.")
@click.option("--public-key", "--key", "keys", cls=AliasedOption, hidden_aliases=("--key",),
              multiple=True, type=click.Path(),
              help="Public key (PEM) to include in the evidence; repeatable.")
@click.option("--key-uri", help="Key provider URI, to include the signing key's public key.")
@click.option("--key-id", help="Signing key id in --key-uri.")
@click.option("--no-model", is_flag=True,
              help="Leave the model out (evidence.json records its URI and digest).")
@click.option("--anchor", default=None, metavar="SEQ:HASH",
              help="The release workflow's ledger anchor (medpipe status: ledger head); the "
              "pack carries it and refuses a ledger excerpt that lost it.")
@clear_errors
def evidence_command(release: str, out_dir: Path, store: str | None,
                     checkpoint_store: str | None, keys: tuple[str, ...], key_uri: str | None,
                     key_id: str | None, no_model: bool, anchor: str | None) -> None:
    """Write the evidence of RELEASE (model, signature, provenance, SBOMs, DPIA, ledger)."""
    from medpipe.activities.signing.evidence import write_evidence

    checkpoint_store = _checkpoint_store_or_default(checkpoint_store, store)
    store = _store_or_default(store)
    cfg = _deployment()
    if not keys and not key_uri and cfg is not None and Path(cfg.public_key_path).exists():
        keys = (str(cfg.public_key_path),)
    release = release if release.startswith("release-") else f"release-{release}"
    public = _read_keys(keys)
    if key_uri and key_id:
        from medpipe.activities.keys.base import open_provider

        public.append(open_provider(key_uri).public_key_pem(key_id))
    workflow_anchor = _anchors((anchor,), ())[0][1] if anchor else None
    index = write_evidence(_ledger(store, checkpoint_store), release, out_dir, public,
                           include_model=not no_model, workflow_anchor=workflow_anchor)
    click.echo(f"wrote {len(index['files']) + 1} files to {out_dir} (ledger head "
               f"{index['head']['seq']}:{index['head']['entry_hash']})")


@click.group("ledger")
def ledger_group() -> None:
    """Inspect and verify the provenance ledger."""


def _checkpoint_store_or_default(checkpoint_store: str | None,
                                 store: str | None) -> str | None:
    """The checkpoint store given, else the deployment's when its ledger is the one used."""
    if checkpoint_store or store:
        return checkpoint_store
    cfg = _deployment()
    uri = str(getattr(cfg.fleet, "ledger_checkpoint_uri", "") or "") if cfg is not None else ""
    return uri or None


def _anchors(expect_heads: tuple[str, ...],
             evidence_dirs: tuple[Path, ...]) -> list[tuple[str, tuple[int, str]]]:
    """Heads learnt outside the ledger's storage: given directly or read from evidence packs."""
    out: list[tuple[str, tuple[int, str]]] = []
    for value in expect_heads:
        seq, _, digest = value.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise InvalidInput(f"--expect-head {value!r} must be SEQ:SHA256HEX")
        out.append((f"expected head {seq}", (int(seq), digest.lower())))
    for d in evidence_dirs:
        try:
            index = json.loads((d / "evidence.json").read_text())
            for key, label in (("head", "head recorded in evidence"),
                               ("workflow_anchor", "release workflow anchor in evidence")):
                if key in index or key == "head":
                    head = index[key]
                    out.append((f"{label} {d}",
                                (int(head["seq"]), str(head["entry_hash"]).lower())))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InvalidInput(f"{d} is not an evidence directory with a ledger head "
                               f"({type(e).__name__}: {e})") from e
    return out


@ledger_group.command("verify")
@click.option("--store", default=None, help="Bucket URI of the ledger (default: the deployment's).")
@click.option("--checkpoint-store", help="Bucket URI of the head checkpoints (default: the "
                                         "deployment's fleet.ledger_checkpoint_uri).")
@trusted_key_option("keys")
@click.option("--revoked", multiple=True,
              help="Revoked signing-key fingerprint, or a file of them; repeatable.")
@click.option("--expect-head", "expect_heads", multiple=True,
              help="SEQ:HASH the chain must contain (from evidence, a release's history or a "
                   "previous verify); repeatable.")
@click.option("--evidence", "evidence_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="An evidence directory whose recorded head the chain must contain; "
                   "repeatable.")
@click.option("--allow-empty", is_flag=True,
              help="Accept an empty ledger when no checkpoint or anchor names an entry "
                   "(a deployment that never appended).")
@output_option
@clear_errors
def ledger_verify(store: str | None, checkpoint_store: str | None, keys: tuple[str, ...],
                  revoked: tuple[str, ...], expect_heads: tuple[str, ...],
                  evidence_dirs: tuple[Path, ...], allow_empty: bool, output: str) -> None:
    """Verify every entry, link, signature, and that the chain reaches every known head."""
    checkpoint_store = _checkpoint_store_or_default(checkpoint_store, store)
    store, keys = _store_or_default(store), _keys_or_default(keys)
    anchors = _anchors(expect_heads, evidence_dirs)
    report = _ledger(store, checkpoint_store).verify(
        _read_keys(keys), _revoked(revoked), anchors=anchors, allow_empty=allow_empty)
    if output == "json":
        click.echo(to_json(report))
        return
    click.echo(f"OK: {report.entries} entries, head {report.head_seq}:{report.head_hash}, "
               f"checkpoint {report.checkpoint_seq}, {len(anchors)} external anchor(s)")


@ledger_group.command("show")
@click.option("--store", default=None, help="Bucket URI of the ledger (default: the deployment's).")
@click.option("--release", "release_id", help="Only this release's entries.")
@output_option
@clear_errors
def ledger_show(store: str | None, release_id: str | None, output: str) -> None:
    """List ledger entries (unverified: run ``ledger verify`` to check them)."""
    if release_id and not release_id.startswith("release-"):
        release_id = f"release-{release_id}"
    entries = list(_ledger(_store_or_default(store)).entries(release_id))
    if output == "json":
        click.echo(to_json(entries))
        return
    cut = 80 if sys.stdout.isatty() else None  # whole payloads in pipes and files
    for e in entries:
        click.echo(f"{e.seq:6d}  {e.at:%Y-%m-%d %H:%M:%S}  {e.kind:16s} {e.release_id:28s} "
                   f"{json.dumps(e.payload, sort_keys=True)[:cut]}")


COMMANDS: list[click.Command] = [verify_command, evidence_command, ledger_group]

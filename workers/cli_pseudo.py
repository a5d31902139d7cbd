"""``medpipe pseudonymize``, ``medpipe policy init`` and ``medpipe reidentify``.

Local commands (no Temporal): pseudonymize a file with a policy and a vault
file, draft a policy from a dataset, and look a token up in a vault. They
print counts, never values — except ``reidentify``, whose purpose is to
return one identifier to an authorized person (the lead records it in the
ledger).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from medpipe.activities.pseudonymize import (
    FileVaultStore,
    default_fhir_policy,
    default_policy,
    detect_format,
    load_policy,
    pseudonymize_file,
)
from medpipe.activities.pseudonymize.draft import draft_policy
from medpipe.activities.pseudonymize.run import Pseudonymizer, read_chunks
from medpipe.activities.residual_scan import scan_dataset
from medpipe.contracts.approval import ApprovalAction
from medpipe.contracts.errors import InvalidInput
from medpipe.workers.authority import approval_option, authorise
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_options import output_path_option
from medpipe.workers.who import current_user


def _read_key(path: Path | None) -> bytes | None:
    if path is None:
        return None
    data = path.read_bytes().strip()
    try:
        return bytes.fromhex(data.decode())
    except (UnicodeDecodeError, ValueError):
        return data


@click.command("pseudonymize")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", "policy_path", type=click.Path(exists=True, path_type=Path),
              default=None, help="Policy YAML (default: the bundled cohort or FHIR policy).")
@click.option("--vault", "vault_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Vault file (created if absent; keep it sealed).")
@click.option("--hmac-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Key for hmac tokens (hex or raw bytes).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "ndjson", "bundle"]),
              default=None, help="Input format (default: from the file name).")
@clear_errors
def pseudonymize_cmd(src: Path, dst: Path, policy_path: Path | None, vault_path: Path | None,
                     hmac_key_file: Path | None, fmt: str | None) -> None:
    """Pseudonymize SRC into DST and print the report (counts only)."""
    fmt = fmt or detect_format(src)
    if policy_path is not None:
        policy = load_policy(policy_path)
    else:
        policy = default_fhir_policy() if fmt in ("ndjson", "bundle") else default_policy()
    vault = FileVaultStore(vault_path).open() if vault_path else None
    if vault is None:
        click.echo("warning: no --vault: tokens cannot be re-identified or reused", err=True)
    run = Pseudonymizer(policy, vault, _read_key(hmac_key_file), source=src.name)
    report = pseudonymize_file(src, dst, policy, fmt=fmt, run=run)
    # The same residual check as the validate stage: an identifier left anywhere in
    # the output fails the command and the output is removed (counts only, no values).
    with open(dst, "rb") as f:
        tally = scan_dataset(read_chunks(f), fmt, run.identifier_digests(), source=dst.name)
    if tally.found:
        dst.unlink()
        tally.require_clean(f"{dst.name} (removed)")
    click.echo(report.model_dump_json(indent=2))


@click.group("policy")
def policy_group() -> None:
    """Pseudonymization policies."""


@policy_group.command("init")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_path_option("out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft here (default: print it).")
@clear_errors
def policy_init(data: Path, out: Path | None) -> None:
    """Draft a policy YAML from DATA's columns, marking likely identifiers."""
    text = draft_policy(data, detect_format(data))
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"draft policy written to {out}: review it before use")


@click.command("reidentify")
@click.argument("token")
@click.option("--reason", required=True, help="Why (recorded in the provenance ledger).")
@click.option("--vault", "vault_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A local vault file (policy previews); default: the deployment's sealed "
                   "vault (fleet.vault_uri), opened with the customer's key.")
@click.option("--by", "requested_by", default=None, help="Who (default: your user name).")
@approval_option
@click.option("--confirm", is_flag=True, help="Only where the fleet has no roster: proceed "
              "without a steward's signature (recorded as unsigned, for review).")
@click.pass_obj
@clear_errors
def reidentify_cmd(cfg: Any, token: str, reason: str, vault_path: Path | None,
                   requested_by: str | None, approvals: tuple[Path, ...],
                   confirm: bool) -> None:
    """Print the identifier behind TOKEN (needs the vault's key and, with a roster, a data
    steward's signed approval: medpipe approve TOKEN --action reidentify); every use is
    recorded."""
    import hashlib

    if not reason.strip():
        raise InvalidInput("re-identification needs a reason (--reason \"...\")")
    who = requested_by or current_user()
    if vault_path is not None:
        click.echo(FileVaultStore(vault_path).open().reidentify(token))
        return
    from medpipe.activities.keys import shared_provider
    from medpipe.activities.pseudonymize.activity import SealedVaultStore
    from medpipe.activities.pseudonymize.tokens import Vault
    from medpipe.activities.signing.ledger import Ledger
    from medpipe.activities.storage.base import open_store

    fleet = cfg.fleet
    if not fleet.vault_uri or not fleet.ledger_uri:
        raise InvalidInput("no sealed vault and ledger configured (fleet.vault_uri, "
                           "fleet.ledger_uri); pass --vault FILE for a local preview vault")
    authority = authorise(fleet, ApprovalAction.REIDENTIFY, token, approvals,
                          confirm=confirm, by=who)
    sealed = SealedVaultStore(open_store(fleet.vault_uri), fleet.keys)
    identifier = Vault(sealed.load, sealed.save).reidentify(token)
    Ledger(open_store(fleet.ledger_uri), shared_provider(fleet.keys.key_uri),
           fleet.keys.signing_key_id).append(
        "reidentified", "-", {"token_sha256": hashlib.sha256(token.encode()).hexdigest(),
                              "requested_by": who, "reason": reason.strip()[:500],
                              **authority},
        f"reidentified/{who}/{hashlib.sha256((token + reason).encode()).hexdigest()[:16]}"
        f"/{time.time_ns()}")
    click.echo(identifier)


#: Commands for ``workers.cli.main`` (register each with ``main.add_command``).
COMMANDS: tuple[click.Command, ...] = (pseudonymize_cmd, policy_group, reidentify_cmd)

"""``medpipe offboard``: return a model's (or a tenant's) data, destroy it, and prove it.

Runs from an administrator's machine against the deployment's stores and key
provider (no Temporal needed), like ``keys shred``. With a signed roster
(``fleet.approval``) it needs two distinct administrators' signed approvals
(``--approval FILE`` twice, from ``medpipe approve model=NAME --action
offboard``); ``--confirm --by`` is accepted only on a fleet without a roster,
loudly, and the certificate then says ``unsigned: needs review``
(``workers.authority``).

Register with ``main.add_command(cli_offboard.offboard_command)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from medpipe.contracts.approval import ApprovalAction
from medpipe.contracts.errors import InvalidInput
from medpipe.workers.authority import approval_option, authorise
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_sign import _deployment


def _target_uri(target: str) -> str:
    """A bucket URI as given, or a local directory (created, must be empty)."""
    if "://" in target:
        return target
    path = Path(target).expanduser().resolve()
    if path.exists() and any(path.iterdir()):
        raise InvalidInput(f"target directory {path} is not empty: name a new or empty one")
    path.mkdir(parents=True, exist_ok=True)
    return path.as_uri()


@click.command("offboard")
@click.option("--model", help="Offboard every release of this model.")
@click.option("--tenant", help="Offboard the whole deployment (every model, the token vault "
                               "and the registry): give its name for the certificate.")
@click.option("--to", "target", required=True,
              help="Where the data is returned, decrypted: a directory or a bucket URI.")
@click.option("--confirm", is_flag=True, help="Only on a fleet without a roster: delete and "
              "crypto-shred without signed approvals (recorded as unsigned, for review).")
@click.option("--by", "by", default=None, help="Who confirms (with --confirm).")
@approval_option
@clear_errors
def offboard_command(model: str | None, tenant: str | None, target: str, confirm: bool,
                     by: str | None, approvals: tuple[Path, ...]) -> None:
    """Export every artifact decrypted to TARGET, crypto-shred, delete, certify in the ledger."""
    from medpipe.activities.keys import shared_provider
    from medpipe.activities.offboard import offboard
    from medpipe.activities.signing.ledger import open_ledger

    cfg = _deployment()
    if (model is None) == (tenant is None):
        raise InvalidInput("offboard one --model or one --tenant")
    subject = f"model={model}" if model is not None else f"tenant={tenant}"
    authority = authorise(getattr(cfg, "fleet", None), ApprovalAction.OFFBOARD, subject,
                          approvals, confirm=confirm, by=by)
    if cfg is None or not cfg.fleet.ledger_uri or not cfg.fleet.keys.enabled:
        raise InvalidInput("offboarding needs a deployment with a ledger and a key provider "
                           "(the certificate of destruction is a signed ledger entry)")
    fleet = cfg.fleet
    provider = shared_provider(fleet.keys.key_uri)
    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri, provider,
                         fleet.keys.signing_key_id)
    confirmed_by = ", ".join(str(p) for p in authority["authorised_by"])  # type: ignore[attr-defined]
    how = ("signed approvals of two administrators, verified against the roster"
           if authority["authorisation"] == "signed" else str(authority["authorisation"]))
    cert = offboard(fleet, ledger, provider, _target_uri(target), confirmed_by=confirmed_by,
                    authority=how,
                    model=model, tenant=tenant)
    click.echo(json.dumps(cert, indent=2, sort_keys=True))

"""``medpipe roster init|add|verify``, ``medpipe approve``, ``medpipe approvals check``.

The library of separation of duties (activities/governance.py) from the
command line: an administrator signs the roster, a person signs an approval
with their own key (any key provider URI), anyone checks approvals offline.
``medpipe approve`` (signing and submitting to a canary) is in cli_approve.

Register with ``for command in cli_roster.COMMANDS: main.add_command(command)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from medpipe.contracts.approval import ApprovalAction, Person, Role, Roster
from medpipe.contracts.errors import InvalidInput
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_output import output_option, to_json
from medpipe.workers.cli_sign import _read_keys, _revoked

_ROLES = click.Choice([r.value for r in Role])
_ACTIONS = click.Choice([a.value for a in ApprovalAction])


def _provider(key_uri: str):  # type: ignore[no-untyped-def]
    from medpipe.activities.keys import open_provider

    return open_provider(key_uri)


@click.group("roster")
def roster_group() -> None:
    """The signed roster of people, keys and roles."""


@roster_group.command("init")
@click.argument("roster", type=click.Path(path_type=Path))
@click.option("--admin", required=True, help="Name of the first administrator.")
@click.option("--key-uri", required=True, help="Key provider URI of the administrator's key.")
@click.option("--key-id", required=True, help="The administrator's signing key id.")
@clear_errors
def roster_init(roster: Path, admin: str, key_uri: str, key_id: str) -> None:
    """Create ROSTER with one administrator, signed by that administrator's key."""
    from medpipe.activities.governance import sign_roster

    if roster.exists():
        raise InvalidInput(f"{roster} exists: use `medpipe roster add`")
    provider = _provider(key_uri)
    person = Person(name=admin, public_key=provider.public_key_pem(key_id).decode(),
                    roles=(Role.ADMINISTRATOR,))
    sign_roster(Roster(people=(person,)), roster, provider, key_id)
    click.echo(f"wrote {roster} and {roster}.sig (administrator {admin})")


@roster_group.command("add")
@click.argument("roster", type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True)
@click.option("--public-key", "public_key", required=True, type=click.Path(exists=True))
@click.option("--role", "roles", multiple=True, required=True, type=_ROLES)
@click.option("--key-uri", required=True, help="Key provider URI of the signing administrator.")
@click.option("--key-id", required=True, help="The administrator's signing key id.")
@clear_errors
def roster_add(roster: Path, name: str, public_key: str, roles: tuple[str, ...], key_uri: str,
               key_id: str) -> None:
    """Add (or replace) a person; the administrator re-signs the roster."""
    from medpipe.activities.governance import load_roster, sign_roster

    provider = _provider(key_uri)
    current = load_roster(roster, [provider.public_key_pem(key_id)])
    person = Person(name=name, public_key=Path(public_key).read_text(),
                    roles=tuple(Role(r) for r in roles))
    people = tuple(p for p in current.people if p.name != name) + (person,)
    sign_roster(current.model_copy(update={"people": people}), roster, provider, key_id)
    click.echo(f"{name}: {', '.join(roles)} (roster re-signed)")


@roster_group.command("verify")
@click.argument("roster", type=click.Path(exists=True, path_type=Path))
@click.option("--admin-key", "admin_keys", multiple=True, required=True, type=click.Path(),
              help="Pinned administrator public key (PEM); repeatable.")
@output_option
@clear_errors
def roster_verify(roster: Path, admin_keys: tuple[str, ...], output: str) -> None:
    """Check ROSTER's signature and list who holds which roles."""
    from medpipe.activities.governance import load_roster

    loaded = load_roster(roster, _read_keys(admin_keys))
    if output == "json":
        click.echo(to_json(loaded))
        return
    for p in loaded.people:
        click.echo(f"{p.name}: {', '.join(r.value for r in p.roles)}")
    click.echo(f"OK: {len(loaded.people)} people, {len(loaded.revoked)} revoked key(s)")


@click.group("approvals")
def approvals_group() -> None:
    """Check signed approvals against the roster."""


@approvals_group.command("check")
@click.argument("release")
@click.argument("statements", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--roster", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--admin-key", "admin_keys", multiple=True, required=True, type=click.Path())
@click.option("--model-sha256", required=True)
@click.option("--action", default="promote", show_default=True, type=_ACTIONS)
@click.option("--releaser", help="Who released (cannot approve the promotion).")
@click.option("--required", default=2, show_default=True, type=click.IntRange(1, 20))
@click.option("--revoked", multiple=True, help="Revoked key fingerprint or file; repeatable.")
@output_option
@clear_errors
def approvals_check(release: str, statements: tuple[Path, ...], roster: Path,
                    admin_keys: tuple[str, ...], model_sha256: str, action: str,
                    releaser: str | None, required: int, revoked: tuple[str, ...],
                    output: str) -> None:
    """Count distinct entitled approvers of RELEASE; exit 1 with the reasons when too few."""
    from medpipe.activities.governance import check_approvals, load_roster

    release = release if release.startswith("release-") else f"release-{release}"
    loaded = load_roster(roster, _read_keys(admin_keys), _revoked(revoked))
    verdict = check_approvals([(p.name, p.read_bytes()) for p in statements], loaded,
                              action=ApprovalAction(action), release_id=release,
                              model_sha256=model_sha256.lower(), releaser=releaser,
                              required=required, revoked=_revoked(revoked))
    if output == "json":
        click.echo(to_json(verdict))
    else:
        click.echo(f"approvers: {', '.join(verdict.approvers) or 'none'} "
                   f"({len(verdict.approvers)} of {required} required)")
        for refusal in verdict.refusals:
            click.echo(f"  not counted: {refusal}")
    if not verdict.approved:
        click.echo(f"REFUSED: {len(verdict.approvers)} of {required} approvals "
                   f"({'; '.join(verdict.refusals) or 'no valid statement'})", err=True)
        sys.exit(1)


COMMANDS: list[click.Command] = [roster_group, approvals_group]

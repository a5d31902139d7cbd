"""``medpipe approve RELEASE``: sign a promote approval with your own key and submit it.

The statement (a Sigstore bundle: DSSE over an in-toto Statement naming the
release, the model digest, you, your reason and the time) goes to the
release's canary through the ``approve`` Update; the canary verifies it in
an activity against the fleet's signed roster and answers at once: counted
(``k of n``), or refused naming who, which role and why (exit 1). The
model digest is read from the canary unless ``--model-sha256`` pins it; with
``--no-submit`` the statement is only written (``-o``), e.g. to sign on an
offline machine and submit later with ``--statement``.

``--action reidentify|shred-key|offboard`` signs a statement for those
commands instead (``RELEASE`` is then the target: a token's SHA-256, a key
id, ``model=NAME`` or ``tenant=NAME``); it is written, never submitted.
"""

from __future__ import annotations

from pathlib import Path

import click
from temporalio.client import WorkflowUpdateFailedError

from medpipe.contracts.approval import (
    RELEASE_ACTIONS,
    ApprovalAction,
    ApprovalProgress,
    SignedStatement,
    action_subject,
)
from medpipe.contracts.canary import CanaryStatus
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.names import QueryName, UpdateName
from medpipe.workers.cli_canary import _update_refusal, canary_handle, release_id_of
from medpipe.workers.cli_errors import EXIT_REFUSED, clear_errors, fail, run
from medpipe.workers.cli_options import output_path_option
from medpipe.workers.config import StackConfig


def sign_statement_for(action: ApprovalAction, release_id: str, model_sha256: str, by: str,
                       reason: str, key_uri: str, key_id: str) -> SignedStatement:
    """A signed statement made now with the signer's own key (any key provider URI)."""
    from medpipe.activities.governance import new_approval, sign_approval
    from medpipe.activities.keys import open_provider

    try:
        approval = new_approval(action, release_id, model_sha256.lower(), by, reason)
    except ValueError as e:
        raise InvalidInput(f"invalid {action.value} statement: {e}") from e
    bundle = sign_approval(approval, open_provider(key_uri), key_id)
    return SignedStatement(bundle=bundle.decode(), label=f"{by} ({action.value})")


def _progress_line(progress: ApprovalProgress) -> str:
    who = ", ".join(progress.approvers) or "none"
    return (f"{len(progress.approvers)} of {progress.required} approvals ({who}); "
            + ("approved: the canary continues above "
               f"{progress.at_weight} %" if progress.approved else
               f"the canary holds at {progress.at_weight} %"))


@click.command("approve")
@click.argument("release")
@click.option("--by", "by", required=True, help="Your name on the roster.")
@click.option("--reason", required=True, help="Why you approve (recorded).")
@click.option("--key-uri", help="Key provider URI of your own key.")
@click.option("--key-id", help="Your signing key id.")
@click.option("--model-sha256", help="Digest of the model you approve (default: read from "
              "the release's canary).")
@click.option("--statement", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Submit a statement signed earlier (instead of --key-uri/--key-id).")
@click.option("--no-submit", is_flag=True, help="Only write the signed statement (-o).")
@click.option("--action", default=ApprovalAction.PROMOTE.value, show_default=True,
              type=click.Choice([a.value for a in ApprovalAction if a is not
                                 ApprovalAction.ROLLBACK]),
              help="What you approve (not promote: RELEASE is the target, -o required).")
@output_path_option("out", type=click.Path(path_type=Path))
@click.pass_obj
@clear_errors
def approve_command(cfg: StackConfig, release: str, by: str, reason: str,
                    key_uri: str | None, key_id: str | None, model_sha256: str | None,
                    statement: Path | None, no_submit: bool, action: str,
                    out: Path | None) -> None:
    """Sign a promotion approval of RELEASE with your own key and submit it to its canary."""
    if ApprovalAction(action) not in RELEASE_ACTIONS:
        if out is None or not (key_uri and key_id):
            raise InvalidInput(f"--action {action} writes a statement: pass -o FILE, "
                               "--key-uri and --key-id")
        name, digest = action_subject(ApprovalAction(action), release)
        out.write_text(sign_statement_for(ApprovalAction(action), name, digest, by, reason,
                                          key_uri, key_id).bundle)
        click.echo(f"wrote {out}: {by} approves {name}")
        return
    release_id = release_id_of(release)
    if statement is None and not (key_uri and key_id):
        raise InvalidInput("sign with your own key (--key-uri and --key-id) or submit a "
                           "signed statement (--statement FILE)")
    if no_submit and (out is None or model_sha256 is None):
        raise InvalidInput("--no-submit needs -o FILE and --model-sha256 (no canary is asked)")

    async def go() -> None:
        signed = (SignedStatement(bundle=statement.read_text(), label=statement.name)
                  if statement is not None else None)
        handle = None
        digest = model_sha256
        if not no_submit:
            from medpipe.workers.client import connect

            handle = await canary_handle(await connect(cfg), release_id)
            if digest is None:
                status = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
                digest = status.model_sha256
        if signed is None:
            assert key_uri and key_id and digest
            signed = sign_statement_for(ApprovalAction.PROMOTE, release_id, digest, by,
                                        reason, key_uri, key_id)
        if out is not None:
            out.write_text(signed.bundle)
            click.echo(f"wrote {out}: {by} approves promotion of {release_id}")
        if handle is None:
            return
        try:
            progress = await handle.execute_update(UpdateName.APPROVE, signed,
                                                   result_type=ApprovalProgress)
        except WorkflowUpdateFailedError as e:
            fail(_update_refusal(e), EXIT_REFUSED)
        click.echo(f"{release_id}: approval by {by} counted: {_progress_line(progress)}")

    run(go())


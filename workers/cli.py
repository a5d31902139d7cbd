"""The ``medpipe`` command: the group, its connection options, and where each command lives.

The commands live beside this module, one audience each: releases
(``cli_release``), on-call canary control (``cli_canary``), keys
(``cli_keys``), the codec server (``cli_codec``), signatures and the ledger
(``cli_sign``), data stewards' pseudonymization (``cli_pseudo``), the local
stack (``cli_dev``), … ``COMMANDS`` names them without importing them
(``cli_lazy``): a call imports only the module of the command it runs, and
``--help`` none, so no call pays for the de-identification engine,
great-expectations, onnxruntime or the Temporal worker unless it uses them.
The client API the commands use (and tests and benchmarks import) is
``workers/releases.py``; tables are drawn by ``cli_render``. Every command
reports refusals through ``cli_errors``: one line, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, NoReturn

import click

from medpipe.revision import version_line
from medpipe.workers.cli_lazy import LazyCommand, LazyGroup

#: Shell completion (README): ``eval "$(_MEDPIPE_COMPLETE=bash_source medpipe)"``.
COMPLETE_VAR = "_MEDPIPE_COMPLETE"


# -- the commands, imported when chosen ---------------------------------------------------
def _lazy(module: str, attribute: str, help_line: str) -> LazyCommand:
    return LazyCommand(f"medpipe.workers.{module}:{attribute}", help_line)


#: Every subcommand: where it lives and its ``--help`` line (tests/workers/test_cli_lazy.py
#: checks the lines against the commands' own help).
COMMANDS: dict[str, LazyCommand] = {
    # releases (MLOps engineers) and their state (on-call)
    "release": _lazy("cli_release", "release", "Start the release of one model version "
                     "(idempotent: same version, same workflow)."),
    "watch": _lazy("cli_release", "watch",
                   "Follow a release live (per-stage progress, placements, failovers)."),
    "status": _lazy("cli_release", "status", "Show a release's stages, placements and failovers."),
    "list": _lazy("cli_release", "list_command",
                  "List releases, filtered through search attributes."),
    "sample": _lazy("cli_release", "sample",
                    "Write a synthetic patient cohort and logistic-regression ONNX models."),
    "worker": _lazy("cli_release", "worker", "Run a worker for one profile of the fleet."),
    # on-call: canary control, traffic, the gateway process
    "rollback": _lazy("cli_canary", "rollback", "Roll a release's canary back everywhere; "
                      "returns when every gateway serves 0 % canary."),
    "pause": _lazy("cli_canary", "pause", "Hold the canary at its current weight until resumed."),
    "resume": _lazy("cli_canary", "resume",
                    "Continue a paused canary (the current step bakes again)."),
    "promote": _lazy("cli_canary", "promote",
                     "Skip the remaining steps and promote now (on-call decision)."),
    "canary": _lazy("cli_canary", "canary",
                    "Show a canary's state and every step's verdict with its figures."),
    "traffic": _lazy("cli_canary", "traffic", "Send Open Inference Protocol requests built "
                     "from validation data (for canaries)."),
    "gateway": _lazy("cli_canary", "gateway", "Run the inference gateway (OIP v2, stable/canary "
                     "slots, mTLS admin API); --help lists its options (the gateway's own "
                     "parser: ``python -m medpipe.workers.gateway``)."),
    # keys (BYOK/BYOHSM), specs, offboarding, approvals and the roster
    "keys": _lazy("cli_keys", "keys",
                  "Customer-held keys: create, rotate, shred, export public keys."),
    "spec": _lazy("cli_spec", "spec_group", "Release specs: what the model is, which columns "
                  "it reads, how it is gated."),
    "offboard": _lazy("cli_offboard", "offboard_command", "Export every artifact decrypted to "
                      "TARGET, crypto-shred, delete, certify in the ledger."),
    "approve": _lazy("cli_approve", "approve_command", "Sign a promotion approval of RELEASE "
                     "with your own key and submit it to its canary."),
    "roster": _lazy("cli_roster", "roster_group", "The signed roster of people, keys and roles."),
    "approvals": _lazy("cli_roster", "approvals_group",
                       "Check signed approvals against the roster."),
    # the Web UI's codec server, signatures, evidence and the ledger
    "codec-server": _lazy("cli_codec", "codec_server", "Serve /encode and /decode for the "
                          "Temporal Web UI (authorized staff only)."),
    "codec-rotate": _lazy("cli_codec", "codec_rotate", "Add a new current codec key; payloads "
                          "sealed under older keys still decode."),
    "verify": _lazy("cli_sign", "verify_command",
                    "Verify a signed MODEL, or a release's evidence directory, offline."),
    "evidence": _lazy("cli_sign", "evidence_command", "Write the evidence of RELEASE (model, "
                      "signature, provenance, SBOMs, DPIA, ledger)."),
    "ledger": _lazy("cli_sign", "ledger_group", "Inspect and verify the provenance ledger."),
    # data stewards: preview a policy, draft one, re-identify (with the key)
    "pseudonymize": _lazy("cli_pseudo", "pseudonymize_cmd",
                          "Pseudonymize SRC into DST and print the report (counts only)."),
    "policy": _lazy("cli_pseudo", "policy_group", "Pseudonymization policies."),
    "reidentify": _lazy("cli_pseudo", "reidentify_cmd", "Print the identifier behind TOKEN "
                        "(needs the vault's key and, with a roster, a data steward's signed "
                        "approval: medpipe approve TOKEN --action reidentify); every use is "
                        "recorded."),
    # whoever runs the local stack
    "dev": _lazy("cli_dev", "dev",
                 "The local stack: Temporal dev server + UI and one worker per profile."),
    "front": _lazy("cli_front", "front",
                   "The front clinical callers use: one URL, regional gateways behind it."),
    "chaos": _lazy("cli_chaos", "chaos",
                   "Chaos exercises (non-production fleets only): run, schedule, report."),
}
def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_line())
        ctx.exit()


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.option("--config", "config_path", envvar="MEDPIPE_CONFIG", default=None,
              help="YAML configuration (default: the embedded local stack).")
@click.option("--address", envvar="MEDPIPE_TEMPORAL_ADDRESS", default=None,
              help="Temporal frontend host:port.")
@click.option("--tls-cert", envvar="MEDPIPE_TLS_CERT", default=None,
              help="Client certificate (PEM) for mutual TLS to Temporal.")
@click.option("--tls-key", envvar="MEDPIPE_TLS_KEY", default=None, help="Client key (PEM).")
@click.option("--tls-ca", envvar="MEDPIPE_TLS_CA", default=None,
              help="CA certificate (PEM) that signed the server's certificate.")
@click.option("--tls-server-name", envvar="MEDPIPE_TLS_SERVER_NAME", default=None,
              help="Expected server name in the server certificate.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Print the version and code revision, and exit.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, address: str | None,
         tls_cert: str | None, tls_key: str | None, tls_ca: str | None,
         tls_server_name: str | None) -> None:
    """medpipe: durable, secure releases of healthcare AI models on Temporal."""
    from medpipe.contracts.errors import MedpipeError
    from medpipe.workers.cli_errors import report
    from medpipe.workers.config import load_config

    try:
        cfg = load_config(config_path)
    except MedpipeError as e:
        report(e)
    updates: dict[str, Any] = {}
    if address:
        updates["temporal_address"] = address
    tls = {k: v for k, v in {"cert": tls_cert, "key": tls_key, "ca": tls_ca,
                             "server_name": tls_server_name}.items() if v}
    if tls:
        updates["tls"] = cfg.tls.model_copy(update=tls)
    ctx.obj = cfg.model_copy(update=updates)


def _temporal_client_used() -> bool:
    """Whether this process created a Temporal client (never, unless a command imported
    ``workers.client``: ``--help`` and the offline commands do not)."""
    client = sys.modules.get("medpipe.workers.client")
    return client is not None and bool(client.temporal_client_used())


def run() -> NoReturn:
    """The console script: ``main``, then exit without interpreter teardown once a Temporal
    client was used.

    The SDK's Rust threads may still release the GIL while CPython finalizes, which aborts the
    process (SIGABRT, "PyGILState_Release: thread state … must be current when releasing";
    temporalio/sdk-python#300): a refusal printed with exit status 2 would end as a crash,
    about one run in three here. Output and logs are flushed first, and the process's
    scratch directory (``workers.scratch``) removed: its ``atexit`` handler would not run,
    and nothing else of medpipe relies on teardown.
    """
    try:
        # One completion variable however it is started (console script or ``python -m``).
        main(complete_var=COMPLETE_VAR)
        code: int = 0
    except SystemExit as e:
        if not _temporal_client_used():
            raise
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    if not _temporal_client_used():
        sys.exit(code)
    scratch = sys.modules.get("medpipe.workers.scratch")
    if scratch is not None:
        scratch.remove()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


__all__ = ["COMMANDS", "main", "run"]

if __name__ == "__main__":
    run()

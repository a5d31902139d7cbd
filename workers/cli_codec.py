"""``medpipe codec-server`` and ``medpipe codec-rotate``: the payload codec from the CLI.

Kept apart from ``workers/cli.py`` so the codec's options live next to the
codec; ``cli.py`` registers both commands with ``main.add_command``.
The bearer token is read from an environment variable (never an option
value, which would show in ``ps`` and shell history).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from medpipe.activities.signing.ledger import Ledger
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.codec import KEYRING_FILE, EncryptionCodec
from medpipe.workers.codec_server import AUDIT_FILE, DEFAULT_UI_ORIGIN, CodecServer, ServerTLS
from medpipe.workers.config import medpipe_home


def _codec(key_uri: str, kek: str, keyring: str | None) -> EncryptionCodec:
    from medpipe.activities.keys.base import open_provider

    directory = Path(keyring) if keyring else medpipe_home()
    if directory.name == KEYRING_FILE:
        directory = directory.parent
    return EncryptionCodec.open(directory, open_provider(key_uri), kek)


def _ledger(ledger_uri: str | None, key_uri: str, signing_key: str,
            checkpoint_uri: str | None = None) -> Ledger | None:
    if not ledger_uri:
        return None
    from medpipe.activities.keys.base import open_provider
    from medpipe.activities.signing.ledger import open_ledger

    return open_ledger(ledger_uri, checkpoint_uri or "", open_provider(key_uri), signing_key)


_key_uri = click.option("--key-uri", envvar="MEDPIPE_CODEC_KEY_URI", required=True,
                        help="Key provider wrapping the codec keys "
                             "(local:///…/keyring.json, aws-kms://REGION, pkcs11:///…).")
_kek = click.option("--kek", envvar="MEDPIPE_CODEC_KEK", default="medpipe-codec",
                    show_default=True, help="Key-encryption key id in that provider.")
_keyring = click.option("--keyring", envvar="MEDPIPE_CODEC_KEYRING", default=None,
                        help=f"Directory of {KEYRING_FILE} (default: $MEDPIPE_HOME).")


@click.command("codec-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8081, show_default=True)
@click.option("--token-env", default="MEDPIPE_CODEC_TOKEN", show_default=True,
              help="Environment variable holding the bearer token staff must send.")
@click.option("--ui-origin", "ui_origins", multiple=True, default=(DEFAULT_UI_ORIGIN,),
              show_default=True, help="Temporal Web UI origin allowed by CORS (repeatable).")
@click.option("--namespace", "namespaces", multiple=True,
              help="Serve only these namespaces (X-Namespace; repeatable; default: any).")
@click.option("--tls-cert", default=None, help="Server certificate (PEM): serve HTTPS.")
@click.option("--tls-key", default=None, help="Server key (PEM).")
@click.option("--client-ca", default=None,
              help="CA of staff client certificates: require mutual TLS.")
@click.option("--oidc-issuer", envvar="MEDPIPE_CODEC_OIDC_ISSUER", default=None,
              help="Accept OIDC access tokens from this issuer (the Web UI's passAccessToken).")
@click.option("--oidc-audience", envvar="MEDPIPE_CODEC_OIDC_AUDIENCE", default=None,
              help="The 'aud' those access tokens must carry.")
@click.option("--oidc-ca", default=None, help="CA bundle for the issuer's HTTPS (PEM).")
@click.option("--audit-log", default=None,
              help=f"JSON-lines audit log of every decode (default: $MEDPIPE_HOME/{AUDIT_FILE}).")
@click.option("--ui-upstream", default=None,
              help="Serve this Temporal Web UI (http://host:port) at / of the codec server, "
                   "the codec endpoint then under /codec: one origin, one login.")
@click.option("--ledger-uri", envvar="MEDPIPE_LEDGER_URI", default=None,
              help="Also append the audit records to this provenance ledger (batched).")
@click.option("--ledger-checkpoint-uri", envvar="MEDPIPE_LEDGER_CHECKPOINT_URI", default=None,
              help="Bucket of the ledger's head checkpoints (fleet.ledger_checkpoint_uri).")
@click.option("--signing-key", default="medpipe-signing", show_default=True,
              help="Ledger signing key id in the --key-uri provider.")
@click.option("--session-hours", type=float, default=8.0, show_default=True,
              help="How long a /login session lasts.")
@_key_uri
@_kek
@_keyring
@clear_errors
def codec_server(host: str, port: int, token_env: str, ui_origins: tuple[str, ...],
                 namespaces: tuple[str, ...], tls_cert: str | None, tls_key: str | None,
                 client_ca: str | None, oidc_issuer: str | None, oidc_audience: str | None,
                 oidc_ca: str | None, audit_log: str | None, ui_upstream: str | None,
                 ledger_uri: str | None, ledger_checkpoint_uri: str | None, signing_key: str,
                 session_hours: float, key_uri: str, kek: str, keyring: str | None) -> None:
    """Serve /encode and /decode for the Temporal Web UI (authorized staff only)."""
    from medpipe.workers.oidc import OIDCSettings

    token = os.environ.get(token_env) or None
    if bool(oidc_issuer) != bool(oidc_audience):
        raise click.UsageError("--oidc-issuer and --oidc-audience go together")
    oidc = OIDCSettings(oidc_issuer, oidc_audience, ca=oidc_ca) \
        if oidc_issuer and oidc_audience else None
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if client_ca and not tls_cert:
        raise click.UsageError("--client-ca needs --tls-cert/--tls-key (mutual TLS)")
    if not token and not client_ca and not oidc:
        raise click.UsageError(f"set the bearer token in ${token_env}, trust an OIDC issuer "
                               "(--oidc-issuer/--oidc-audience) or require client "
                               "certificates with --client-ca: the codec server never "
                               "decrypts for anonymous callers")
    tls = (ServerTLS(Path(tls_cert), Path(tls_key), Path(client_ca) if client_ca else None)
           if tls_cert and tls_key else None)
    try:
        server = CodecServer(_codec(key_uri, kek, keyring), token=token,
                             ui_origins=list(ui_origins), host=host, port=port, tls=tls,
                             namespaces=set(namespaces) if namespaces else None, oidc=oidc,
                             audit_log=Path(audit_log) if audit_log else None,
                             session_ttl_s=session_hours * 3600, ui_upstream=ui_upstream,
                             ledger=_ledger(ledger_uri, key_uri, signing_key,
                                            ledger_checkpoint_uri))
    except InvalidInput as e:
        raise click.UsageError(e.message) from None
    except MedpipeError as e:
        raise click.ClickException(e.message) from None
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None
    ways = [w for w, on in (("token", token), ("OIDC " + (oidc_issuer or ""), oidc),
                            ("client certificate", client_ca)) if on]
    click.echo(f"codec server on {server.url} (CORS: {', '.join(ui_origins)}; "
               f"auth: {' / '.join(ways)}; audit: {server.audit.path}"
               f"{' + ledger ' + ledger_uri if ledger_uri else ''})")
    try:
        server.serve()
    except KeyboardInterrupt:
        pass


@click.command("codec-rotate")
@_key_uri
@_kek
@_keyring
@clear_errors
def codec_rotate(key_uri: str, kek: str, keyring: str | None) -> None:
    """Add a new current codec key; payloads sealed under older keys still decode."""
    codec = _codec(key_uri, kek, keyring)
    new = codec.rotate()
    click.echo(f"codec key {new} is now current ({len(codec.key_ids)} keys in the keyring)")

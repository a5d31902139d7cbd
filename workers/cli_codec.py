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

from medpipe.workers.codec import KEYRING_FILE, EncryptionCodec
from medpipe.workers.codec_server import DEFAULT_UI_ORIGIN, CodecServer, ServerTLS
from medpipe.workers.config import medpipe_home


def _codec(key_uri: str, kek: str, keyring: str | None) -> EncryptionCodec:
    from medpipe.activities.keys.base import open_provider

    directory = Path(keyring) if keyring else medpipe_home()
    if directory.name == KEYRING_FILE:
        directory = directory.parent
    return EncryptionCodec.open(directory, open_provider(key_uri), kek)


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
@_key_uri
@_kek
@_keyring
def codec_server(host: str, port: int, token_env: str, ui_origins: tuple[str, ...],
                 namespaces: tuple[str, ...], tls_cert: str | None, tls_key: str | None,
                 client_ca: str | None, key_uri: str, kek: str, keyring: str | None) -> None:
    """Serve /encode and /decode for the Temporal Web UI (authorized staff only)."""
    token = os.environ.get(token_env) or None
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if client_ca and not tls_cert:
        raise click.UsageError("--client-ca needs --tls-cert/--tls-key (mutual TLS)")
    if not token and not client_ca:
        raise click.UsageError(f"set the bearer token in ${token_env} or require client "
                               "certificates with --client-ca: the codec server never "
                               "decrypts for anonymous callers")
    tls = (ServerTLS(Path(tls_cert), Path(tls_key), Path(client_ca) if client_ca else None)
           if tls_cert and tls_key else None)
    server = CodecServer(_codec(key_uri, kek, keyring), token=token, ui_origins=list(ui_origins),
                         host=host, port=port, tls=tls,
                         namespaces=set(namespaces) if namespaces else None)
    click.echo(f"codec server on {server.url} (CORS: {', '.join(ui_origins)}; "
               f"auth: {'token' if token else ''}{' + ' if token and client_ca else ''}"
               f"{'client certificate' if client_ca else ''})")
    try:
        server.serve()
    except KeyboardInterrupt:
        pass


@click.command("codec-rotate")
@_key_uri
@_kek
@_keyring
def codec_rotate(key_uri: str, kek: str, keyring: str | None) -> None:
    """Add a new current codec key; payloads sealed under older keys still decode."""
    codec = _codec(key_uri, kek, keyring)
    new = codec.rotate()
    click.echo(f"codec key {new} is now current ({len(codec.key_ids)} keys in the keyring)")

"""``medpipe keys`` (workers.cli_keys) against a local keyring and SoftHSM2."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from medpipe.activities.keys import open_provider
from medpipe.contracts.errors import KeyProviderError
from medpipe.workers.cli_keys import keys
from tests.keyfixtures import softhsm_token

CTX = {"object": "o"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(keys, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


def test_create_rotate_shred_with_local_keyring(tmp_path: Path) -> None:
    uri = f"local://{tmp_path}/keyring.json"
    code, out = run("create", "kek", "--provider", uri)
    assert code == 0 and "kek#v1" in out
    provider = open_provider(uri)
    data_key, wrapped = provider.new_data_key("kek", CTX)

    code, out = run("rotate", "kek", "--provider", uri)
    assert code == 0 and "kek#v2" in out
    assert provider.new_data_key("kek", CTX)[1].key_id == "kek#v2"

    code, out = run("shred", "kek", "--provider", uri)
    assert code == 2 and "--yes" in out
    assert provider.unwrap(wrapped, CTX) == data_key  # nothing destroyed without --yes

    code, out = run("shred", "kek", "--provider", uri, "--yes")
    assert code == 0 and "unrecoverable" in out
    with pytest.raises(KeyProviderError, match="destroyed"):
        provider.unwrap(wrapped, CTX)


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    uri = f"local://{tmp_path}/keyring.json"
    code, out = run("rotate", "nope", "--key-uri", uri)
    keyring = tmp_path / "keyring.json"
    # the provider refuses (exit 1); a URI nobody can read is a usage error (exit 2)
    assert code == 1 and out.strip() == f"error: unknown key 'nope' in keyring {keyring}"
    code, out = run("create", "k", "--key-uri", "nosuch://x")
    assert code == 2 and out.startswith("error: unknown key provider") and "Traceback" not in out
    code, out = run("create", "k")
    assert code == 2 and "--key-uri" in out  # click's usage error
    code, out = run("rotate", "nope", "--provider", uri)  # the old name still works
    assert code == 1 and "unknown key 'nope'" in out


def test_export_public_key_of_hsm_signing_key(tmp_path: Path) -> None:
    uri, _ = softhsm_token(tmp_path / "hsm", label="cli")
    code, out = run("create", "release-signer", "--provider", uri, "--signing")
    assert code == 0 and "signing key release-signer" in out

    code, stdout_pem = run("export-public", "release-signer", "--provider", uri)
    assert code == 0 and stdout_pem.startswith("-----BEGIN PUBLIC KEY-----")
    out_file = tmp_path / "signer.pub.pem"
    code, out = run("export-public", "release-signer", "--provider", uri, "-o", str(out_file))
    assert code == 0 and out_file.read_text() == stdout_pem

    digest = hashlib.sha256(b"bundle").digest()
    signature = open_provider(uri).sign_digest("release-signer", digest)
    public = serialization.load_pem_public_key(out_file.read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    out_file.write_text("something else")
    code, out = run("export-public", "release-signer", "--provider", uri, "-o", str(out_file))
    assert code == 2 and "exists with other content" in out
    assert out_file.read_text() == "something else"

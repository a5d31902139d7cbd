"""``medpipe dev init``: the deployment's local state, created once, checked by openssl.

The default configuration (local stores) is used, as a container's first start
would: buckets, the local keyring with its three keys, the exported public
signing key, the codec keyring and token, and the gateways' admin PKI.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BUCKETS = ("aws-us-east-1", "gcp-europe-west3", "azure-eastus", "onprem-gpu-01",
           "registry", "vault", "ledger")
PRIVATE = ("keys/keyring.json", "codec-keys.json", "codec-token",
           "pki/gateway/gateway-ca.key", "pki/gateway/gateway.key",
           "pki/gateway/deployer.key")


def dev_init(home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MEDPIPE_")}  # the default configuration, as shipped
    return subprocess.run([sys.executable, "-m", "medpipe", "dev", "init"], cwd=home.parent,
                          env={**env, "MEDPIPE_HOME": str(home)}, capture_output=True,
                          text=True, timeout=120)


def snapshot(home: Path) -> dict[str, tuple[str, int]]:
    """Every file and directory under ``home``: content digest (files) and mode."""
    out = {}
    for p in sorted(home.rglob("*")):
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(home))] = (digest, stat.S_IMODE(p.stat().st_mode))
    return out


def openssl(*args: str, cwd: Path) -> str:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("init") / "home"
    r = dev_init(home)
    assert r.returncode == 0, r.stdout + r.stderr
    return home, r.stdout


def test_dev_init_creates_buckets_keys_codec_keyring_and_pki(
        initialised: tuple[Path, str]) -> None:
    home, out = initialised
    assert f"initialised {home}" in out
    for bucket in BUCKETS:
        assert (home / "buckets" / bucket).is_dir(), bucket
    keyring = json.loads((home / "keys" / "keyring.json").read_text())
    assert set(keyring["keys"]) == {"medpipe-data", "medpipe-signing", "medpipe-codec"}
    codec = json.loads((home / "codec-keys.json").read_text())
    assert codec["current"] in codec["keys"]
    assert len((home / "codec-token").read_text().strip()) >= 32
    for private in PRIVATE:
        assert stat.S_IMODE((home / private).stat().st_mode) == 0o600, private
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700


def test_dev_init_pki_and_public_key_verify_with_openssl(
        initialised: tuple[Path, str]) -> None:
    home, _ = initialised
    pki = home / "pki" / "gateway"
    verified = openssl("verify", "-CAfile", "gateway-ca.crt", "gateway.crt", "deployer.crt",
                       cwd=pki)
    assert "gateway.crt: OK" in verified and "deployer.crt: OK" in verified
    server = openssl("x509", "-in", "gateway.crt", "-noout", "-ext",
                     "subjectAltName,extendedKeyUsage", cwd=pki)
    assert "DNS:localhost" in server and "TLS Web Server Authentication" in server
    client = openssl("x509", "-in", "deployer.crt", "-noout", "-ext", "extendedKeyUsage",
                     cwd=pki)
    assert "TLS Web Client Authentication" in client
    for name in ("gateway", "deployer"):  # each key belongs to its certificate
        from_key = openssl("pkey", "-in", f"{name}.key", "-pubout", cwd=pki)
        from_cert = openssl("x509", "-in", f"{name}.crt", "-noout", "-pubkey", cwd=pki)
        assert from_key == from_cert, name
    public = openssl("pkey", "-pubin", "-in", str(home / "keys" / "signing.pub.pem"),
                     "-noout", "-text", cwd=home)
    assert "prime256v1" in public or "P-256" in public


def test_dev_init_twice_changes_nothing(initialised: tuple[Path, str]) -> None:
    home, _ = initialised
    before = snapshot(home)
    again = dev_init(home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert snapshot(home) == before  # same keys, same certificates, same token


def test_dev_init_with_an_emulator_down_names_it_without_a_traceback(tmp_path: Path) -> None:
    from medpipe.workers.devserver import free_port

    config = tmp_path / "medpipe.yaml"
    config.write_text(f"emulator_base_port: {free_port()}\n")  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDPIPE_")}
    r = subprocess.run([sys.executable, "-m", "medpipe", "dev", "init"], capture_output=True,
                       text=True, timeout=120,
                       env={**env, "MEDPIPE_HOME": str(tmp_path / "home"),
                            "MEDPIPE_CONFIG": str(config), "MEDPIPE_STORAGE": "emulated",
                            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    assert r.returncode == 3, r.stdout + r.stderr  # infrastructure unreachable
    assert "Traceback" not in r.stderr
    assert "does not answer" in r.stderr and "127.0.0.1" in r.stderr, r.stderr

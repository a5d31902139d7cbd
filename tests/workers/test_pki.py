"""The PKI writes private keys at 0600, atomically, never readable by others even briefly."""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

import pytest

import medpipe.activities.atomicfile as atomicfile
import medpipe.workers.pki as pki
from medpipe.activities.tls import client_context, server_context
from medpipe.workers.pki import KEY_MODE, CertificateAuthority, make_test_pki


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive umask: nothing may depend on it
    try:
        made = make_test_pki(tmp_path / "pki")
        ca = CertificateAuthority.create(tmp_path / "dev", "gateway-ca")
        ca.issue(tmp_path / "dev", "gateway", "medpipe-gateway", server=True)
    finally:
        os.umask(old)
    keys = sorted((tmp_path / "pki").glob("*.key")) + sorted((tmp_path / "dev").glob("*.key"))
    assert made.client_key in keys and len(keys) == 7
    assert {k.name: _mode(k) for k in keys} == {k.name: 0o600 for k in keys}
    assert not [p for p in tmp_path.rglob(".*")], "a temporary file was left behind"


def test_every_key_goes_through_write_atomically_and_is_private_while_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[tuple[str, int]] = []
    modes_at_sync: list[int] = []
    real_write, real_fsync = atomicfile.write_atomically, os.fsync

    def spy_write(path: Path, data: bytes, mode: int = 0o600) -> None:
        writes.append((path.name, mode))
        real_write(path, data, mode)

    def spy_fsync(fd: int) -> None:  # the key's bytes are in the file at this point
        if stat.S_ISREG(os.fstat(fd).st_mode):
            modes_at_sync.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(pki, "write_atomically", spy_write)
    monkeypatch.setattr(atomicfile.os, "fsync", spy_fsync)
    old = os.umask(0)
    try:
        CertificateAuthority.create(tmp_path, "ca").issue(tmp_path, "client", "c", server=False)
    finally:
        os.umask(old)
    key_writes = [(name, mode) for name, mode in writes if name.endswith(".key")]
    assert key_writes == [("ca.key", KEY_MODE), ("client.key", KEY_MODE)]
    assert KEY_MODE == 0o600
    synced = dict(zip([name for name, _ in writes], modes_at_sync, strict=True))
    assert synced["ca.key"] == 0o600 and synced["client.key"] == 0o600


def test_the_minted_certificates_make_a_working_mtls_pair(tmp_path: Path) -> None:
    made = make_test_pki(tmp_path)
    server = server_context(made.server_cert, made.server_key, made.ca_cert)
    client = client_context(made.client_settings())
    assert server.minimum_version == ssl.TLSVersion.TLSv1_3
    assert client.minimum_version == ssl.TLSVersion.TLSv1_3
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname

"""A small private PKI for the local stack and the tests.

Generates a CA (EC P-256), server certificates (SAN: ``localhost``, ``127.0.0.1``
and any names given) and client certificates, as PEM files. Real deployments
bring their own PKI; this exists so that every mutual-TLS path is on from the
first command and exercised for real in the tests, not bolted on later.

Private keys are written through ``write_atomically`` at mode 0600: the mode is
set before the first byte, so a key is never readable by others, not even for
an instant, and a crash never leaves half a key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from medpipe.activities.atomicfile import write_atomically
from medpipe.activities.tls import TLSSettings

#: Mode of every private key file written here.
KEY_MODE = 0o600


@dataclass(frozen=True)
class CertFiles:
    """A certificate and its private key on disk."""

    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "medpipe"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(out: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
           ) -> CertFiles:
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / f"{stem}.crt", out / f"{stem}.key"
    write_atomically(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()), mode=KEY_MODE)
    write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return CertFiles(cert_path, key_path)


class CertificateAuthority:
    """A CA that issues server and client certificates."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
                 files: CertFiles) -> None:
        self.cert, self.key, self.files = cert, key, files

    @classmethod
    def create(cls, out: Path, name: str = "medpipe-dev-ca",
               days: int = 365) -> CertificateAuthority:
        """A new self-signed CA, allowed to sign end-entity certificates only,
        written to ``out/<name>.crt|key``."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                             crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        return cls(cert, key, _write(out, name, cert, key))

    def issue(self, out: Path, stem: str, common_name: str, *, server: bool,
              names: tuple[str, ...] = ("localhost",),
              ips: tuple[str, ...] = ("127.0.0.1",), days: int = 90) -> CertFiles:
        """Issue a server (serverAuth, SANs ``names`` and ``ips``) or client (clientAuth)
        certificate, written to ``out/<stem>.crt|key``."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder().subject_name(_name(common_name))
                   .issuer_name(self.cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.key.public_key()), critical=False))
        if server:
            sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
            sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return _write(out, stem, cert, key)


@dataclass(frozen=True)
class GatewayPKI:
    """The gateways' admin API mutual TLS: a CA, the gateways' server certificate and the
    deployer's client certificate (presented by workers)."""

    ca: Path
    server: CertFiles
    deployer: CertFiles

    @classmethod
    def create(cls, out: Path, names: tuple[str, ...] = ("localhost",)) -> GatewayPKI:
        """Mint the three into ``out`` (``gateway-ca``, ``gateway``, ``deployer``)."""
        ca = CertificateAuthority.create(out, "gateway-ca")
        server = ca.issue(out, "gateway", "medpipe-gateway", server=True, names=names)
        deployer = ca.issue(out, "deployer", "medpipe-deployer", server=False)
        return cls(ca.files.cert, server, deployer)

    @classmethod
    def at(cls, out: Path) -> GatewayPKI:
        """The files ``create`` writes into ``out`` (whether or not they exist yet)."""
        return cls(out / "gateway-ca.crt", CertFiles(out / "gateway.crt", out / "gateway.key"),
                   CertFiles(out / "deployer.crt", out / "deployer.key"))

    @property
    def deployer_tls(self) -> TLSSettings:
        """The deployer's client settings (``gateway_tls`` in the configuration)."""
        return TLSSettings(ca=self.ca, cert=self.deployer.cert, key=self.deployer.key)


@dataclass(frozen=True)
class TestPKI:
    """Paths of the PEM files written by ``make_test_pki``."""

    __test__ = False  # not a pytest test class despite the name

    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path
    other_client_cert: Path
    other_client_key: Path

    def client_settings(self, client: Literal["ours", "foreign", "none"] = "ours"
                        ) -> TLSSettings:
        """Client TLS settings pinning this CA, with our client certificate, the unrelated
        CA's, or none."""
        if client == "none":
            return TLSSettings(ca=self.ca_cert)
        if client == "foreign":
            return TLSSettings(ca=self.ca_cert, cert=self.other_client_cert,
                               key=self.other_client_key)
        return TLSSettings(ca=self.ca_cert, cert=self.client_cert, key=self.client_key)


def make_test_pki(directory: Path, client_name: str = "medpipe-admin") -> TestPKI:
    """Write a CA with a server (``127.0.0.1``/``localhost``) and a client certificate,
    and an unrelated CA whose client certificate (same name) must be refused.

    Args:
        directory: where the PEM files go (created if missing; keys are mode 0600).
        client_name: CN of both client certificates.
    """
    ca = CertificateAuthority.create(directory, "ca", days=7)
    other_ca = CertificateAuthority.create(directory, "other-ca", days=7)
    server = ca.issue(directory, "server", "medpipe gateway", server=True, days=7)
    client = ca.issue(directory, "client", client_name, server=False, days=7)
    other = other_ca.issue(directory, "other-client", client_name, server=False, days=7)
    return TestPKI(directory, ca.files.cert, server.cert, server.key, client.cert, client.key,
                   other_ca.files.cert, other.cert, other.key)

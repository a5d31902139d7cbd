"""A small PKI for tests and the dev stack, and TLS 1.3-only SSL context builders.

Production certificates come from the operator's PKI; this module only mints
throw-away ones (EC P-256, short-lived) so that every mTLS path in medpipe is
exercised for real on 127.0.0.1: a CA, a server certificate for
``127.0.0.1``/``localhost``, a client certificate, and a second unrelated CA with
its own client certificate to prove that a foreign client is refused.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from medpipe.contracts.errors import TLSError

_VALIDITY = dt.timedelta(days=7)


@dataclass(frozen=True)
class Issued:
    """A private key and its certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


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


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "medpipe test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def generate_ca(common_name: str) -> Issued:
    """A self-signed CA certificate allowed to sign end-entity certificates only."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue_cert(ca: Issued, common_name: str, *, hosts: list[str] | None = None,
               client: bool = False) -> Issued:
    """Issue an end-entity certificate signed by ``ca``.

    Args:
        ca: the issuing CA.
        common_name: subject CN (e.g. the admin client's identity).
        hosts: DNS names / IP addresses for a server certificate's SAN.
        client: mark the certificate for TLS client authentication.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usages = []
    if hosts:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                       critical=False)
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def _write(directory: Path, stem: str, issued: Issued, with_key: bool = True) -> tuple[Path, Path]:
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    if with_key:
        key_path.write_bytes(issued.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        key_path.chmod(0o600)
    return cert_path, key_path


def make_test_pki(directory: Path, hosts: list[str] | None = None,
                  client_name: str = "medpipe-admin") -> TestPKI:
    """Write a CA, a server and a client certificate, and a foreign CA with its client.

    Args:
        directory: where the PEM files go (created if missing; keys are mode 0600).
        hosts: server SAN entries (default ``127.0.0.1`` and ``localhost``).
        client_name: CN of the trusted client certificate.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca = generate_ca("medpipe test CA")
    other_ca = generate_ca("unrelated CA")
    server = issue_cert(ca, "medpipe gateway", hosts=hosts or ["127.0.0.1", "localhost"])
    client = issue_cert(ca, client_name, client=True)
    other_client = issue_cert(other_ca, client_name, client=True)
    ca_cert, _ = _write(directory, "ca", ca, with_key=False)
    other_ca_cert, _ = _write(directory, "other-ca", other_ca, with_key=False)
    server_cert, server_key = _write(directory, "server", server)
    client_cert, client_key = _write(directory, "client", client)
    other_cert, other_key = _write(directory, "other-client", other_client)
    return TestPKI(directory, ca_cert, server_cert, server_key, client_cert, client_key,
                   other_ca_cert, other_cert, other_key)


def server_ssl_context(cert: Path, key: Path, client_ca: Path | None,
                       require_client_cert: bool = True) -> ssl.SSLContext:
    """A TLS 1.3-only server context, requiring a client certificate from ``client_ca``.

    Raises:
        TLSError: a file is missing or unreadable, or a client CA is required but absent.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    try:
        ctx.load_cert_chain(str(cert), str(key))
        if client_ca is not None:
            ctx.load_verify_locations(cafile=str(client_ca))
    except (OSError, ssl.SSLError) as e:
        raise TLSError(f"server TLS material unusable ({cert.name}, {key.name}): {e}") from e
    if require_client_cert:
        if client_ca is None:
            raise TLSError("a client CA is required to verify client certificates")
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_ssl_context(ca: Path, cert: Path | None = None,
                       key: Path | None = None) -> ssl.SSLContext:
    """A TLS 1.3-only client context trusting only ``ca``, presenting ``cert`` if given.

    Raises:
        TLSError: a file is missing or unreadable.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    try:
        ctx.load_verify_locations(cafile=str(ca))
        if cert is not None:
            ctx.load_cert_chain(str(cert), str(key) if key else None)
    except (OSError, ssl.SSLError) as e:
        raise TLSError(f"client TLS material unusable: {e}") from e
    return ctx

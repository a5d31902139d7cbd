"""Ingestion sources: mutual TLS against a real HTTPS server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from medpipe.activities.sources import open_source
from medpipe.activities.tls import TLSSettings
from medpipe.contracts.errors import AccessDenied, InvalidInput, NotFound, TLSError
from medpipe.workers.pki import CertificateAuthority

PAYLOAD = bytes(range(256)) * 40_000  # ~10 MB


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority.create(out, "source-ca")
    other = CertificateAuthority.create(out, "other-ca")
    return {
        "ca": ca,
        "server": ca.issue(out, "server", "localhost", server=True),
        "wrong_name": ca.issue(out, "wrong-name", "elsewhere", server=True,
                               names=("elsewhere.example",), ips=()),
        "client": ca.issue(out, "client", "worker-aws", server=False),
        "other_client": other.issue(out, "other-client", "intruder", server=False),
    }


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/cohort.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/forbidden":
            self.send_response(403)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def serve(pki: dict[str, object], cert_key: str = "server",
          max_version: ssl.TLSVersion | None = None) -> Iterator[str]:
    ca: CertificateAuthority = pki["ca"]  # type: ignore[assignment]
    files = pki[cert_key]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files.cert, files.key)  # type: ignore[attr-defined]
    ctx.load_verify_locations(cafile=ca.files.cert)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if max_version:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = max_version
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def https(pki: dict[str, object]) -> Iterator[str]:
    yield from serve(pki)


def tls_for(pki: dict[str, object], client: str | None = "client") -> TLSSettings:
    ca: CertificateAuthority = pki["ca"]  # type: ignore[assignment]
    if client is None:
        return TLSSettings(ca=str(ca.files.cert))
    files = pki[client]
    return TLSSettings(ca=str(ca.files.cert), cert=str(files.cert),  # type: ignore[attr-defined]
                     key=str(files.key))  # type: ignore[attr-defined]


def test_mutual_tls_streams_the_source(https: str, pki: dict[str, object]) -> None:
    chunks = list(open_source(f"{https}/cohort.csv", tls_for(pki)))
    assert len(chunks) > 1  # streamed, not one read
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(PAYLOAD).digest()


def test_without_a_client_certificate_is_refused(https: str, pki: dict[str, object]) -> None:
    with pytest.raises(TLSError, match="requires a client certificate and none is configured"):
        list(open_source(f"{https}/cohort.csv", tls_for(pki, None)))


def test_a_client_certificate_from_another_ca_is_refused(
        https: str, pki: dict[str, object]) -> None:
    with pytest.raises(TLSError, match="refused our client certificate"):
        list(open_source(f"{https}/cohort.csv", tls_for(pki, "other_client")))


def test_a_tls12_only_server_is_refused(pki: dict[str, object]) -> None:
    for url in serve(pki, max_version=ssl.TLSVersion.TLSv1_2):
        with pytest.raises(TLSError, match="does not offer TLS 1.3"):
            list(open_source(f"{url}/cohort.csv", tls_for(pki)))


def test_a_server_certificate_for_another_name_is_refused(pki: dict[str, object]) -> None:
    for url in serve(pki, cert_key="wrong_name"):
        with pytest.raises(TLSError, match="not valid for that name"):
            list(open_source(f"{url}/cohort.csv", tls_for(pki)))


def test_a_server_from_an_unpinned_ca_is_refused(https: str, pki: dict[str, object],
                                                 tmp_path: Path) -> None:
    other = CertificateAuthority.create(tmp_path, "unpinned")
    tls = TLSSettings(ca=str(other.files.cert), cert=tls_for(pki).cert, key=tls_for(pki).key)
    with pytest.raises(TLSError, match="not signed by the pinned CA"):
        list(open_source(f"{https}/cohort.csv", tls))


def test_no_pinned_ca_is_refused_before_connecting() -> None:
    with pytest.raises(TLSError, match="no CA is pinned"):
        list(open_source("https://127.0.0.1:1/x", TLSSettings()))


def test_http_errors_are_typed(https: str, pki: dict[str, object]) -> None:
    with pytest.raises(NotFound, match="HTTP 404"):
        list(open_source(f"{https}/missing.csv", tls_for(pki)))
    with pytest.raises(AccessDenied, match="HTTP 403"):
        list(open_source(f"{https}/forbidden", tls_for(pki)))


def test_unknown_scheme_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unsupported source scheme 'ftp://'"):
        open_source("ftp://example/x")
    with pytest.raises(NotFound, match="does not exist"):
        open_source((tmp_path / "nope").as_uri())


class _FileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.asyncio
async def test_a_release_ingests_over_mutual_tls(client, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 pki: dict[str, object],
                                                 sample: dict[str, Path]) -> None:
    import functools

    from tests.support import make_fleet, make_request, running_workers, start

    ca: CertificateAuthority = pki["ca"]  # type: ignore[assignment]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki["server"].cert, pki["server"].key)  # type: ignore[attr-defined]
    ctx.load_verify_locations(cafile=ca.files.cert)
    ctx.verify_mode = ssl.CERT_REQUIRED
    handler = functools.partial(_FileHandler, directory=str(sample["dataset"].parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        fleet = make_fleet(tmp_path)
        request = make_request(fleet, sample, model_uri=f"{base}/model.onnx",
                               data_uri=f"{base}/cohort.csv")
        async with running_workers(client, fleet, ["aws/us-east-1"],
                                   source_tls=tls_for(pki)):
            status = await (await start(client, request)).result()
    finally:
        server.shutdown()
        server.server_close()
    dataset = status.ingest.artifact("dataset")
    assert dataset.content_sha256 == hashlib.sha256(sample["dataset"].read_bytes()).hexdigest()
    assert status.evaluation.metrics.rows > 0

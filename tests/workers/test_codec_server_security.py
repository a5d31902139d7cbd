"""Codec server for a hospital: body limits, sessions, Origin, UI origins, audit, OIDC."""

from __future__ import annotations

import base64
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from temporalio.api.common.v1 import Payload, Payloads

from medpipe.activities.keys.base import open_provider
from medpipe.contracts.errors import InvalidInput
from medpipe.workers.cli_codec import codec_server
from medpipe.workers.codec import EncryptionCodec
from medpipe.workers.codec_server import CodecServer, payloads_json
from medpipe.workers.oidc import OIDCSettings
from medpipe.workers.ports import free_port as _free_port

MARKER = "PATIENT-MRN-7731-SMITH"
UI = "http://127.0.0.1:8233"
TOKEN = "staff-token-" + "y" * 20
WORKFLOW_PAGE = f"{UI}/namespaces/default/workflows/release-risk-v3/run-1/history"


@pytest.fixture
def server(codec: EncryptionCodec, tmp_path: Path) -> Iterator[CodecServer]:
    with CodecServer(codec, token=TOKEN, ui_origins=[UI],
                     audit_log=tmp_path / "audit.jsonl") as s:
        yield s


async def _sealed_body(codec: EncryptionCodec) -> str:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(MARKER).encode())
    return payloads_json(Payloads(payloads=await codec.encode([plain])))


def _decoded(response: httpx.Response) -> str:
    return json.loads(base64.b64decode(response.json()["payloads"][0]["data"]))


def _login(base: str) -> str:
    r = httpx.post(f"{base}/login", data={"token": TOKEN}, headers={"Origin": UI})
    assert r.status_code == 303, r.text
    return r.cookies["medpipe_codec_session"]


# ----------------------------------------------------------------- sessions and Origin


async def test_each_login_gets_its_own_session_and_logout_revokes_it(
        server: CodecServer, codec: EncryptionCodec) -> None:
    body = await _sealed_body(codec)
    first, second = _login(server.url), _login(server.url)
    assert first != second and TOKEN not in first
    for cookie in (first, second):
        r = httpx.post(f"{server.url}/decode", content=body, headers={"Origin": UI},
                       cookies={"medpipe_codec_session": cookie})
        assert r.status_code == 200 and _decoded(r) == MARKER
    out = httpx.post(f"{server.url}/logout", headers={"Origin": UI},
                     cookies={"medpipe_codec_session": first})
    assert out.status_code == 200
    revoked = httpx.post(f"{server.url}/decode", content=body, headers={"Origin": UI},
                         cookies={"medpipe_codec_session": first})
    assert revoked.headers["x-medpipe-codec"] == "login-required"
    assert MARKER not in revoked.text and "logged out" in _decoded(revoked)
    still = httpx.post(f"{server.url}/decode", content=body, headers={"Origin": UI},
                       cookies={"medpipe_codec_session": second})
    assert _decoded(still) == MARKER


async def test_sessions_expire(codec: EncryptionCodec, tmp_path: Path) -> None:
    body = await _sealed_body(codec)
    with CodecServer(codec, token=TOKEN, ui_origins=[UI], session_ttl_s=0.5,
                     audit_log=tmp_path / "audit.jsonl") as s:
        cookie = _login(s.url)
        time.sleep(0.7)
        r = httpx.post(f"{s.url}/decode", content=body, headers={"Origin": UI},
                       cookies={"medpipe_codec_session": cookie})
        assert r.headers["x-medpipe-codec"] == "login-required" and MARKER not in r.text
        assert len(s.access.sessions) == 0


async def test_cookie_requests_need_the_ui_origin(server: CodecServer,
                                                  codec: EncryptionCodec) -> None:
    body = await _sealed_body(codec)
    cookie = _login(server.url)
    for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"}):
        r = httpx.post(f"{server.url}/decode", content=body, headers=headers,
                       cookies={"medpipe_codec_session": cookie})
        assert r.status_code == 403 and MARKER not in r.text
        assert "origin" in r.json()["error"].lower()
    evil_logout = httpx.post(f"{server.url}/logout", headers={"Origin": "http://evil.example"},
                             cookies={"medpipe_codec_session": cookie})
    assert evil_logout.status_code == 403
    evil_login = httpx.post(f"{server.url}/login", data={"token": TOKEN},
                            headers={"Origin": "http://evil.example"})
    assert evil_login.status_code == 403 and "set-cookie" not in evil_login.headers


@pytest.mark.parametrize("origin", ["*", "null", "http://ui.example/*", "ui.example"])
def test_wildcard_or_malformed_ui_origin_is_refused(codec: EncryptionCodec, tmp_path: Path,
                                                    origin: str) -> None:
    with pytest.raises(InvalidInput, match="refused"):
        CodecServer(codec, token=TOKEN, ui_origins=[origin], audit_log=tmp_path / "a.jsonl")


def test_cli_refuses_a_wildcard_ui_origin(tmp_path: Path, codec: EncryptionCodec) -> None:
    result = CliRunner().invoke(codec_server, [
        "--key-uri", f"local://{tmp_path}/kek/keyring.json", "--kek", "codec-kek",
        "--keyring", str(tmp_path / "home"), "--port", "0", "--ui-origin", "*",
        "--audit-log", str(tmp_path / "audit.jsonl")], env={"MEDPIPE_CODEC_TOKEN": TOKEN})
    assert result.exit_code == 2, result.output
    assert "'*' refused" in result.output and "Traceback" not in result.output


# ----------------------------------------------------------------- audit


async def test_every_decode_is_audited_without_the_payload(server: CodecServer,
                                                           codec: EncryptionCodec,
                                                           tmp_path: Path) -> None:
    body = await _sealed_body(codec)
    ok = httpx.post(f"{server.url}/decode", content=body,
                    headers={"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default",
                             "Referer": WORKFLOW_PAGE, "Origin": UI})
    assert _decoded(ok) == MARKER
    cookie = _login(server.url)
    httpx.post(f"{server.url}/decode", content=body, headers={"Origin": UI,
                                                              "X-Namespace": "default"},
               cookies={"medpipe_codec_session": cookie})
    httpx.post(f"{server.url}/decode", content=body, headers={"Authorization": "Bearer nope"})
    httpx.post(f"{server.url}/decode", content=body)  # anonymous: the login note
    path = tmp_path / "audit.jsonl"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    for secret in (MARKER, TOKEN, cookie, base64.b64encode(MARKER.encode()[:15]).decode()):
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines()]
    decodes = [r for r in records if r["operation"] == "decode"]
    assert [r["outcome"].split(":")[0] for r in decodes] == ["ok", "ok", "refused",
                                                             "login required"]
    first = decodes[0]
    assert first["principal"] == "static-token" and first["auth"] == "token"
    assert first["namespace"] == "default" and first["workflow_id"] == "release-risk-v3"
    assert first["key_ids"] == [codec.current_key_id] and first["payloads"] == 1
    assert first["at"].endswith("+00:00")
    assert decodes[1]["auth"] == "session" and "session" in decodes[1]["principal"]
    assert decodes[2]["principal"] == "anonymous"
    assert [r["operation"] for r in records].count("login") == 1


# ----------------------------------------------------------------- body limits


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def _huge(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = b"token=" + b"a" * (chunk - 6)
    for _ in range(total // chunk):
        yield block


@pytest.mark.timeout(180)
def test_a_400_mib_login_does_not_grow_the_server(tmp_path: Path, codec: EncryptionCodec) -> None:
    port = _free_port()
    env = {**os.environ, "MEDPIPE_CODEC_TOKEN": TOKEN, "MEDPIPE_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "medpipe", "codec-server", "--port", str(port),
         "--key-uri", f"local://{tmp_path}/kek/keyring.json", "--kek", "codec-kek",
         "--keyring", str(tmp_path / "home"), "--audit-log", str(tmp_path / "audit.jsonl")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        before = _memory_kib(proc.pid, "VmHWM")
        size = 400 << 20
        for path, headers in (("/login", {}), ("/login", {"Content-Length": str(size)}),
                              ("/decode", {"Authorization": f"Bearer {TOKEN}"})):
            try:
                r = httpx.post(base + path, content=_huge(size), timeout=60,
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        **headers})
                assert r.status_code == 413, r.text
            except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
                pass  # the server answered 413 and closed while we were still sending
        grown_mib = (_memory_kib(proc.pid, "VmHWM") - before) / 1024
        assert grown_mib < 32, f"peak RSS grew by {grown_mib:.0f} MiB"
        assert httpx.post(f"{base}/login", data={"token": TOKEN}).status_code == 303
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# ----------------------------------------------------------------- OIDC


class _Issuer:
    """A small real OIDC issuer: discovery document and JWKS over HTTP."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                docs: dict[str, Any] = {
                    "/.well-known/openid-configuration": {"issuer": issuer.url,
                                                          "jwks_uri": f"{issuer.url}/jwks"},
                    "/jwks": issuer.jwks}
                doc = docs.get(self.path)
                self.send_response(200 if doc else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(doc or {}).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token(self, key: Any = None, kid: str = "k1", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "medpipe-codec", "sub": "u-42",
                "email": "oncall@hospital.example", "iat": now, "exp": now + 300, **claims}
        pem = (key or self.key).private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        return jwt.encode(body, pem, algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with(claims: dict[str, Any], secret: bytes) -> str:
    """The classic key-confusion forgery: HS256 keyed with the issuer's public key."""
    signing = (_b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode()) + "."
               + _b64(json.dumps(claims).encode()))
    mac = hmac.new(secret, signing.encode(), "sha256").digest()
    return f"{signing}.{_b64(mac)}"


@pytest.fixture
def issuer() -> Iterator[_Issuer]:
    i = _Issuer()
    yield i
    i.stop()


async def test_oidc_access_tokens_from_the_issuer(issuer: _Issuer, codec: EncryptionCodec,
                                                  tmp_path: Path) -> None:
    body = await _sealed_body(codec)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with CodecServer(codec, token=TOKEN, ui_origins=[UI], audit_log=tmp_path / "audit.jsonl",
                     oidc=OIDCSettings(issuer.url, "medpipe-codec")) as s:
        def post(token: str) -> httpx.Response:
            return httpx.post(f"{s.url}/decode", content=body,
                              headers={"Authorization": f"Bearer {token}", "Origin": UI,
                                       "X-Namespace": "default"})

        ok = post(issuer.token())
        assert ok.status_code == 200 and _decoded(ok) == MARKER
        now = int(time.time())
        refused = {
            "expired": issuer.token(exp=now - 3600, iat=now - 7200),
            "audience": issuer.token(aud="another-app"),
            "issuer": issuer.token(iss="http://127.0.0.1:1/other"),
            "JWKS": issuer.token(kid="k-unknown"),
            "InvalidSignatureError": issuer.token(key=other_key),
            "algorithm": _hs256_with({"iss": issuer.url, "aud": "medpipe-codec", "sub": "x",
                                      "exp": now + 300}, public_pem),
        }
        for why, token in refused.items():
            r = post(token)
            assert r.status_code == 403, (why, r.text)
            assert why in r.json()["error"] and MARKER not in r.text
        assert _decoded(post(TOKEN)) == MARKER  # the static token still works beside OIDC
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[0]["principal"] == "oncall@hospital.example" and audit[0]["auth"] == "oidc"
    assert issuer.token() not in json.dumps(audit)


# ----------------------------------------------------------------- ledger


async def test_audit_records_reach_the_ledger_once(codec: EncryptionCodec,
                                                   tmp_path: Path) -> None:
    from medpipe.activities.signing.ledger import Ledger
    from medpipe.activities.storage.base import open_store
    from medpipe.workers.codec_ledger import KIND, AuditExporter

    uri = f"local://{tmp_path}/ledger-keys/keyring.json"
    signer = open_provider(uri)
    key_id = signer.create_signing_key("ledger")
    (tmp_path / "ledger").mkdir()
    ledger = Ledger(open_store(f"file://{tmp_path}/ledger"), signer, key_id)
    body = await _sealed_body(codec)
    audit = tmp_path / "audit.jsonl"
    with CodecServer(codec, token=TOKEN, ui_origins=[UI], audit_log=audit, ledger=ledger,
                     export_interval_s=3600) as s:
        for _ in range(3):
            httpx.post(f"{s.url}/decode", content=body,
                       headers={"Authorization": f"Bearer {TOKEN}", "Referer": WORKFLOW_PAGE})
    # stop() exported what was left; a second exporter (a restart) adds nothing twice.
    assert AuditExporter(audit, ledger).export_once() == 0
    (entry,) = [e for e in ledger.entries() if e.kind == KIND]
    records = entry.payload["records"]
    assert [r["workflow_id"] for r in records] == ["release-risk-v3"] * 3
    assert ledger.verify([signer.public_key_pem(key_id)]).entries == 1
    assert MARKER not in json.dumps(entry.payload) and TOKEN not in json.dumps(entry.payload)
    # An exporter that died after appending but before saving its offset appends nothing new.
    (tmp_path / "audit.jsonl.exported").unlink()
    assert AuditExporter(audit, ledger).export_once() == 3
    assert len([e for e in ledger.entries() if e.kind == KIND]) == 1


async def test_no_decode_when_the_audit_log_cannot_be_written(server: CodecServer,
                                                              codec: EncryptionCodec,
                                                              tmp_path: Path) -> None:
    body = await _sealed_body(codec)
    audit = tmp_path / "audit.jsonl"
    audit.unlink()
    audit.mkdir()  # any write now fails
    r = httpx.post(f"{server.url}/decode", content=body,
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 503 and "audit log" in r.json()["error"] and MARKER not in r.text
    login = httpx.post(f"{server.url}/login", data={"token": TOKEN})
    assert login.status_code == 503 and "set-cookie" not in login.headers
    assert len(server.access.sessions) == 0

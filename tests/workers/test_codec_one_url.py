"""One URL, one login: the codec server serves the real Temporal Web UI at its origin."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from temporalio.api.common.v1 import Payload, Payloads

from medpipe.activities.keys.base import open_provider
from medpipe.workers.codec import EncryptionCodec
from medpipe.workers.codec_server import CodecServer, payloads_json
from medpipe.workers.dev import temporal_binary
from medpipe.workers.devserver import free_port

MARKER = "PATIENT-MRN-7731-SMITH"
TOKEN = "staff-token-" + "z" * 20


@pytest.fixture
def codec(tmp_path: Path) -> EncryptionCodec:
    provider = open_provider(f"local://{tmp_path}/kek/keyring.json")
    provider.create_key("codec-kek")
    return EncryptionCodec.open(tmp_path / "home", provider, "codec-kek")


@pytest.fixture
def temporal_with_ui(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A dev server with its Web UI, told that its codec endpoint is ``/codec`` of the
    codec server's port (as ``medpipe dev up`` does); yields (UI port, codec port)."""
    port, codec_port = free_port(), free_port()
    log = open(tmp_path / "temporal.log", "wb")
    proc = subprocess.Popen(
        [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(port + 1000), "--db-filename", str(tmp_path / "t.db"),
         "--ui-codec-endpoint", f"http://127.0.0.1:{codec_port}/codec", "--log-level", "error"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port + 1000}/").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "no Temporal UI"
            time.sleep(0.2)
        yield port + 1000, codec_port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


async def test_ui_and_codec_on_one_origin_with_one_login(
        temporal_with_ui: tuple[int, int], codec: EncryptionCodec, tmp_path: Path) -> None:
    ui_port, codec_port = temporal_with_ui
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(MARKER).encode())
    body = payloads_json(Payloads(payloads=await codec.encode([plain])))
    with CodecServer(codec, token=TOKEN, port=codec_port,
                     ui_origins=[f"http://127.0.0.1:{ui_port}"],
                     ui_upstream=f"http://127.0.0.1:{ui_port}",
                     audit_log=tmp_path / "audit.jsonl") as server:
        one = server.url
        page = httpx.get(f"{one}/namespaces/default/workflows")
        assert page.status_code == 200 and "<html" in page.text.lower()
        settings = httpx.get(f"{one}/api/v1/settings")
        assert f"{one}/codec" in settings.text  # the UI decodes through this same origin
        with httpx.Client(base_url=one) as browser:
            before = browser.post("/codec/decode", content=body, headers={"Origin": one})
            note = json.loads(base64.b64decode(before.json()["payloads"][0]["data"]))
            assert f"{one}/codec/login" in note and MARKER not in before.text
            login = browser.post("/codec/login", data={"token": TOKEN}, headers={"Origin": one})
            assert login.status_code == 303 and login.headers["location"] == "/"
            page = f"{one}/namespaces/default/workflows/release-risk-v3/run-1/history"
            after = browser.post("/codec/decode", content=body,
                                 headers={"Origin": one, "X-Namespace": "default",
                                          "Referer": page})
            assert json.loads(base64.b64decode(after.json()["payloads"][0]["data"])) == MARKER
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    ok = [r for r in records if r["operation"] == "decode" and r["outcome"] == "ok"]
    assert ok and ok[0]["workflow_id"] == "release-risk-v3" and ok[0]["auth"] == "session"


def test_the_session_cookie_never_reaches_the_ui(codec: EncryptionCodec, tmp_path: Path) -> None:
    seen: list[str] = []

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append(self.headers.get("Cookie", ""))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ui")

        def log_message(self, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with CodecServer(codec, token=TOKEN, ui_upstream=f"http://127.0.0.1:"
                         f"{upstream.server_address[1]}",
                         audit_log=tmp_path / "audit.jsonl") as server:
            r = httpx.get(f"{server.url}/x", cookies={"medpipe_codec_session": "secret-sid",
                                                      "_csrf": "ui-cookie"})
            assert r.text == "ui"
    finally:
        upstream.shutdown()
        upstream.server_close()
    assert seen == ["_csrf=ui-cookie"]

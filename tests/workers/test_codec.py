"""Payload codec, codec keyring rotation, a real workflow's history, and the codec server."""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import temporalio.api.history.v1
from click.testing import CliRunner
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from medpipe.activities.keys.base import KeyProvider
from medpipe.activities.tls import client_context
from medpipe.contracts.errors import IntegrityError, InvalidInput, KeyProviderError
from medpipe.workers.cli_codec import codec_rotate, codec_server
from medpipe.workers.codec import ENCODING, KEY_ID_METADATA, KEYRING_FILE, EncryptionCodec
from medpipe.workers.codec import make_data_converter as make_converter
from medpipe.workers.codec_server import CodecServer, ServerTLS, payloads_json
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.pki import make_test_pki

MARKER = "PATIENT-MRN-7731-SMITH"
UI = "http://127.0.0.1:8233"
TOKEN = "staff-token-" + "x" * 20


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


# ----------------------------------------------------------------- codec


async def test_round_trip_hides_data_and_metadata(codec: EncryptionCodec) -> None:
    original = [payload(MARKER), payload("second")]
    sealed = await codec.encode(original)
    assert all(p.metadata["encoding"] == ENCODING for p in sealed)
    assert all(p.metadata[KEY_ID_METADATA] == codec.current_key_id.encode() for p in sealed)
    assert all(MARKER.encode() not in p.SerializeToString() for p in sealed)
    assert b"json/plain" not in sealed[0].SerializeToString()
    assert await codec.decode(sealed) == original


async def test_unencrypted_payloads_pass_through_decode(codec: EncryptionCodec) -> None:
    plain = payload("legacy")
    assert await codec.decode([plain]) == [plain]


async def test_keyring_file_is_private_and_holds_no_clear_key(
        codec: EncryptionCodec, tmp_path: Path) -> None:
    path = tmp_path / "home" / KEYRING_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    entry = data["keys"][codec.current_key_id]
    assert entry["key_id"].startswith("codec-kek#v")
    # the wrapped blob is longer than a bare 32-byte key (nonce + tag)
    assert len(base64.b64decode(entry["wrapped"])) > 32


def test_too_open_keyring_is_refused(codec: EncryptionCodec, tmp_path: Path,
                                     provider: KeyProvider) -> None:
    path = tmp_path / "home" / KEYRING_FILE
    path.chmod(0o644)
    with pytest.raises(InvalidInput, match="must be 0600"):
        EncryptionCodec.open(tmp_path / "home", provider, "codec-kek")


async def test_rotation_keeps_old_payloads_decodable(codec: EncryptionCodec, tmp_path: Path,
                                                     provider: KeyProvider) -> None:
    old_id = codec.current_key_id
    old = await codec.encode([payload("before rotation")])
    new_id = codec.rotate()
    assert new_id != old_id and codec.current_key_id == new_id
    new = await codec.encode([payload("after rotation")])
    assert new[0].metadata[KEY_ID_METADATA] == new_id.encode()
    assert await codec.decode(old + new) == [payload("before rotation"), payload("after rotation")]
    # a fresh process reading the same keyring decodes both
    reopened = EncryptionCodec.open(tmp_path / "home", provider, "codec-kek")
    assert reopened.current_key_id == new_id
    assert await reopened.decode(old + new) == [payload("before rotation"),
                                                payload("after rotation")]


async def test_another_process_rotation_is_picked_up(codec: EncryptionCodec, tmp_path: Path,
                                                     provider: KeyProvider) -> None:
    other = EncryptionCodec.open(tmp_path / "home", provider, "codec-kek")
    other.rotate()
    sealed = await other.encode([payload("from the other process")])
    assert await codec.decode(sealed) == [payload("from the other process")]


async def test_tampered_payload_fails(codec: EncryptionCodec) -> None:
    sealed = (await codec.encode([payload(MARKER)]))[0]
    data = bytearray(sealed.data)
    data[20] ^= 1
    damaged = Payload(metadata=dict(sealed.metadata), data=bytes(data))
    with pytest.raises(IntegrityError, match="fails authentication"):
        await codec.decode([damaged])


async def test_unknown_codec_key(codec: EncryptionCodec, tmp_path: Path) -> None:
    sealed = (await codec.encode([payload("x")]))[0]
    relabelled = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"ck9-nope"},
                         data=sealed.data)
    with pytest.raises(KeyProviderError, match="'ck9-nope'"):
        await codec.decode([relabelled])


def test_destroyed_kek_stops_the_codec(codec: EncryptionCodec, tmp_path: Path,
                                       provider: KeyProvider) -> None:
    provider.destroy("codec-kek")
    with pytest.raises(KeyProviderError, match="destroyed"):
        EncryptionCodec.open(tmp_path / "home", provider, "codec-kek")


# ----------------------------------------------------------------- Temporal


@activity.defn
async def echo(text: str) -> str:
    return f"seen {text}"


@workflow.defn
class CodecTestWorkflow:
    @workflow.run
    async def run(self, text: str, fail: bool) -> str:
        out = await workflow.execute_activity(echo, text,
                                              start_to_close_timeout=timedelta(seconds=30))
        if fail:
            raise ApplicationError(f"refused record {text}", non_retryable=True)
        return out


def base64_forms(secret: bytes) -> list[bytes]:
    """What ``secret`` looks like inside any longer base64 text, at each of its 3 alignments.

    Base64 encodes 3-byte groups; wherever ``secret`` sits in the encoded stream, one of
    its first three bytes starts a group, and from there every whole group of ``secret``
    encodes to fixed characters (the edges depend on the neighbouring bytes).
    """
    forms = []
    for shift in range(3):
        whole = (len(secret) - shift) // 3 * 3
        forms.append(base64.b64encode(secret[shift:shift + whole]))
    return forms


def test_base64_forms_find_a_secret_at_every_alignment() -> None:
    secret = MARKER.encode()
    for prefix in (b"", b"a", b"ab", b"abc", b'{"data":'):
        encoded = base64.b64encode(prefix + secret + b"tail")
        assert any(f in encoded for f in base64_forms(secret)), prefix
    assert not any(f in base64.b64encode(b"x" + secret.replace(b"7731", b"7732"))
                   for f in base64_forms(secret))


async def _run(server: TemporalDevServer, converter: object, fail: bool) -> tuple[bytes, str]:
    """Run the workflow with ``converter``; the exported history (binary + JSON) and result."""
    client = await Client.connect(server.address, data_converter=converter)  # type: ignore[arg-type]
    queue = f"codec-{uuid.uuid4().hex[:8]}"
    result = ""
    async with Worker(client, task_queue=queue, workflows=[CodecTestWorkflow],
                      activities=[echo], workflow_runner=UnsandboxedWorkflowRunner()):
        handle = await client.start_workflow(CodecTestWorkflow.run, args=[MARKER, fail],
                                             id=f"codec-{uuid.uuid4().hex}", task_queue=queue)
        if fail:
            with pytest.raises(WorkflowFailureError) as info:
                await handle.result()
            cause = info.value.cause
            assert isinstance(cause, ApplicationError)
            result = cause.message  # decoded again by the client's codec
        else:
            result = await handle.result()
        history = await handle.fetch_history()
    raw = temporalio.api.history.v1.History(events=history.events).SerializeToString()
    return raw + history.to_json().encode(), result


@pytest.mark.parametrize("fail", [False, True], ids=["result", "failure"])
async def test_workflow_history_has_no_patient_data(
        temporal_server: TemporalDevServer, codec: EncryptionCodec, fail: bool) -> None:
    exported, result = await _run(temporal_server, make_converter(codec), fail)
    assert MARKER in result  # the client still reads it, through the codec
    assert MARKER.encode() not in exported
    assert not [f for f in base64_forms(MARKER.encode()) if f in exported]


@pytest.mark.parametrize("fail", [False, True], ids=["result", "failure"])
async def test_without_the_codec_the_marker_is_in_history(
        temporal_server: TemporalDevServer, fail: bool) -> None:
    """Control: both checks above can fail (a plain converter leaks the marker, in clear in
    the binary history and as base64 in the JSON export, where payload data is base64)."""
    exported, _ = await _run(temporal_server, pydantic_data_converter, fail=fail)
    assert MARKER.encode() in exported
    assert [f for f in base64_forms(MARKER.encode()) if f in exported]


# ----------------------------------------------------------------- codec server


@pytest.fixture
def server(codec: EncryptionCodec, tmp_path: Path):
    with CodecServer(codec, token=TOKEN, ui_origins=[UI],
                     audit_log=tmp_path / "audit.jsonl") as s:
        yield s


async def _sealed_body(codec: EncryptionCodec) -> str:
    return payloads_json(Payloads(payloads=await codec.encode([payload(MARKER)])))


async def test_codec_server_decodes_for_the_token(server: CodecServer,
                                                  codec: EncryptionCodec) -> None:
    body = await _sealed_body(codec)
    r = httpx.post(f"{server.url}/decode", content=body,
                   headers={"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default",
                            "Content-Type": "application/json", "Origin": UI})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == UI
    assert r.headers["access-control-allow-credentials"] == "true"
    (item,) = r.json()["payloads"]
    # proto3 JSON: data and metadata values are base64
    assert base64.b64decode(item["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(item["data"])) == MARKER


async def test_codec_server_encode_then_decode_by_namespace_path(server: CodecServer) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    plain = payloads_json(Payloads(payloads=[payload("via the CLI")]))
    enc = httpx.post(f"{server.url}/default/encode", content=plain, headers=auth)
    assert enc.status_code == 200
    assert base64.b64decode(enc.json()["payloads"][0]["metadata"]["encoding"]) == ENCODING
    dec = httpx.post(f"{server.url}/default/decode", content=enc.text, headers=auth)
    assert json.loads(base64.b64decode(dec.json()["payloads"][0]["data"])) == "via the CLI"


async def test_codec_server_refuses_without_or_with_wrong_token(
        server: CodecServer, codec: EncryptionCodec) -> None:
    body = await _sealed_body(codec)
    # No credentials: the payloads come back as a note saying where to log in (the UI's
    # first view), never decoded; encoding without credentials is refused outright.
    none = httpx.post(f"{server.url}/decode", content=body)
    assert none.status_code == 200 and none.headers["x-medpipe-codec"] == "login-required"
    (note,) = none.json()["payloads"]
    assert f"{server.url}/login" in json.loads(base64.b64decode(note["data"]))
    unauth = httpx.post(f"{server.url}/encode", content=body)
    assert unauth.status_code == 401
    assert unauth.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.post(f"{server.url}/decode", content=body,
                       headers={"Authorization": f"Bearer {TOKEN[:-1]}y"})
    assert wrong.status_code == 403
    for r in (none, wrong):
        assert MARKER not in r.text


async def test_web_ui_session_after_login_and_only_with_the_right_token(
        server: CodecServer, codec: EncryptionCodec) -> None:
    """The Web UI cannot send a bearer header: staff log in once, the UI sends the cookie."""
    body = await _sealed_body(codec)
    assert "<form" in httpx.get(f"{server.url}/login").text
    refused = httpx.post(f"{server.url}/login", data={"token": "guess"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    with httpx.Client(base_url=server.url) as browser:
        ok = browser.post("/login", data={"token": TOKEN})
        assert ok.status_code == 303 and ok.headers["location"] == UI
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN not in cookie
        r = browser.post("/decode", content=body, headers={"Origin": UI})
        assert r.status_code == 200 and r.headers["access-control-allow-credentials"] == "true"
        assert json.loads(base64.b64decode(r.json()["payloads"][0]["data"])) == MARKER
    forged = httpx.post(f"{server.url}/decode", content=body, headers={"Origin": UI},
                        cookies={"medpipe_codec_session": "0" * 64})
    assert forged.headers["x-medpipe-codec"] == "login-required" and MARKER not in forged.text


def test_codec_server_bad_body(server: CodecServer) -> None:
    r = httpx.post(f"{server.url}/decode", content=b"{not json",
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400


def test_cors_preflight_only_for_the_ui_origin(server: CodecServer) -> None:
    asks = {"Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}
    ok = httpx.options(f"{server.url}/decode", headers={"Origin": UI, **asks})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == UI
    assert ok.headers["access-control-allow-credentials"] == "true"
    allowed = ok.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "x-namespace" in allowed
    evil = httpx.options(f"{server.url}/decode",
                         headers={"Origin": "http://evil.example", **asks})
    assert evil.status_code != 200
    assert "access-control-allow-origin" not in evil.headers
    post = httpx.post(f"{server.url}/decode", content=b'{"payloads": []}',
                      headers={"Origin": "http://evil.example",
                               "Authorization": f"Bearer {TOKEN}"})
    assert "access-control-allow-origin" not in post.headers


def test_namespace_restriction(codec: EncryptionCodec, tmp_path: Path) -> None:
    with CodecServer(codec, token=TOKEN, namespaces={"medpipe"},
                     audit_log=tmp_path / "audit.jsonl") as s:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        body = b'{"payloads": []}'
        ok = httpx.post(f"{s.url}/decode", content=body, headers={**auth,
                                                                  "X-Namespace": "medpipe"})
        assert ok.status_code == 200
        other = httpx.post(f"{s.url}/decode", content=body, headers={**auth,
                                                                     "X-Namespace": "other"})
        assert other.status_code == 403


def test_no_token_and_no_mtls_is_refused(codec: EncryptionCodec, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="bearer token, an OIDC issuer or mutual TLS"):
        CodecServer(codec, token=None, audit_log=tmp_path / "audit.jsonl")


async def test_codec_server_over_mtls(codec: EncryptionCodec, tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki")
    tls = ServerTLS(pki.server_cert, pki.server_key, pki.ca_cert)
    body = await _sealed_body(codec)
    with CodecServer(codec, token=None, tls=tls, audit_log=tmp_path / "audit.jsonl") as s:
        staff = client_context(pki.client_settings())
        r = httpx.post(f"{s.url}/decode", content=body, verify=staff)
        assert r.status_code == 200
        assert json.loads(base64.b64decode(r.json()["payloads"][0]["data"])) == MARKER
        for ctx in (client_context(pki.client_settings("none")),
                    client_context(pki.client_settings("foreign"))):
            with pytest.raises((httpx.ConnectError, httpx.ReadError,
                                httpx.RemoteProtocolError, ssl.SSLError)):
                httpx.post(f"{s.url}/decode", content=body, verify=ctx)


# ----------------------------------------------------------------- CLI


def test_cli_codec_server_requires_credentials(tmp_path: Path, provider: KeyProvider) -> None:
    result = CliRunner().invoke(codec_server, [
        "--key-uri", f"local://{tmp_path}/kek/keyring.json", "--kek", "codec-kek",
        "--keyring", str(tmp_path / "home"), "--token-env", "MEDPIPE_TEST_UNSET_TOKEN"],
        env={"MEDPIPE_TEST_UNSET_TOKEN": ""})
    assert result.exit_code != 0
    assert "never decrypts for anonymous callers" in result.output


def test_cli_codec_rotate(tmp_path: Path, codec: EncryptionCodec) -> None:
    result = CliRunner().invoke(codec_rotate, [
        "--key-uri", f"local://{tmp_path}/kek/keyring.json", "--kek", "codec-kek",
        "--keyring", str(tmp_path / "home" / KEYRING_FILE)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "home" / KEYRING_FILE).read_text())
    assert len(data["keys"]) == 2 and data["current"] != codec.current_key_id

"""No patient data in Temporal: a release over a dataset carrying unique marker
identifiers leaves none of them (and no dataset row) in the exported history,
in the stores, or in failure messages; the same release without the codec shows
why the codec is needed."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError

from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.release import ReleaseState
from medpipe.workers.codec import make_data_converter, open_codec
from medpipe.workers.dev import temporal_binary
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.keysetup import CODEC_KEK_ID, ensure_keys
from tests.markers import MarkerScan
from tests.support import make_fleet, make_request, running_workers, start

pytestmark = pytest.mark.asyncio


def marked_dataset(sample: dict[str, Path], out: Path) -> tuple[Path, list[str]]:
    """The sample cohort with unique, greppable identifiers in every identifying column."""
    rows = list(csv.DictReader(sample["dataset"].open()))
    tag = uuid.uuid4().hex[:6].upper()
    markers = []
    for i, r in enumerate(rows):
        r["name"] = f"Zq{tag}Name{i}"
        r["email"] = f"zq{tag.lower()}{i}@marker.example"
        r["patient_id"] = f"MRNZQ{tag}{i // 3:05d}"
        r["notes"] = f"seen by dr. x; callback for Zq{tag}Name{i} re MRNZQ{tag}{i // 3:05d}"
        markers += [r["name"], r["email"], r["patient_id"]]
    path = out / "marked.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path, markers


#: The payload fields a history carries as base64 (``data``, metadata values).
_BASE64_FIELDS = ("data", "encoding", "encryption-key-id")


def _fields(node: object, path: str, out: list[tuple[str, str]]) -> None:
    """Every string of ``node`` with its JSON path; a base64 payload field as its decoded
    text (a payload in clear is found, not hidden by its encoding), never as the base64
    itself: a sealed payload is tens of kilobytes of random base64, where a short string
    such as a column name turns up now and then by chance."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and k in _BASE64_FIELDS:
                try:
                    out.append((f"{path}.{k} (decoded)", base64.b64decode(v, validate=True)
                                .decode("utf-8", "replace")))
                    continue
                except ValueError:
                    pass
            _fields(v, f"{path}.{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _fields(v, f"{path}[{i}]", out)
    elif isinstance(node, str):
        out.append((path, node))


def history_fields(server: TemporalDevServer, workflow_id: str) -> list[tuple[str, str]]:
    """The exported history's strings, each with its JSON path (``_fields``)."""
    out = subprocess.run([temporal_binary(), "workflow", "show", "--address", server.address,
                          "--workflow-id", workflow_id, "--output", "json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    fields: list[tuple[str, str]] = []
    _fields(json.loads(out.stdout), "", fields)
    return fields


def history_json(server: TemporalDevServer, workflow_id: str) -> str:
    """The exported history's strings as one text (``history_fields``)."""
    return "\n".join(text for _, text in history_fields(server, workflow_id))


def holding(fields: list[tuple[str, str]], needle: str) -> list[str]:
    """The paths of the fields that hold ``needle``, with the text around it."""
    return [f"{p}: ...{t[max(0, t.find(needle) - 80):t.find(needle) + 80]!r}..."
            for p, t in fields if needle in t]


async def test_release_history_holds_no_marker_identifier(
        temporal_server: TemporalDevServer, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    ensure_keys(fleet.keys)  # with the codec key
    codec = open_codec(tmp_path, fleet.keys.key_uri, CODEC_KEK_ID)
    client = await Client.connect(temporal_server.address,
                                  data_converter=make_data_converter(codec))
    data, markers = marked_dataset(sample, tmp_path)
    request = make_request(fleet, sample, data_uri=data.as_uri())
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        status = await (await start(client, request)).result()
    assert status.state is ReleaseState.SUCCEEDED  # decoded through the codec
    fields = history_fields(temporal_server, request.release_id)
    history = "\n".join(text for _, text in fields)
    assert "binary/encrypted" in history
    scan = MarkerScan(markers)
    leaked = scan.found(history)
    assert not leaked, sorted(leaked)[:5]
    first_row = sample["dataset"].read_text().splitlines()[1]
    assert not holding(fields, first_row)  # no row
    assert not holding(fields, "hba1c")  # no column name (the paths say where, if any)
    # nor in any store: the stored dataset and its pseudonymized copy are sealed
    stored = store_files(tmp_path / "buckets")
    assert len(stored) >= 5, stored  # the release did store its artifacts there
    for f in stored:
        leaked = scan.found(f.read_bytes())
        assert not leaked, (f, sorted(leaked)[:5])


def store_files(root: Path) -> list[Path]:
    return [f for f in root.rglob("*") if f.is_file()]


async def test_without_sealing_the_store_check_finds_the_markers(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    """Control for the store check above: with envelope encryption off, ingest stores the
    dataset in clear (pseudonymization then refuses to keep an unsealed vault), and the
    scan finds every one of its markers there."""
    fleet = make_fleet(tmp_path).model_copy(update={"keys": KeySettings(), "insecure_dev": True})
    data, markers = marked_dataset(sample, tmp_path)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        handle = await start(client, make_request(fleet, sample, data_uri=data.as_uri()))
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert "configure a key provider" in str(info.value.cause)  # fails closed, after ingest
    scan = MarkerScan(markers)
    found: set[str] = set()
    for f in store_files(tmp_path / "buckets"):
        found |= scan.found(f.read_bytes())
    assert found == {m.lower() for m in markers}


async def test_failure_messages_are_sealed_too(
        temporal_server: TemporalDevServer, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    ensure_keys(fleet.keys)
    codec = open_codec(tmp_path, fleet.keys.key_uri, CODEC_KEK_ID)
    client = await Client.connect(temporal_server.address,
                                  data_converter=make_data_converter(codec))
    bad = tmp_path / "bad.csv"
    bad.write_text("secret_column_zqx,label\n1,0\n")
    request = make_request(fleet, sample, data_uri=bad.as_uri())
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        with pytest.raises(WorkflowFailureError) as info:
            await (await start(client, request)).result()
    assert "secret_column_zqx" in str(info.value.cause)  # the client with the key reads it
    assert "secret_column_zqx" not in history_json(temporal_server, request.release_id)


async def test_without_the_codec_the_markers_would_be_in_history(
        temporal_server: TemporalDevServer, client: Client, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    """Control: the checks above can fail (clear payloads and messages are found)."""
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        ok = make_request(fleet, sample)
        await (await start(client, ok)).result()
    assert ok.data_uri in history_json(temporal_server, ok.release_id)  # a clear payload

    bad = tmp_path / "bad.csv"
    bad.write_text("secret_column_zqx,label\n1,0\n")
    request = make_request(fleet, sample, data_uri=bad.as_uri())
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        with pytest.raises(WorkflowFailureError):
            await (await start(client, request)).result()
    assert "secret_column_zqx" in history_json(temporal_server, request.release_id)

"""The provenance ledger: chain, signatures, tamper cases, concurrency, idempotency."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from medpipe.activities.keys import open_provider
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.storage.base import open_store
from medpipe.activities.storage.local import LocalStore
from medpipe.contracts.errors import InvalidInput, LedgerTampered

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keyring(tmp_path: Path) -> tuple[str, str, bytes]:
    uri = f"local://{tmp_path}/keyring.json"
    provider = open_provider(uri)
    key_id = provider.create_signing_key("ledger")
    return uri, key_id, provider.public_key_pem(key_id)


def store_at(path: Path) -> LocalStore:
    path.mkdir(parents=True, exist_ok=True)
    store = open_store(f"file://{path}")
    assert isinstance(store, LocalStore)
    return store


def make_ledger(tmp_path: Path, keyring: tuple[str, str, bytes], **kw: object) -> Ledger:
    uri, key_id, _ = keyring
    return Ledger(store_at(tmp_path / "bucket"), open_provider(uri), key_id, **kw)  # type: ignore[arg-type]


def fill(ledger: Ledger, n: int, release: str = "release-a-1") -> None:
    for i in range(n):
        ledger.append("stage-completed", release, {"stage": f"s{i}", "sha256": "ab" * 32},
                      f"{release}/s{i}")


def replace(store: LocalStore, key: str, data: bytes) -> None:
    """An attacker with write access: replace an object (content and digest record)."""
    store.delete(key)
    store.put(key, [data])


def test_append_verify_and_filter(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 3)
    ledger.append("signed", "release-b-1", {"bundle_sha256": "cd" * 32}, "release-b-1/signed")
    report = ledger.verify([keyring[2]])
    assert report.entries == 4 and report.head_seq == 3 and report.checkpoint_seq == 3
    entries = ledger.entries()
    assert [e.seq for e in entries] == [0, 1, 2, 3]
    assert entries[1].prev_hash == entries[0].entry_hash
    assert [e.kind for e in ledger.entries("release-b-1")] == ["signed"]


def test_append_is_idempotent(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    first = ledger.append("deployed", "r", {"weight": 5}, "r/deploy")
    fill(ledger, 2)
    again = make_ledger(tmp_path, keyring).append("deployed", "r", {"weight": 5}, "r/deploy")
    assert again == first
    assert len(ledger.entries()) == 3


def test_bad_input_is_refused(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    with pytest.raises(InvalidInput, match="kind"):
        ledger.append("Bad Kind", "r", {}, "k")
    with pytest.raises(InvalidInput, match="JSON"):
        ledger.append("signed", "r", {"x": object()}, "k")
    with pytest.raises(InvalidInput, match="bytes"):
        ledger.append("signed", "r", {"x": "a" * 70_000}, "k")
    assert ledger.entries() == []


def test_edit_in_place_is_named(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 4)
    path = tmp_path / "bucket" / ledger.entry_key(2)
    path.write_text(path.read_text().replace('"s2"', '"s9"'))
    with pytest.raises(LedgerTampered, match=r"entry 2 .* was edited"):
        ledger.verify([keyring[2]])


def test_edit_with_new_digest_record_is_named(tmp_path: Path,
                                               keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 4)
    key = ledger.entry_key(1)
    doc = json.loads(b"".join(ledger.store.get(key)))
    doc["payload"]["stage"] = "forged"
    replace(ledger.store, key, json.dumps(doc).encode())  # type: ignore[arg-type]
    with pytest.raises(LedgerTampered, match="entry 1 .* does not match its hash"):
        ledger.verify([keyring[2]])


def test_rehashed_edit_fails_signature(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    from medpipe.activities.signing.ledger import entry_digest

    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 3)
    key = ledger.entry_key(1)
    doc = json.loads(b"".join(ledger.store.get(key)))
    doc["payload"]["stage"] = "forged"
    doc["entry_hash"] = entry_digest(doc)
    replace(ledger.store, key, json.dumps(doc).encode())  # type: ignore[arg-type]
    with pytest.raises(LedgerTampered, match="entry 1 .*signature that does not verify"):
        ledger.verify([keyring[2]])


def test_entries_signed_by_another_key_are_named(tmp_path: Path,
                                                 keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 2)
    other = open_provider(f"local://{tmp_path}/other.json")
    other.create_signing_key("mallory")
    Ledger(ledger.store, other, "mallory").append("deployed", "r", {}, "forged")
    with pytest.raises(LedgerTampered, match="entry 2 is signed by key .* not trusted"):
        ledger.verify([keyring[2]])


def test_deleted_entry_is_named(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 5)
    ledger.store.delete(ledger.entry_key(2))
    with pytest.raises(LedgerTampered, match=r"entry 2 missing \(deleted\)"):
        ledger.verify([keyring[2]])


def test_reordered_entries_are_named(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 5)
    a, b = ledger.entry_key(2), ledger.entry_key(3)
    da, db = b"".join(ledger.store.get(a)), b"".join(ledger.store.get(b))
    replace(ledger.store, a, db)  # type: ignore[arg-type]
    replace(ledger.store, b, da)  # type: ignore[arg-type]
    with pytest.raises(LedgerTampered, match="claims seq 3: entries were reordered"):
        ledger.verify([keyring[2]])


def test_renumbered_swap_breaks_the_links(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    """Two whole chains' entries spliced: each entry is valid, the link is not."""
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 3)
    other = Ledger(store_at(tmp_path / "other"), ledger.provider, ledger.key_id)
    fill(other, 3, release="release-z-9")
    key = ledger.entry_key(2)
    replace(ledger.store, key, b"".join(other.store.get(key)))  # type: ignore[arg-type]
    with pytest.raises(LedgerTampered, match="entry 2 does not follow entry 1"):
        ledger.verify([keyring[2]])


def test_truncation_is_detected_by_the_checkpoint(tmp_path: Path,
                                                  keyring: tuple[str, str, bytes]) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 6)
    for seq in (4, 5):
        ledger.store.delete(ledger.entry_key(seq))
    with pytest.raises(LedgerTampered, match=r"truncated.*entry 5.*ends at entry 3.*4\.\.5"):
        ledger.verify([keyring[2]])


def test_truncation_with_checkpoints_in_another_store(tmp_path: Path,
                                                      keyring: tuple[str, str, bytes]) -> None:
    """Deleting the tail in the ledger bucket cannot reach the checkpoints elsewhere."""
    checkpoints = store_at(tmp_path / "witness")
    ledger = make_ledger(tmp_path, keyring, checkpoint_store=checkpoints)
    fill(ledger, 4)
    report = ledger.verify([keyring[2]])
    for seq in (2, 3):
        ledger.store.delete(ledger.entry_key(seq))
    for info in list(ledger.store.list("ledger-head/")):  # attacker cleans the ledger bucket
        ledger.store.delete(info.key)
    with pytest.raises(LedgerTampered, match="truncated"):
        ledger.verify([keyring[2]])
    # Without a witness, an external head (from evidence) still catches it.
    bare = Ledger(ledger.store)
    with pytest.raises(LedgerTampered, match="expected head records entry 3"):
        bare.verify([keyring[2]], expected_head=(report.head_seq or 0, report.head_hash or ""))


def test_concurrent_appends_from_threads(tmp_path: Path, keyring: tuple[str, str, bytes]) -> None:
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            mine = make_ledger(tmp_path, keyring)
            for i in range(10):
                mine.append("stage-completed", f"r{w}", {"i": i}, f"t{w}/{i}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ledger = make_ledger(tmp_path, keyring)
    assert ledger.verify([keyring[2]]).entries == 60
    keys = [e.idempotency_key for e in ledger.entries()]
    assert sorted(keys) == sorted(f"t{w}/{i}" for w in range(6) for i in range(10))


CHILD = """
import os, signal, sys
sys.path.insert(0, {root!r})
from medpipe.activities.keys import open_provider
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.storage.base import open_store
store = open_store({store!r})
mode, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "die-after-write":
    real = store.create_if_absent
    def create_then_die(key, data):
        created = real(key, data)
        if created and key.startswith("ledger/"):
            os.kill(os.getpid(), signal.SIGKILL)
        return created
    store.create_if_absent = create_then_die
ledger = Ledger(store, open_provider({key_uri!r}), {key_id!r})
for i in range(count):
    ledger.append("stage-completed", name, {{"i": i}}, f"{{name}}/{{i}}")
print("done")
"""


def run_child(tmp_path: Path, keyring: tuple[str, str, bytes], mode: str, name: str,
              count: int) -> subprocess.Popen[str]:
    script = CHILD.format(root=str(ROOT), store=f"file://{tmp_path / 'bucket'}",
                          key_uri=keyring[0], key_id=keyring[1])
    return subprocess.Popen([sys.executable, "-c", script, mode, name, str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_appends_from_processes(tmp_path: Path,
                                           keyring: tuple[str, str, bytes]) -> None:
    store_at(tmp_path / "bucket")
    children = [run_child(tmp_path, keyring, "normal", f"p{n}", 12) for n in range(4)]
    local = make_ledger(tmp_path, keyring)
    fill(local, 8, release="parent")
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    report = local.verify([keyring[2]])
    assert report.entries == 4 * 12 + 8
    assert len({e.idempotency_key for e in local.entries()}) == report.entries


@pytest.mark.parametrize("others_in_between", [False, True])
def test_writer_killed_after_its_write_then_retried(tmp_path: Path,
                                                   keyring: tuple[str, str, bytes],
                                                   others_in_between: bool) -> None:
    ledger = make_ledger(tmp_path, keyring)
    fill(ledger, 2)
    child = run_child(tmp_path, keyring, "die-after-write", "victim", 1)
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    written = ledger.entries("victim")
    assert len(written) == 1  # the entry reached the store, the caller never heard back
    if others_in_between:
        fill(make_ledger(tmp_path, keyring), 3, release="later")
    retried = make_ledger(tmp_path, keyring).append("stage-completed", "victim", {"i": 0},
                                                    "victim/0")
    assert retried == written[0]
    assert len(ledger.entries("victim")) == 1
    ledger.verify([keyring[2]])
    assert os.path.exists(tmp_path / "bucket" / ledger.entry_key(retried.seq))

"""``medpipe ledger verify`` as an auditor runs it: every way to shorten the chain is refused.

Real processes (``python -m medpipe``), a real local keyring and buckets: the
attacker below has delete rights on the ledger bucket (and, in the worst
case, on the checkpoint bucket too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medpipe.activities.keys import open_provider
from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.activities.signing.ledger import Ledger, open_ledger
from medpipe.contracts.ledger import LedgerEntry
from medpipe.workers.config import default_fleet


def anchor(entry: LedgerEntry) -> str:
    return f"{entry.seq}:{entry.entry_hash}"


def medpipe(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medpipe", *args], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "MEDPIPE_HOME": str(home), "COLUMNS": "200"})


class Rig:
    """A ledger with checkpoints in a separate bucket, 6 entries, and its public key."""

    def __init__(self, tmp: Path) -> None:
        self.home = tmp / "home"
        self.ledger_uri = (tmp / "ledger").as_uri()
        self.cp_uri = (tmp / "checkpoints").as_uri()
        for d in ("ledger", "checkpoints"):
            (tmp / d).mkdir()
        provider = open_provider(f"local://{tmp}/keyring.json")
        self.key_id = provider.create_signing_key("ledger")
        self.pub = tmp / "ledger.pub.pem"
        self.pub.write_bytes(provider.public_key_pem(self.key_id))
        self.ledger = open_ledger(self.ledger_uri, self.cp_uri, provider, self.key_id)
        self.heads = [self.ledger.append("stage-completed", "release-a-1", {"stage": f"s{i}"},
                                         f"release-a-1/s{i}") for i in range(6)]

    def verify(self, *extra: str, checkpoints: bool = True) -> subprocess.CompletedProcess[str]:
        cp = ["--checkpoint-store", self.cp_uri] if checkpoints else []
        return medpipe("ledger", "verify", "--store", self.ledger_uri, *cp, "--key",
                       str(self.pub), *extra, home=self.home)

    def delete_entries(self, seqs: range) -> None:
        for seq in seqs:
            self.ledger.store.delete(self.ledger.entry_key(seq))

    def delete_checkpoints(self, store_too: bool = True) -> None:
        stores = [self.ledger.store] + ([self.ledger.checkpoints] if store_too else [])
        for store in stores:
            for info in list(store.list("ledger-head/")):
                store.delete(info.key)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def refused(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stderr.startswith("REFUSED:"), r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_intact_chain_passes(rig: Rig) -> None:
    r = rig.verify("--expect-head", anchor(rig.heads[-1]))
    assert r.returncode == 0, r.stderr
    assert "OK: 6 entries, head 5:" in r.stdout and "checkpoint 5" in r.stdout


def test_default_fleet_keeps_checkpoints_apart(tmp_path: Path) -> None:
    fleet = default_fleet(tmp_path)
    assert fleet.ledger_checkpoint_uri
    assert fleet.ledger_checkpoint_uri != fleet.ledger_uri


def test_tail_and_its_checkpoints_in_the_ledger_bucket_deleted(rig: Rig) -> None:
    """The attacker owns the ledger bucket only: the checkpoint bucket still knows entry 5."""
    rig.delete_entries(range(4, 6))
    rig.delete_checkpoints(store_too=False)
    refused(rig.verify(), "truncated", "signed checkpoint records entry 5", "ends at entry 3")


def test_tail_and_every_checkpoint_deleted_is_caught_by_an_anchor(rig: Rig) -> None:
    """Both buckets cleaned of the tail: the head kept outside storage still catches it."""
    rig.delete_entries(range(4, 6))
    for seq in (4, 5):
        rig.ledger.checkpoints.delete(f"ledger-head/{seq:012d}.json")
    refused(rig.verify("--expect-head", anchor(rig.heads[5])), "expected head 5 records entry 5",
            "entries 4..5 were deleted")


def test_anchor_from_an_evidence_pack(rig: Rig, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "evidence.json").write_text(json.dumps(
        {"head": {"seq": rig.heads[5].seq, "entry_hash": rig.heads[5].entry_hash}}))
    rig.delete_entries(range(3, 6))
    rig.delete_checkpoints()
    refused(rig.verify("--evidence", str(pack)), "head recorded in evidence", "3..5")


def test_everything_deleted_is_refused(rig: Rig) -> None:
    rig.delete_entries(range(0, 6))
    rig.delete_checkpoints()
    refused(rig.verify(), "the ledger is empty and no checkpoint or anchor was found")
    refused(rig.verify("--expect-head", anchor(rig.heads[2]), "--allow-empty"),
            "chain is empty")
    ok = rig.verify("--allow-empty")  # only a deployment that never appended says so
    assert ok.returncode == 0 and "OK: 0 entries" in ok.stdout


def test_everything_deleted_but_the_checkpoint_bucket(rig: Rig) -> None:
    rig.delete_entries(range(0, 6))
    rig.delete_checkpoints(store_too=False)
    refused(rig.verify("--allow-empty"), "truncated", "chain is empty", "entries 0..5")


def test_reordering_is_refused(rig: Rig) -> None:
    store = rig.ledger.store
    a, b = rig.ledger.entry_key(1), rig.ledger.entry_key(2)
    da, db = b"".join(store.get(a)), b"".join(store.get(b))
    for key, data in ((a, db), (b, da)):
        store.delete(key)
        store.put(key, [data])
    refused(rig.verify(), "claims seq 2", "reordered")


def test_revoked_signing_key_is_refused(rig: Rig, tmp_path: Path) -> None:
    fp = key_fingerprint(rig.pub.read_bytes())
    refused(rig.verify("--revoked", fp), "entry 0 is signed by revoked key")
    listing = tmp_path / "revoked.txt"
    listing.write_text(f"# compromised 2026-11-30\n{fp}  # ledger key\n")
    refused(rig.verify("--revoked", str(listing)), "revoked key")


def test_bad_anchor_is_a_usage_error(rig: Rig, tmp_path: Path) -> None:
    r = rig.verify("--expect-head", "five:abc")
    assert r.returncode == 2 and "must be SEQ:SHA256HEX" in r.stderr
    r = rig.verify("--evidence", str(tmp_path))
    assert r.returncode == 2 and "is not an evidence directory" in r.stderr


def test_library_refuses_the_empty_chain_by_default(rig: Rig) -> None:
    rig.delete_entries(range(0, 6))
    rig.delete_checkpoints()
    from medpipe.contracts.errors import LedgerTampered

    with pytest.raises(LedgerTampered, match="empty"):
        Ledger(rig.ledger.store).verify([rig.pub.read_bytes()])

"""Vault tokens minted in bulk are written exactly as one ``base64.b32encode`` each wrote
them (``tokens._b32_each``), and stay distinct and random; date-shift offsets computed in
bulk are each token's PRF."""

from __future__ import annotations

import hashlib
import pickle
import re
import secrets

import numpy as np
import pyarrow as pa
import pytest

from medpipe.activities.pseudonymize import tokenmap
from medpipe.activities.pseudonymize.tokens import VAULT_PREFIX, Vault, _b32, _b32_each


@pytest.mark.parametrize("width", [5, 10, 20])
def test_bulk_base32_is_base32_of_each_piece(width: int) -> None:
    data = secrets.token_bytes(width * 500) + bytes(width) + b"\xff" * width
    pieces = [data[i:i + width] for i in range(0, len(data), width)]
    assert _b32_each(data, width) == [_b32(p) for p in pieces]


def test_minted_tokens_have_the_vault_form_and_are_distinct() -> None:
    vault = Vault.in_memory()
    toks = vault.tokens([f"MRN{i:07d}" for i in range(20_000)])
    assert len(set(toks)) == 20_000 and vault.new_tokens == 20_000
    assert all(re.fullmatch(VAULT_PREFIX + "[a-z2-7]{16}", t) for t in toks)
    assert vault.tokens(["MRN0000007"]) == [toks[7]]  # looked up, not minted again


def test_a_mixed_ask_mints_each_new_identifier_once_and_finds_it_after() -> None:
    """An ask holding known identifiers, new ones and repeats of both (across the
    lookup's slices): one token per identifier, the same for its repeats; the new ones
    are found afterwards by their digests (which the mint reuses from the lookup), also
    after the vault is written and read back."""
    vault = Vault.in_memory()
    known = vault.tokens([f"K{i}" for i in range(1_000)])
    ask = [f"N{i % 70_000}" if i % 3 else f"K{i % 1_000}" for i in range(150_000)]
    toks = vault.tokens(ask)
    assert vault.new_tokens == 1_000 + len({a for a in ask if a.startswith("N")})
    by_id: dict[str, str] = {}
    for a, t in zip(ask, toks, strict=True):
        assert by_id.setdefault(a, t) == t
    assert all(by_id[f"K{i}"] == known[i] for i in range(1_000) if f"K{i}" in by_id)
    again = Vault(vault.to_bytes, lambda _b: None)
    for v in (vault, again):
        probe = sorted(by_id)[::97]
        assert v.tokens(probe) == [by_id[p] for p in probe]
    assert again.new_tokens == 0


def reference_offset(key: bytes, token: str, max_days: int) -> int:
    """The date-shift PRF as first written: one keyed BLAKE2b per token, in Python ints."""
    d = hashlib.blake2b(token.encode(), key=key, digest_size=8, person=b"datesh").digest()
    v = int.from_bytes(d, "big") % (2 * max_days) - max_days
    return v + 1 if v >= 0 else v


@pytest.mark.parametrize("max_days", [1, 2, 180, 3650])
def test_offsets_in_bulk_are_the_prf_of_each_token(max_days: int) -> None:
    vault = Vault.in_memory()
    toks = vault.tokens([f"MRN{i:07d}" for i in range(3_000)]) + ["", "pt_é"]
    days = vault.offset_days(toks, max_days)
    assert days.dtype == np.int64
    assert days.tolist() == [reference_offset(vault._shift_key(), t, max_days) for t in toks]
    assert (days != 0).all() and days.min() >= -max_days and days.max() <= max_days
    assert len(vault.offset_days([], max_days)) == 0


def test_lookup_key_collisions_never_give_one_identifier_anothers_token(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault finds identifiers by 64-bit lookup keys and checks every hit against the
    stored string. With keys forced to collide (five keys for 3,000 identifiers, in one
    ask and across asks), each identifier still gets one token of its own, found again
    in later asks and after the vault is written and read back."""
    monkeypatch.setattr(tokenmap, "_lookup_keys", lambda values: (
        np.array([sum(v.encode()) % 5 for v in values], dtype=np.uint64),
        np.zeros(len(values), dtype=np.uint64)))
    ids = [f"P{i}" for i in range(3_000)]
    vault = Vault.in_memory()
    first = vault.tokens(ids[:1_000] + ids[:3])
    second = vault.tokens(ids[500:] + ids[:10])
    assert first[1_000:] == first[:3] and second[-10:] == first[:10]
    assert second[:500] == first[500:1_000]  # found again, not minted again
    by_id = dict(zip(ids[:1_000] + ids[500:], first[:1_000] + second[:2_500], strict=True))
    assert len(by_id) == 3_000 and len(set(by_id.values())) == 3_000
    assert vault.new_tokens == 3_000
    again = Vault(vault.to_bytes, lambda _b: None)
    probe = ids[::7]
    assert again.tokens(probe) == vault.tokens(probe) == [by_id[p] for p in probe]
    assert again.new_tokens == 0


def test_a_token_map_is_not_pickled() -> None:
    """Its lookup keys are this process's string hashes: another process must rebuild
    them from the vault's bytes, so the map itself refuses to travel."""
    held = tokenmap.TokenMap()
    held.append(pa.array(["P1"]), pa.array(["pt_aaaaaaaaaaaaaaaa"]))
    with pytest.raises(TypeError, match="string hashes"):
        pickle.dumps(held)
    vault = Vault.in_memory()
    minted = vault.tokens(["P1"])
    assert Vault(vault.to_bytes, lambda _b: None).tokens(["P1"]) == minted

"""Vault tokens minted in bulk are written exactly as one ``base64.b32encode`` each wrote
them (``tokens._b32_each``), and stay distinct and random; date-shift offsets computed in
bulk are each token's PRF."""

from __future__ import annotations

import hashlib
import re
import secrets

import numpy as np
import pytest

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

"""Vault tokens minted in bulk are written exactly as one ``base64.b32encode`` each wrote
them (``tokens._b32_each``), and stay distinct and random."""

from __future__ import annotations

import re
import secrets

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

"""Tokens for identifiers, and the per-patient date-shift offset.

Two modes:

* ``vault`` (default): a token is random (``secrets``), not derived from the
  identifier, so it reveals nothing without the vault (HIPAA 45 CFR
  164.514(c): a re-identification code must not be derived from the
  individual's information). The identifier↔token map lives in the vault,
  which the caller keeps sealed (envelope-encrypted); the same identifier gets
  the same token in every dataset and release that uses the vault, and
  ``reidentify`` needs the vault, hence the key.
* ``hmac``: a token is a keyed HMAC-SHA256 of the identifier (truncated,
  prefixed). It needs no state, so independent sites holding the same key
  link records, but it *is* derived from the identifier: use it only for
  linkage under Expert Determination, with the key kept in the KMS/HSM.

The vault is loaded and saved through two injected callables so the caller
decides where it lives and how it is sealed; ``FileVaultStore`` is the
local implementation (atomic temp file + rename). A run saves the vault only
after it succeeded, so a failed run never damages the existing vault.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from medpipe.activities.atomicfile import write_atomically
from medpipe.activities.deid.keytable import keyed_blob
from medpipe.activities.pseudonymize.tokenmap import Digested, TokenMap
from medpipe.contracts.errors import InvalidInput, KeyProviderError, NotFound
from medpipe.contracts.pseudonymize import TokenMode

VAULT_FORMAT = "medpipe-vault/2"
_V1_FORMAT = "medpipe-vault/1"
_MAGIC = b"MPVAULT2"
VAULT_PREFIX = "pt_"
HMAC_PREFIX = "ph_"
_TOKEN_BYTES = 10  # 80 bits (16 base32 digits): collisions negligible, still checked for
_HMAC_CHARS = 26  # 130 bits of the HMAC, base32


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


_B32 = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
_SHIFTS = np.arange(35, -1, -5, dtype=np.uint64)  # eight 5-bit digits of 40 bits


def _b32_each(data: bytes, width: int) -> list[str]:
    """``_b32`` of each ``width``-byte piece of ``data`` (``width`` a multiple of 5, so no
    padding), all at once in numpy: minting a vault's tokens one ``base64.b32encode``
    call each (pure Python) was most of the learn merge's time."""
    groups = np.frombuffer(data, dtype=np.uint8).reshape(-1, 5).astype(np.uint64)
    value = np.zeros(len(groups), dtype=np.uint64)
    for i in range(5):
        value = (value << np.uint64(8)) | groups[:, i]
    text = _B32[(value[:, None] >> _SHIFTS) & np.uint64(31)].tobytes().decode()
    chars = width * 8 // 5
    return [text[i:i + chars] for i in range(0, len(text), chars)]


def _random_tokens(n: int) -> list[str]:
    """``n`` fresh random vault tokens (one draw from the OS for all of them)."""
    return [VAULT_PREFIX + t for t in _b32_each(secrets.token_bytes(_TOKEN_BYTES * n),
                                                _TOKEN_BYTES)]


class Tokenizer:
    """Maps identifiers to tokens and tokens to date-shift offsets."""

    mode: TokenMode
    new_tokens: int = 0

    def tokens(self, values: Sequence[str]) -> list[str]:
        """Tokens of distinct identifier values (same order)."""
        raise NotImplementedError

    def offset_days(self, tokens: Sequence[str], max_days: int) -> np.ndarray:
        """Per-patient date-shift offsets in [-max_days, max_days] \\ {0}.

        A keyed PRF of the patient's token: the same patient always moves by
        the same amount (intervals are kept), patients move differently.
        """
        prf = np.frombuffer(keyed_blob(self._shift_key(), tokens, 8, b"datesh"),
                            dtype=">u8").astype(np.uint64)
        v = (prf % np.uint64(2 * max_days)).astype(np.int64) - max_days
        return np.where(v >= 0, v + 1, v)

    def _shift_key(self) -> bytes:
        raise NotImplementedError


class HmacTokenizer(Tokenizer):
    """Keyed HMAC-SHA256 tokens (for linkage under Expert Determination)."""

    mode = TokenMode.HMAC

    def __init__(self, key: bytes | None) -> None:
        if not key or len(key) < 16:
            raise KeyProviderError("hmac token mode needs a key of at least 16 bytes "
                                   "(from the key provider or --hmac-key-file)")
        self._key = bytes(key)
        self._seen: set[str] = set()

    def token(self, value: str) -> str:
        """The token of one identifier."""
        mac = hmac.new(self._key, value.encode(), hashlib.sha256).digest()
        return HMAC_PREFIX + _b32(mac)[:_HMAC_CHARS]

    def tokens(self, values: Sequence[str]) -> list[str]:
        return [self.token(v) for v in values]

    def _shift_key(self) -> bytes:
        return hmac.new(self._key, b"medpipe date shift", hashlib.sha256).digest()


class Vault(Tokenizer):
    """Random tokens and their map, persisted through injected callables.

    The map is compact (``tokenmap.TokenMap``: Arrow strings and sorted
    lookup keys, ~80 bytes a patient rather than ~330 in dicts), and is saved in
    the ``medpipe-vault/2`` layout (the secret and an Arrow IPC stream of the
    pairs); a ``medpipe-vault/1`` (JSON) vault still loads.

    Args:
        load: returns the serialized vault, or None when there is none yet.
        save: stores the serialized vault atomically (called by ``commit``).
    """

    mode = TokenMode.VAULT

    def __init__(self, load: Callable[[], bytes | None], save: Callable[[bytes], None]) -> None:
        self._save = save
        blob = load()
        if blob is None:
            self._secret = secrets.token_bytes(32)
            self._map = TokenMap()
            self._dirty = True
        else:
            self._secret, pairs = _parse(blob)
            del blob
            self._map = TokenMap.loaded(pairs.column("id").combine_chunks(),
                                        pairs.column("token").combine_chunks())
            self._dirty = False
        self.new_tokens = 0

    @classmethod
    def in_memory(cls) -> Vault:
        """A fresh vault that is never persisted (tests, dry runs)."""
        return cls(lambda: None, lambda _b: None)

    def __len__(self) -> int:
        return len(self._map)

    def token(self, value: str) -> str:
        """The token of one identifier, minting a random one the first time."""
        return self.tokens([value])[0]

    def tokens(self, values: Sequence[str]) -> list[str]:
        values = list(values)
        pos, (hi, lo) = self._map.token_positions(values)
        missing = np.flatnonzero(pos < 0)
        if len(missing):
            first_at: dict[str, int] = {}  # each new identifier's first place in values
            for i in missing.tolist():
                first_at.setdefault(values[i], i)
            new = list(first_at)
            idx = np.fromiter(first_at.values(), dtype=np.int64, count=len(first_at))
            first = len(self._map)
            self._mint(new, (hi[idx], lo[idx]))
            at = {v: first + j for j, v in enumerate(new)}
            pos[missing] = [at[values[i]] for i in missing.tolist()]
        return self._map.tokens_at(pos)

    def _mint(self, values: list[str], digested: Digested) -> None:
        """Random tokens for identifiers new to the vault, in order (``digested``: their
        lookup keys, made by the lookup that found them new)."""
        toks = _random_tokens(len(values))
        while len(set(toks)) < len(toks) or self._map.issued_any(toks):  # pragma: no cover
            toks = _random_tokens(len(values))
        self._map.append(pa.array(values, pa.string()), pa.array(toks, pa.string()),
                         digested)
        self.new_tokens += len(values)
        self._dirty = True

    def reidentify(self, token: str) -> str:
        """The identifier behind a token.

        Raises:
            NotFound: this vault never issued that token.
        """
        value = self._map.identifier_of(token)
        if value is None:
            raise NotFound("token not issued by this vault")
        return value

    def _shift_key(self) -> bytes:
        return self._secret

    def to_bytes(self) -> bytes:
        """The serialized vault (identifiers in clear: the caller seals it)."""
        sink = pa.BufferOutputStream()
        table = self._map.table()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        head = json.dumps({"format": VAULT_FORMAT, "secret": self._secret.hex()}).encode()
        return b"".join([_MAGIC, struct.pack(">I", len(head)), head,
                         sink.getvalue().to_pybytes()])

    def commit(self) -> None:
        """Save the vault if it changed. Call only after a run succeeded."""
        if self._dirty:
            self._save(self.to_bytes())
            self._dirty = False


def _parse(blob: bytes) -> tuple[bytes, pa.Table]:
    try:
        if blob.startswith(_MAGIC):
            (size,) = struct.unpack(">I", blob[len(_MAGIC):len(_MAGIC) + 4])
            at = len(_MAGIC) + 4
            doc = json.loads(blob[at:at + size])
            if doc.get("format") != VAULT_FORMAT:
                raise ValueError("unknown format")
            secret = bytes.fromhex(doc["secret"])
            pairs = pa.ipc.open_stream(pa.py_buffer(blob)[at + size:]).read_all()
            if pairs.schema.names != ["id", "token"] or pairs.num_rows and any(
                    not pa.types.is_string(t) for t in pairs.schema.types):
                raise ValueError("bad columns")
        else:
            doc = json.loads(blob)
            if doc.get("format") != _V1_FORMAT:
                raise ValueError("unknown format")
            secret = bytes.fromhex(doc["secret"])
            tokens = doc["tokens"]
            if not isinstance(tokens, dict):
                raise ValueError("bad fields")
            pairs = pa.table({"id": pa.array([str(k) for k in tokens], pa.string()),
                              "token": pa.array([str(v) for v in tokens.values()], pa.string())})
        if len(secret) != 32:
            raise ValueError("bad fields")
    except (ValueError, KeyError, TypeError, AttributeError, struct.error,
            pa.ArrowInvalid) as e:
        raise InvalidInput(f"token vault is not a {VAULT_FORMAT} (or /1) document "
                           f"({type(e).__name__}: {e})") from None
    return secret, pairs


class FileVaultStore:
    """A vault file on local disk: load, and atomic save via temp file + rename.

    For development and the CLI; the worker seals the vault with envelope
    encryption in object storage instead.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> bytes | None:
        """The vault's bytes, or None when the file does not exist yet.

        The file maps tokens back to identifiers, in clear: like the local
        keyring, it is refused when anyone but its owner may read it.

        Raises:
            KeyProviderError: the file is group- or world-accessible.
        """
        try:
            with self.path.open("rb") as f:
                mode = os.fstat(f.fileno()).st_mode
                if mode & 0o077:
                    raise KeyProviderError(
                        f"vault file {self.path} has mode {stat.S_IMODE(mode):04o}: it maps "
                        f"tokens to identifiers and must be readable by its owner only "
                        f"(chmod 600 {self.path})")
                return f.read()
        except FileNotFoundError:
            return None

    def save(self, data: bytes) -> None:
        """Replace the file atomically (a crash leaves the old or the new vault)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, data)

    def open(self) -> Vault:
        """A vault backed by this file."""
        return Vault(self.load, self.save)


def tokenizers(modes: set[TokenMode], vault: Vault | None,
               hmac_key: bytes | None) -> dict[TokenMode, Tokenizer]:
    """The tokenizers a policy needs; a missing vault means an in-memory one."""
    out: dict[TokenMode, Tokenizer] = {}
    if TokenMode.VAULT in modes or hmac_key is None:
        out[TokenMode.VAULT] = vault if vault is not None else Vault.in_memory()
    if TokenMode.HMAC in modes:
        out[TokenMode.HMAC] = HmacTokenizer(hmac_key)
    return out

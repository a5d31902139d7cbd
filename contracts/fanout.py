"""Contracts of the data stages fanned out over shards across the fleet's compliant workers.

Above ``FanoutSettings.min_bytes`` the pseudonymize stage runs as three kinds
of activity instead of one: a **learn** pass over the whole dataset (the
identifier index every shard scrubs with, and every vault token assigned in
row order), one **shard** per range of chunks on the queue of every compliant
worker, and a **merge** that writes the stage's usual output from the shards,
in order. The workflow carries references and counts only: the index, the
shard outputs and the dataset stay envelope-encrypted in object storage.

The learn pass itself fans out too (``PseudonymizeLearnShardInput``): one
**learn key** (the release's identifier-digest key, wrapped and stored sealed,
so every part digests under one key), one **learn shard** per worker taking
every ``shards``-th chunk (its partial index and its chunks' first-seen vault
keys, stored sealed), and a **learn merge** that merges the partial indexes and
mints the vault tokens in row order, returning the ``PseudonymizeLearnResult``
the one learn activity returns.

The validate stage fans out the same way, without a first pass: one **shard**
per range of rows of the pseudonymized dataset (its counts, stored sealed as a
part), then a **merge** of the parts, in order, into the one report.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.placement import RanOn
from medpipe.contracts.pseudonymize import Action, PseudonymizeInput, TokenMode
from medpipe.contracts.validate import ValidateInput

#: Rows per chunk of tabular data: the unit of a shard (same as the one-activity run's).
DEFAULT_CHUNK_ROWS = 131_072
#: How the stage records of a fanned-out stage begin (``detail``): status shows the part.
FANOUT_DETAIL = "fan-out: "
#: Formats a shard can cut into chunks (FHIR documents run as one activity).
FANOUT_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".pq")


class FanoutSettings(BaseModel):
    """When and how wide a data stage fans out.

    Attributes:
        min_bytes: stored size of the ingested dataset from which the stage fans
            out (smaller datasets run as one activity, as before); 0 disables.
        shards_per_worker: shards per compliant worker queue (more shards than
            workers: a lost worker's share moves in smaller pieces).
        max_shards: upper bound on the shards of one stage.
        chunk_rows: rows per chunk, the unit shards are cut in (tests use small ones).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_bytes: int = Field(default=256 << 20, ge=0)
    shards_per_worker: int = Field(default=1, ge=1, le=64)
    max_shards: int = Field(default=64, ge=1, le=512)
    chunk_rows: int = Field(default=DEFAULT_CHUNK_ROWS, ge=1)

    def applies(self, dataset: ArtifactRef) -> bool:
        """Whether a stage over ``dataset`` fans out (big enough, tabular)."""
        return (self.min_bytes > 0 and dataset.size >= self.min_bytes
                and dataset.key.lower().endswith(FANOUT_SUFFIXES))


class PseudonymizeLearnInput(PseudonymizeInput):
    """The dataset-wide first pass: index every identifier, assign every token.

    The one-activity run's input (same dataset, policy, keys and vault) plus the
    chunk size the shards will be cut in.
    """

    chunk_rows: int = DEFAULT_CHUNK_ROWS


class PseudonymizeLearnResult(BaseModel):
    """What the shards and the merge need from the first pass (references and counts).

    Attributes:
        chunks: chunks of ``chunk_rows`` rows in the dataset (what shards split).
        index: the sealed identifier index (identifiers: never in history).
        identifier_digests: keyed digests for the validate stage's residual check.
        patients / new_tokens: the report's figures that need the whole dataset.
        vault_version: the vault version holding every token the shards look up.
    """

    model_config = ConfigDict(frozen=True)

    format: str
    rows: int
    chunks: int
    chunk_rows: int
    index: ArtifactRef
    identifier_digests: ArtifactRef
    patients: int
    new_tokens: int
    token_modes: tuple[TokenMode, ...]
    policy_sha256: str
    vault_version: int
    ran_on: RanOn


class PseudonymizeLearnKeyResult(BaseModel):
    """The release's identifier-digest key, wrapped by the key provider, stored sealed
    (every learn shard digests under it; the merge's index and digests carry it)."""

    model_config = ConfigDict(frozen=True)

    key: ArtifactRef
    ran_on: RanOn


class PseudonymizeLearnShardInput(PseudonymizeLearnInput):
    """One learn shard: chunks ``shard``, ``shard + shards``, ``shard + 2 * shards``, ...

    Every ``shards``-th chunk, not a contiguous range: the workflow does not know the
    dataset's chunk count before the first pass, and this spreads the work evenly
    whatever it is.
    """

    digest_key: ArtifactRef
    shard: int = Field(ge=0)
    shards: int = Field(ge=1)


class PseudonymizeLearnShardResult(BaseModel):
    """A learn shard's sealed part (partial index, patients, first-seen vault keys)
    and counts."""

    model_config = ConfigDict(frozen=True)

    shard: int
    part: ArtifactRef
    rows: int
    chunks: int
    ran_on: RanOn


class PseudonymizeLearnMergeInput(PseudonymizeLearnInput):
    """Merge the learn shards' parts (all of them, in shard order) into the learn result."""

    digest_key: ArtifactRef
    parts: tuple[PseudonymizeLearnShardResult, ...]


class PseudonymizeShardInput(PseudonymizeInput):
    """One shard: chunks ``first_chunk`` .. ``first_chunk + chunks - 1`` of the dataset
    (the one-activity run's input plus the learn pass's index and the range)."""

    index: ArtifactRef
    shard: int = Field(ge=0)
    first_chunk: int = Field(ge=0)
    chunks: int = Field(ge=1)
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    vault_version: int = 0


class FieldCount(BaseModel):
    """One column's figures in one shard (counts only)."""

    model_config = ConfigDict(frozen=True)

    field: str
    action: Action
    values: int
    changed: int


class ShardCounts(BaseModel):
    """What one shard adds to the stage's report (counts only, never values)."""

    model_config = ConfigDict(frozen=True)

    records: int = 0
    fields: tuple[FieldCount, ...] = ()
    placeholders: dict[str, int] = Field(default_factory=dict)


class PseudonymizeShardResult(BaseModel):
    """A shard's sealed output (Arrow IPC stream of its pseudonymized chunks) and counts."""

    model_config = ConfigDict(frozen=True)

    shard: int
    output: ArtifactRef
    counts: ShardCounts
    ran_on: RanOn


class PseudonymizeMergeInput(BaseModel):
    """Concatenate the shards, in order, into the stage's usual output and report."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    dataset: ArtifactRef
    keys: KeySettings = KeySettings()
    learned: PseudonymizeLearnResult
    shards: tuple[PseudonymizeShardResult, ...]


class ValidateShardInput(ValidateInput):
    """One validate shard: rows ``first_row`` .. ``first_row + rows - 1`` of the dataset
    (the one-activity run's input plus the range, and the keys its part is sealed with)."""

    keys: KeySettings = KeySettings()
    shard: int = Field(ge=0)
    first_row: int = Field(ge=0)
    rows: int = Field(ge=1)


class ValidateShardResult(BaseModel):
    """A validate shard's sealed part (counts, and value hashes of ``unique`` columns)."""

    model_config = ConfigDict(frozen=True)

    shard: int
    part: ArtifactRef
    rows: int
    ran_on: RanOn


class ValidateMergeInput(BaseModel):
    """Merge the shards' parts, in order, into the stage's usual report and result."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    dataset: ArtifactRef
    rows: int
    shards: tuple[ValidateShardResult, ...]


def row_ranges(rows: int, chunk_rows: int, shards: int) -> list[tuple[int, int]]:
    """``(first_row, rows)`` of each shard: whole chunks of ``chunk_rows``, contiguous,
    in order (``shard_ranges`` over the dataset's chunks)."""
    chunks = max(1, -(-rows // max(1, chunk_rows)))
    out = []
    for first, n in shard_ranges(chunks, shards):
        start = first * chunk_rows
        out.append((start, min(rows, (first + n) * chunk_rows) - start))
    return [(f, n) for f, n in out if n > 0]


def shard_ranges(chunks: int, shards: int) -> list[tuple[int, int]]:
    """``(first_chunk, chunks)`` of each shard: contiguous, in order, sizes within one."""
    shards = max(1, min(shards, chunks))
    base, extra = divmod(chunks, shards)
    out, first = [], 0
    for i in range(shards):
        n = base + (1 if i < extra else 0)
        out.append((first, n))
        first += n
    return out


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "FANOUT_DETAIL",
    "FANOUT_SUFFIXES",
    "FanoutSettings",
    "FieldCount",
    "PseudonymizeLearnInput",
    "PseudonymizeLearnKeyResult",
    "PseudonymizeLearnMergeInput",
    "PseudonymizeLearnResult",
    "PseudonymizeLearnShardInput",
    "PseudonymizeLearnShardResult",
    "PseudonymizeMergeInput",
    "PseudonymizeShardInput",
    "PseudonymizeShardResult",
    "ShardCounts",
    "ValidateMergeInput",
    "ValidateShardInput",
    "ValidateShardResult",
    "row_ranges",
    "shard_ranges",
]

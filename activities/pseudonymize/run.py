"""Run a policy over a dataset: bytes in, bytes out, a counts-only report.

``Pseudonymizer.stream`` goes chunk by chunk (decrypt → pseudonymize →
encrypt without plaintext on disk); ``pseudonymize_file`` writes a temp file
beside the destination and renames it only when the whole run succeeded,
and saves the vault just before that rename: a failed run leaves neither a
partial output nor a changed vault.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.memory import release_freed
from medpipe.activities.pseudonymize import parallel, streams
from medpipe.activities.pseudonymize.fhir import BATCH_BYTES, BATCH_DOCS, FhirJob, learn_fhir
from medpipe.activities.pseudonymize.fhir_uuids import UuidTypes
from medpipe.activities.pseudonymize.learnpool import learn_on_pool
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tabular import TabularJob, identifying, string_columns
from medpipe.activities.pseudonymize.tabular import learn as learn_tabular
from medpipe.activities.pseudonymize.tokens import Tokenizer, Vault, tokenizers
from medpipe.activities.residual import DigestSet
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import Action, Policy, PseudonymizeReport, TokenMode

Format = Literal["csv", "parquet", "ndjson", "bundle"]
FORMATS: tuple[str, ...] = ("csv", "parquet", "ndjson", "bundle")
_SUFFIX = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".ndjson": "ndjson",
           ".jsonl": "ndjson", ".json": "bundle"}
READ_BYTES = 1 << 20
#: Arrow bytes of a CSV's parsed batches the learn pass keeps for the scrub pass (when
#: asked to): a dataset up to this size is read, decrypted and parsed once instead of
#: twice (the reference release's 100k rows are ~35 MB); a larger one is read again,
#: so memory stays bounded.
KEEP_BYTES = 128 << 20


def detect_format(name: str | os.PathLike[str]) -> str:
    """The format from a file name's suffix (``.csv``, ``.parquet``, ``.ndjson``, ``.json``)."""
    suffixes = Path(name).suffixes
    for s in reversed(suffixes):
        if s.lower() in _SUFFIX:
            return _SUFFIX[s.lower()]
    raise InvalidInput(f"{name}: cannot tell the format from the name; pass one of "
                       f"{', '.join(FORMATS)}")


def read_chunks(f: BinaryIO, size: int = READ_BYTES) -> Iterator[bytes]:
    """Byte chunks of an open binary file."""
    while chunk := f.read(size):
        yield chunk


def write_tabular(batches: Iterable[pa.RecordBatch], fmt: str,
                  source: str) -> Iterator[bytes]:
    """CSV or Parquet bytes of pseudonymized batches, as they are written.

    One writer for the one-activity run and the merge of a fanned-out run
    (``activities.pseudonymize.shards``), so both write the same bytes.

    Raises:
        InvalidInput: a batch's column types cannot be cast to the first batch's.
    """
    sink = streams.Drain()
    writer: pacsv.CSVWriter | pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    row0 = 0
    for out in batches:
        row0 += out.num_rows
        if writer is None:
            schema = out.schema
            writer = pacsv.CSVWriter(sink, schema) if fmt == "csv" else \
                pq.ParquetWriter(sink, schema, compression="zstd")
        elif out.schema != schema:
            assert schema is not None
            try:
                out = out.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InvalidInput(f"{source}, after data row {row0}: column types "
                                   "changed between chunks") from None
        writer.write_batch(out)
        data = sink.take()
        if data:
            yield data
    if writer is not None:
        writer.close()
    data = sink.take()
    if data:
        yield data


class Pseudonymizer:
    """One run of a policy over one dataset.

    Args:
        policy: what to do with each column/element.
        vault: the token vault (default: a throwaway in-memory vault).
        hmac_key: the key for ``hmac`` tokens (required when the policy uses them).
        source: the dataset's name in error messages.
        processes: child processes for the scrub pass of tabular data (1: none, this
            thread does it). The output is the same bytes either way
            (``activities.pseudonymize.parallel``).
        chunk_rows: rows per chunk of tabular data (the unit of work and of memory).
        digest_key: the key of the identifier index's digests, which are the residual
            check's (``identifier_digests``); default: a fresh random key.
    """

    def __init__(self, policy: Policy, vault: Vault | None = None,
                 hmac_key: bytes | None = None, source: str = "dataset",
                 processes: int = 1, chunk_rows: int = streams.CHUNK_ROWS,
                 digest_key: bytes | None = None) -> None:
        self.policy = policy
        self.processes = max(1, processes)
        self.chunk_rows = chunk_rows
        self.vault = vault
        self.source = source
        self.tokenizers: dict[TokenMode, Tokenizer] = tokenizers(
            policy.modes() | {policy.token_mode}, vault, hmac_key)
        self.index = KeyIndex(digest_key)
        self.state = RunState(format="", index=self.index)
        self.report: PseudonymizeReport | None = None
        self.learned = False
        self._learned_columns: set[str] = set()
        self._kept: list[pa.RecordBatch] | None = None  # the learn pass's batches, kept
        self.uuids = UuidTypes()  # NDJSON: the types of resources with UUID ids (learn)

    def _new_tokens(self) -> int:
        return sum(t.new_tokens for t in self.tokenizers.values() if isinstance(t, Vault))

    def _check_format(self, fmt: str) -> None:
        if fmt not in FORMATS:
            raise InvalidInput(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
        fhir = fmt in ("ndjson", "bundle")
        if fhir != (self.policy.format == "fhir"):
            raise InvalidInput(f"{self.source}: a {self.policy.format} policy cannot apply to "
                               f"{fmt} data")

    @property
    def holds_input(self) -> bool:
        """Whether ``learn`` kept the whole input parsed (``keep``): ``stream`` then
        reads its batches, not its ``chunks`` (pass none)."""
        return self._kept is not None

    def stream(self, chunks: Iterable[bytes], fmt: str, *,
               commit_vault: bool = True) -> Iterator[bytes]:
        """Pseudonymized output bytes, chunk by chunk.

        The vault is committed (when ``commit_vault``) after all input was
        processed and before the last output chunk is yielded; ``report`` is
        set then too. When the learn pass kept the input (``holds_input``),
        ``chunks`` is not read.
        """
        self._check_format(fmt)
        self.state = RunState(format=fmt, index=self.index)
        if fmt in ("csv", "parquet"):
            body = self._tabular(chunks, fmt)
        else:
            body = self._fhir(chunks, fmt)
        pending: bytes | None = None
        for out in body:
            if pending:
                yield pending
            pending = out
        if self.state.records == 0 and fmt in ("csv", "parquet") and pending is None:
            raise InvalidInput(f"{self.source}: no rows")
        if commit_vault and self.vault is not None:
            self.vault.commit()
        self.report = self.state.report(self._new_tokens(), self.policy.modes())
        if pending:
            yield pending

    def _tabular(self, chunks: Iterable[bytes], fmt: str) -> Iterator[bytes]:
        job = TabularJob(self.policy, self._toks(), self.state, self.source)
        if fmt == "csv":
            kept, self._kept = self._kept, None
            parsed = _drained(kept) if kept is not None else streams.csv_batches(
                chunks, self.source, string_columns(self.policy), self.chunk_rows)
            batches = streams.sized_batches(parsed, self.chunk_rows)
        else:
            batches = streams.parquet_stream_batches(chunks, self.source, self.chunk_rows)
        yield from self._write_tabular(job, batches, fmt)

    def tabular_batches(self, batches: Iterable[pa.RecordBatch], fmt: str) -> Iterator[bytes]:
        """Output bytes from already-decoded record batches (Parquet files by row group)."""
        self._check_format(fmt)
        self.state = RunState(format=fmt, index=self.index)
        job = TabularJob(self.policy, self._toks(), self.state, self.source)
        yield from self._write_tabular(job, batches, fmt)
        self.report = self.state.report(self._new_tokens(), self.policy.modes())

    def _write_tabular(self, job: TabularJob, batches: Iterable[pa.RecordBatch],
                       fmt: str) -> Iterator[bytes]:
        yield from write_tabular(self._processed(job, batches), fmt, self.source)

    def _processed(self, job: TabularJob,
                   batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Each batch pseudonymized, in order: here, or in child processes when the run
        has several and its index is complete (learned, or no free text to scrub)."""
        scrubs = any(r.action is Action.SCRUB for r in self.policy.fields.values())
        if self.processes > 1 and (self.learned or not scrubs):
            it = iter(batches)
            head = list(itertools.islice(it, 2))
            batches = itertools.chain(head, it)
            if len(head) > 1 or (scrubs and head and
                                 head[0].num_rows >= parallel.POOL_MIN_TEXT_ROWS):
                yield from parallel.process_batches(
                    batches, policy=self.policy, tokenizers=self.tokenizers, state=self.state,
                    source=self.source, processes=self.processes)
                return
        row0 = 0
        for batch in batches:
            out = job.process(batch, row0)
            row0 += batch.num_rows
            del batch
            release_freed()  # this chunk's working memory, before the next one is read
            yield out

    def _fhir(self, chunks: Iterable[bytes], fmt: str) -> Iterator[bytes]:
        job = FhirJob(self.policy, self._toks(), self.state, self.source, learned=self.learned,
                      uuids=self.uuids)
        if fmt == "bundle":
            doc = streams.json_document(chunks, self.source)
            yield streams.dump_json(job.document(doc, self.source)) + b"\n"
            return
        docs: list[tuple[object, str]] = []
        size = 0
        for line, n, doc in streams.ndjson_records(chunks, self.source):
            docs.append((doc, f"{self.source}, line {line}"))
            size += n
            if len(docs) >= BATCH_DOCS or size >= BATCH_BYTES:
                yield _ndjson(job.documents(docs))
                docs, size = [], 0
        if docs:
            yield _ndjson(job.documents(docs))

    def _toks(self) -> dict[TokenMode, Tokenizer]:
        return self.tokenizers

    def learn(self, chunks: Iterable[bytes], fmt: str, *, keep: bool = False) -> None:
        """First pass over the input: index every identifier of every record.

        Call it with a second reading of the same input before ``stream``:
        every note is then scrubbed of every patient's identifiers, whatever
        their order in the file. Without it the index grows while streaming
        (identifiers seen later are not scrubbed from earlier notes; the
        residual check would catch them).

        ``keep``: a CSV whose parsed batches stay within ``KEEP_BYTES`` is kept
        for ``stream`` (``holds_input``), which then needs no second reading:
        the same batches, so the same output bytes.
        """
        self._check_format(fmt)
        state = RunState(format=fmt, index=self.index)
        if fmt == "csv":
            parsed = streams.csv_batches(chunks, self.source, string_columns(self.policy),
                                         self.chunk_rows)
            self._kept = None  # set only when the learn pass reads every batch and they fit
            self._learn_tabular(self._seen(self._keeping_all(parsed) if keep else parsed),
                                state)
        elif fmt == "parquet":
            learn_tabular(self.policy, self._seen(streams.parquet_stream_batches(
                chunks, self.source, self.chunk_rows)), state)
        elif fmt == "bundle":
            learn_fhir(self.policy, [streams.json_document(chunks, self.source)], state)
        else:
            self.uuids = UuidTypes()
            learn_fhir(self.policy, (doc for _, doc in streams.ndjson_lines(chunks, self.source)),
                       state, self.uuids)
        self._learned()

    def learn_batches(self, batches: Iterable[pa.RecordBatch]) -> None:
        """``learn`` from decoded record batches (a Parquet file by row groups)."""
        self._learn_tabular(self._seen(batches), RunState(format="parquet", index=self.index))
        self._learned()

    def _learn_tabular(self, batches: Iterator[pa.RecordBatch], state: RunState) -> None:
        """The learn pass of tabular data: in this thread, or with the identifier values
        indexed on child processes when the run has several and the data is large enough
        to pay for their start (``learnpool``: the same index either way)."""
        scrubs = any(r.action is Action.SCRUB for r in self.policy.fields.values())
        if self.processes > 1 and scrubs and not len(self.index):
            head = list(itertools.islice(batches, 2))
            batches = itertools.chain(head, batches)
            if len(head) > 1 or (head and head[0].num_rows >= parallel.POOL_MIN_TEXT_ROWS):
                self.index = learn_on_pool(self.policy, batches, self.index.key,
                                           self.processes)
                self.state = RunState(format=self.state.format, index=self.index)
                return
        learn_tabular(self.policy, batches, state)

    def _keeping_all(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The batches; once all were read, ``_kept`` holds them if they fit ``KEEP_BYTES``
        (a run that stops early or outgrows it keeps nothing)."""
        kept: list[pa.RecordBatch] | None = []
        size = 0
        for b in batches:
            if kept is not None:
                size += b.nbytes
                if size <= KEEP_BYTES:
                    kept.append(b)
                else:
                    kept = None
            yield b
        self._kept = kept

    def _seen(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The batches, noting which columns the learn pass read."""
        for b in batches:
            self._learned_columns.update(b.schema.names)
            yield b

    def _learned(self) -> None:
        self.learned = True
        scrubs = any(r.action is Action.SCRUB for r in self.policy.fields.values())
        ids = {n for n, r in self.policy.fields.items() if identifying(r)}
        if self.policy.format != "fhir" and scrubs and ids <= self._learned_columns:
            # the learn pass indexed every identifier column of every row: the scrub pass
            # would only add them again (a FHIR walk may index more than its learn pass)
            self.index.freeze()
        else:  # an index merged from a pool's tables comes frozen: the scrub pass adds
            self.index.frozen = False

    def identifier_digests(self, key: bytes | None = None) -> DigestSet:
        """Keyed digests of the identifiers this run replaced, for the residual check
        (small runs: a ``DigestSet`` holds Python objects; see ``identifier_digest_blob``).

        Raises:
            ValueError: ``key`` is not the run's ``digest_key``.
        """
        key = self.index.key if key is None else key
        return self.state.digests(key, self.policy.safe_list_fields())

    def identifier_digest_blob(self, key: bytes) -> bytes:
        """``identifier_digests(key).to_bytes()`` without building the set."""
        return self.state.digest_blob(key, self.policy.safe_list_fields())

    def identifier_digest_parts(self, key: bytes) -> Iterator[bytes]:
        """``identifier_digest_blob`` in pieces (to store it whatever its size)."""
        return self.state.digest_parts(key, self.policy.safe_list_fields())


def _drained(batches: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The kept batches, each let go as it is handed on (memory follows the scrub pass)."""
    batches.reverse()
    while batches:
        yield batches.pop()


def _ndjson(docs: list[object]) -> bytes:
    """Resources as NDJSON lines."""
    return b"".join(streams.dump_json(d) + b"\n" for d in docs)


def pseudonymize_stream(chunks: Iterable[bytes], policy: Policy, fmt: str, *,
                        vault: Vault | None = None, hmac_key: bytes | None = None,
                        source: str = "dataset") -> tuple[Pseudonymizer, Iterator[bytes]]:
    """Stream variant: returns the run (for ``report`` afterwards) and its output chunks."""
    run = Pseudonymizer(policy, vault, hmac_key, source)
    return run, run.stream(chunks, fmt)


def pseudonymize_file(src: Path | BinaryIO, dst: Path, policy: Policy, *,
                      vault: Vault | None = None, hmac_key: bytes | None = None,
                      fmt: str | None = None, run: Pseudonymizer | None = None,
                      processes: int = 1) -> PseudonymizeReport:
    """Pseudonymize a file (or an open binary stream) into ``dst``, atomically.

    Nothing is written at ``dst`` unless the whole run succeeds; the vault is
    saved only then.

    Raises:
        InvalidInput: the input does not match the policy or is malformed.
    """
    name = str(src) if isinstance(src, Path) else getattr(src, "name", "stream")
    fmt = fmt or detect_format(name if isinstance(src, Path) else dst)
    run = run or Pseudonymizer(policy, vault, hmac_key, source=Path(str(name)).name,
                               processes=processes)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(src, Path):
                if not src.is_file():
                    raise InvalidInput(f"{src}: no such file")
                if fmt == "parquet":
                    run.learn_batches(streams.parquet_batches(str(src), run.source,
                                                              run.chunk_rows))
                    batches = streams.parquet_batches(str(src), run.source, run.chunk_rows)
                    for chunk in run.tabular_batches(batches, fmt):
                        out.write(chunk)
                    if run.state.records == 0:
                        raise InvalidInput(f"{run.source}: no rows")
                else:
                    with open(src, "rb") as f:
                        run.learn(read_chunks(f), fmt, keep=True)
                    with open(src, "rb") as f:
                        for chunk in run.stream(() if run.holds_input else read_chunks(f),
                                                fmt, commit_vault=False):
                            out.write(chunk)
            else:
                for chunk in run.stream(read_chunks(src), fmt, commit_vault=False):
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if run.vault is not None:
            run.vault.commit()
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    assert run.report is not None
    return run.report

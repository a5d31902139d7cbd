"""The activities of a fanned-out pseudonymize stage: learn, shard, merge.

* **learn** (one worker): the dataset-wide first pass of the one-activity run
  (every identifier indexed, so a note in one shard is scrubbed of a patient
  who appears only in another), then every vault token assigned in row order
  and committed once, with the vault's conditional write. It stores the index
  sealed and returns its reference, never its content.
  Releases started since ``LEARN_SHARDS_PATCH`` run it fanned out too
  (``learnfanout``: learn key, learn shards, learn merge), ending in the same
  ``stored_learned`` and the same result.
* **shard** (one per range of chunks, on every compliant worker): reads the
  dataset from the top (same chunking, same column types), pseudonymizes its
  chunks with the learned index and the committed vault (read-only), and
  stores its output sealed, under a key named by its range, so a shard that
  ran again after a failover writes the same object.
* **merge** (one worker): the shards' outputs, in order, through the writer
  the one-activity run uses, into the stage's usual output and report.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import secrets
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.digestkey import open_digest_key, seal_digest_key
from medpipe.activities.procpool import map_readonly, scratch_file
from medpipe.activities.progress import heartbeat, heartbeating, keeps_alive
from medpipe.activities.pseudonymize import parallel
from medpipe.activities.pseudonymize.activity import RunSetup, open_run
from medpipe.activities.pseudonymize.policy import check_columns
from medpipe.activities.pseudonymize.run import Pseudonymizer, write_tabular
from medpipe.activities.pseudonymize.shards import (
    FrozenVault,
    dataset_batches,
    index_from_bytes,
    index_parts,
    ipc_batches,
    ipc_bytes,
    merge_counts,
    select_chunks,
    shard_counts,
)
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tabular import TabularJob, identifying, lookup_kind
from medpipe.activities.pseudonymize.tokens import Tokenizer, Vault
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.fanout import (
    PseudonymizeLearnInput,
    PseudonymizeLearnResult,
    PseudonymizeMergeInput,
    PseudonymizeShardInput,
    PseudonymizeShardResult,
)
from medpipe.contracts.names import ActivityName
from medpipe.contracts.pseudonymize import Action, Policy, PseudonymizeResult, TokenMode

#: The wrapped digest key's header fits in this many bytes (a few hundred in practice).
_HEADER_MAX = 1 << 16


def task_queue() -> str:
    """The task queue of the running activity (empty outside one)."""
    return activity.info().task_queue if activity.in_activity() else ""


def fanout_dir(release_id: str) -> str:
    """Where a release's fan-out parts (index, learn parts, shard outputs) are stored."""
    return f"releases/{release_id}/pseudonymized/fanout"


@contextlib.contextmanager
def _mapped_index(inp: PseudonymizeShardInput) -> Iterator[tuple[KeyIndex, tuple[str, int]]]:
    """The learn pass's index, decrypted into a scratch file and mapped read-only: its
    digest key unwrapped (one logged provider call), its arrays read in place from the
    mapping; and (path, offset) of the serialized index in the file, which the shard's
    pool children map too.

    Mapped, not read: the index grows with the dataset (~17 bytes a key, a few keys a
    patient; hundreds of MB at 10M rows), and its pages are then the page cache's,
    shared by the worker and its children and given back under pressure, instead of
    one private copy in the worker (and a second while the stored chunks were joined).
    The file holds keyed digests and the wrapped key only; it goes with the shard.
    """
    with scratch_file(open_plain(inp.index), "medpipe-index-", "index.bin") as path:
        mapped = map_readonly(path)
        head = bytes(mapped[:_HEADER_MAX])
        key, rest = open_digest_key(head, inp.keys.key_uri if inp.keys.enabled else "",
                                    inp.release_id)
        offset = len(head) - len(rest)
        yield index_from_bytes(mapped[offset:], key), (path, offset)


def learn_run(setup: RunSetup, inp: PseudonymizeLearnInput, digest_key: bytes) -> Pseudonymizer:
    """The run of a learn pass: the vault read-write, the index under ``digest_key``."""
    vault_store = setup.vault_store
    return Pseudonymizer(setup.policy, Vault(vault_store.load, vault_store.save),
                         setup.hmac_key, source=inp.dataset.name, chunk_rows=inp.chunk_rows,
                         digest_key=digest_key)


def stored_learned(ctx: WorkerContext, inp: PseudonymizeLearnInput, setup: RunSetup,
                   run: Pseudonymizer, state: RunState, key_header: bytes, rows: int,
                   chunks: int) -> PseudonymizeLearnResult:
    """The end of a learn pass (one activity or the merge of learn shards): the vault
    committed once, the index and the residual digests stored sealed with the wrapped
    digest key before them, and the result the shards and the merge read.

    Raises:
        InvalidInput: the dataset has no rows.
    """
    if rows == 0:
        raise InvalidInput(f"{run.source}: no rows")
    assert run.vault is not None
    run.vault.commit()  # conditional create: a concurrent writer makes this retry
    index_ref = store_sealed(
        ctx.store, f"{fanout_dir(inp.release_id)}/index-{secrets.token_hex(6)}.json",
        itertools.chain([key_header], index_parts(run.index)), name="identifier-index",
        release_id=inp.release_id, keys=inp.keys)
    digests_ref = store_sealed(
        ctx.store, f"releases/{inp.release_id}/pseudonymized/identifier-digests-"
        f"{secrets.token_hex(6)}.bin",
        itertools.chain([key_header], state.digest_parts(run.index.key,
                                                         setup.policy.safe_list_fields())),
        name="identifier-digests", release_id=inp.release_id, keys=inp.keys)
    new_tokens = sum(t.new_tokens for t in run.tokenizers.values() if isinstance(t, Vault))
    return PseudonymizeLearnResult(
        format=setup.format, rows=rows, chunks=chunks, chunk_rows=inp.chunk_rows,
        index=index_ref, identifier_digests=digests_ref, patients=len(state.patients),
        new_tokens=new_tokens, token_modes=tuple(sorted(setup.policy.modes())),
        policy_sha256=setup.policy_sha256(), vault_version=setup.vault_store.version,
        ran_on=ctx.ran_on(task_queue=task_queue()))


class FanoutPseudonymizeActivities:
    """Learn, shard and merge activities bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    # -- learn ------------------------------------------------------------------------
    @activity.defn(name=ActivityName.PSEUDONYMIZE_LEARN)
    @translate_errors
    @keeps_alive("pseudonymize: learn")
    def learn(self, inp: PseudonymizeLearnInput) -> PseudonymizeLearnResult:
        """Index every identifier, assign every token (row order), commit the vault once."""
        setup = open_run(inp, self.ctx)  # refuses without a key provider (the vault's)
        fmt = setup.format
        # the index is digested under the residual check's key: its digests are the
        # check's, and the shards unwrap that key to look notes up in it
        digest_key, key_header = seal_digest_key(inp.keys, inp.release_id)
        run = learn_run(setup, inp, digest_key)
        run.learn(heartbeating(open_plain(inp.dataset), "pseudonymize learn: indexing"), fmt)
        state = RunState(format=fmt, index=run.index)
        rows, chunks = self._assign(run, state, fmt, inp)
        return stored_learned(self.ctx, inp, setup, run, state, key_header, rows, chunks)

    def _assign(self, run: Pseudonymizer, state: RunState, fmt: str,
                inp: PseudonymizeLearnInput) -> tuple[int, int]:
        """Second pass: tokens in row order (as the one-activity run mints them), the
        patients and the identifiers for the residual check; returns (rows, chunks)."""
        policy = run.policy
        scrubs = any(r.action is Action.SCRUB for r in policy.fields.values())
        # with free text, ``run.learn`` indexed these columns already; without, they are
        # only digested for the residual check (deferred, as the one-activity run does)
        idcols = [] if scrubs else [(n, r) for n, r in policy.fields.items() if identifying(r)]
        rows = chunks = 0
        batches = dataset_batches(heartbeating(open_plain(inp.dataset),
                                               "pseudonymize learn: tokens"),
                                  fmt, policy, run.source, inp.chunk_rows)
        for batch in batches:
            if chunks == 0:
                check_columns(policy, batch.schema.names, run.source)
            if policy.patient_id and policy.patient_id in batch.schema.names:
                state.patients.update_column(batch.column(policy.patient_id))
            for n, r in idcols:
                if n in batch.schema.names:
                    state.defer_identifiers(pc.unique(batch.column(n)).to_pylist(),
                                            lookup_kind(r))
            parallel.premap(policy, run.tokenizers, batch, run.source)
            rows += batch.num_rows
            chunks += 1
        return rows, chunks

    # -- shard ------------------------------------------------------------------------
    @activity.defn(name=ActivityName.PSEUDONYMIZE_SHARD)
    @translate_errors
    @keeps_alive("pseudonymize: shard")
    def shard(self, inp: PseudonymizeShardInput) -> PseudonymizeShardResult:
        """Pseudonymize chunks ``first_chunk`` .. of the dataset into a sealed shard output."""
        setup = open_run(inp, self.ctx)
        fmt, policy, vault_store = setup.format, setup.policy, setup.vault_store
        vault = FrozenVault(vault_store.load)
        if vault_store.version < inp.vault_version:
            raise IntegrityError(f"the token vault is at version {vault_store.version}, older "
                                 f"than the learn pass's {inp.vault_version}")
        run = Pseudonymizer(policy, vault, setup.hmac_key, source=inp.dataset.name,
                            chunk_rows=inp.chunk_rows)
        label = f"pseudonymize shard {inp.shard} (chunks {inp.first_chunk}+{inp.chunks})"
        key = (f"{fanout_dir(inp.release_id)}/shard-{inp.first_chunk:08d}-"
               f"{inp.chunks:08d}.arrow")
        with _mapped_index(inp) as (index, index_file), self.ctx.cores.take() as cores:
            state = RunState(format=fmt, index=index)
            selected = select_chunks(dataset_batches(
                heartbeating(open_plain(inp.dataset), label), fmt, policy, run.source,
                inp.chunk_rows), inp.first_chunk, inp.chunks)
            out = self._processed(policy, run.tokenizers, state, run.source, selected, cores,
                                  index_file)
            ref = store_sealed(self.ctx.store, key, ipc_bytes(out, run.source),
                               name=f"pseudonymize-shard-{inp.shard}",
                               release_id=inp.release_id, keys=inp.keys)
        return PseudonymizeShardResult(shard=inp.shard, output=ref, counts=shard_counts(state),
                                       ran_on=self.ctx.ran_on(task_queue=task_queue()))

    @staticmethod
    def _processed(policy: Policy, tokenizers: dict[TokenMode, Tokenizer], state: RunState,
                   source: str, selected: Iterator[tuple[int, pa.RecordBatch]],
                   cores: int, index_file: tuple[str, int] | None = None
                   ) -> Iterator[pa.RecordBatch]:
        """The shard's chunks pseudonymized: in a process pool when it has several chunks
        and cores, else here (the same code either way)."""
        head = list(itertools.islice(selected, 2))
        if not head:
            return
        first_row = head[0][0]
        rest = itertools.chain(head, selected)
        if cores > 1 and len(head) > 1:
            yield from parallel.process_batches(
                (b for _, b in rest), policy=policy, tokenizers=tokenizers, state=state,
                source=source, processes=cores, first_row=first_row, index_file=index_file)
            return
        job = TabularJob(policy, tokenizers, state, source)
        for row0, batch in rest:
            yield job.process(batch, row0)
            heartbeat(f"pseudonymize shard: row {row0 + batch.num_rows}")

    # -- merge ------------------------------------------------------------------------
    @activity.defn(name=ActivityName.PSEUDONYMIZE_MERGE)
    @translate_errors
    @keeps_alive("pseudonymize: merge")
    def merge(self, inp: PseudonymizeMergeInput) -> PseudonymizeResult:
        """Concatenate the shards in order into the stage's output, report and result."""
        learned = inp.learned
        order = [s.shard for s in inp.shards]
        if order != list(range(len(order))):
            raise InvalidInput(f"merge needs every shard once, in order (got {order})")
        state = RunState(format=learned.format)
        merge_counts(state, (s.counts for s in inp.shards))
        if state.records != learned.rows:
            raise IntegrityError(f"the shards hold {state.records} rows, the dataset "
                                 f"{learned.rows}")
        suffix = inp.dataset.key.rpartition(".")[2]
        out_key = f"releases/{inp.release_id}/pseudonymized/{inp.dataset.name}.{suffix}"

        def batches() -> Iterator[pa.RecordBatch]:
            for s in inp.shards:
                heartbeat(f"pseudonymize merge: shard {s.shard} of {len(inp.shards)}")
                yield from ipc_batches(open_plain(s.output), s.output.uri)

        dataset = store_sealed(self.ctx.store, out_key,
                               write_tabular(batches(), learned.format, inp.dataset.name),
                               name="dataset", release_id=inp.release_id, keys=inp.keys)
        report = state.report(learned.new_tokens, set(learned.token_modes)).model_copy(
            update={"patients": learned.patients})
        report_json = report.model_dump_json(indent=2).encode()
        report_ref = store_sealed(
            self.ctx.store, f"releases/{inp.release_id}/reports/pseudonymize-"
            f"{hashlib.sha256(report_json).hexdigest()[:12]}.json", [report_json],
            name="pseudonymize-report", release_id=inp.release_id, keys=KeySettings())
        return PseudonymizeResult(dataset=dataset, report=report, report_ref=report_ref,
                                  policy_sha256=learned.policy_sha256,
                                  identifier_digests=learned.identifier_digests,
                                  ran_on=self.ctx.ran_on(task_queue=task_queue()))


__all__ = ["FanoutPseudonymizeActivities", "fanout_dir", "learn_run", "stored_learned",
           "task_queue"]

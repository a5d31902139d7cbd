"""The learn pass of a fanned-out pseudonymize stage, itself fanned out: key, shards, merge.

The one learn activity (``fanout.FanoutPseudonymizeActivities.learn``) ran
alone on one worker's core before any shard could start: at 10M rows the
release's critical path. Here it runs as:

* **learn key** (one worker, a moment): the release's identifier-digest key,
  a data key of the customer's key provider, wrapped and stored sealed, so
  every learn shard digests under the same key (and unwraps it with one
  logged provider call, as a pseudonymize shard does);
* **learn shard** (one per compliant worker, at once): reads the dataset and
  learns every ``shards``-th chunk: its partial index (on the worker's free
  cores, ``learnpool.batch_index``), its patients and its
  chunks' first-seen vault keys (``learnparts``), stored sealed under a name
  fixed by the key and the shard, so a shard run again after a failover
  writes the same object;
* **learn merge** (one worker): merges the parts' sorted digest tables in
  numpy, asks the vault for every part's keys in row order (tokens are minted
  in exactly the order of the one learn activity), commits the vault once,
  stores the index and the residual digests as the one activity does
  (``fanout.stored_learned``) and returns its ``PseudonymizeLearnResult``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.digestkey import open_digest_key, seal_digest_key
from medpipe.activities.progress import heartbeat, heartbeating, keeps_alive
from medpipe.activities.pseudonymize.activity import RunSetup, open_run
from medpipe.activities.pseudonymize.fanout import (
    fanout_dir,
    learn_run,
    stored_learned,
    task_queue,
)
from medpipe.activities.pseudonymize.learnparts import (
    LearnPart,
    learn_part,
    merge_parts,
    part_bytes,
    part_from_bytes,
)
from medpipe.activities.pseudonymize.learnpool import batch_index
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tokens import Vault
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.fanout import (
    PseudonymizeLearnInput,
    PseudonymizeLearnKeyResult,
    PseudonymizeLearnMergeInput,
    PseudonymizeLearnResult,
    PseudonymizeLearnShardInput,
    PseudonymizeLearnShardResult,
)
from medpipe.contracts.names import ActivityName
from medpipe.contracts.pseudonymize import TokenMode


def _tag(digest_key: ArtifactRef) -> str:
    """The random part of the digest key's object name: names the parts learned under it."""
    return digest_key.key.rpartition("/")[2].removeprefix("digestkey-").partition(".")[0]


def _opened(inp: PseudonymizeLearnShardInput | PseudonymizeLearnMergeInput,
            ctx: WorkerContext) -> tuple[RunSetup, bytes, bytes]:
    """The run's setup (``open_run``, as every pseudonymize activity), the digest key and
    its wrapped header as stored (one logged provider call)."""
    setup = open_run(inp, ctx)
    header = b"".join(open_plain(inp.digest_key))
    key, rest = open_digest_key(header, inp.keys.key_uri if inp.keys.enabled else "",
                                inp.release_id)
    return setup, key, header[:len(header) - len(rest)]


class FanoutLearnActivities:
    """Learn key, learn shard and learn merge activities bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.PSEUDONYMIZE_LEARN_KEY)
    @translate_errors
    @keeps_alive("pseudonymize: learn key")
    def learn_key(self, inp: PseudonymizeLearnInput) -> PseudonymizeLearnKeyResult:
        """A fresh digest key for this release's learn pass, wrapped, stored sealed."""
        open_run(inp, self.ctx)  # refuses without a key provider, or a bad policy, now
        _, header = seal_digest_key(inp.keys, inp.release_id)
        ref = store_sealed(self.ctx.store, f"{fanout_dir(inp.release_id)}/digestkey-"
                           f"{secrets.token_hex(6)}.bin", [header],
                           name="identifier-digest-key", release_id=inp.release_id,
                           keys=inp.keys)
        return PseudonymizeLearnKeyResult(key=ref,
                                          ran_on=self.ctx.ran_on(task_queue=task_queue()))

    @activity.defn(name=ActivityName.PSEUDONYMIZE_LEARN_SHARD)
    @translate_errors
    @keeps_alive("pseudonymize: learn shard")
    def learn_shard(self, inp: PseudonymizeLearnShardInput) -> PseudonymizeLearnShardResult:
        """Learn every ``shards``-th chunk of the dataset into a sealed part."""
        setup, key, _ = _opened(inp, self.ctx)
        label = f"pseudonymize learn shard {inp.shard + 1}/{inp.shards}"
        with self.ctx.cores.take() as cores, batch_index(key, cores) as index:
            part = learn_part(heartbeating(open_plain(inp.dataset), label), setup.format,
                              setup.policy, inp.dataset.name, inp.chunk_rows, key,
                              inp.shard, inp.shards, index)
        ref = store_sealed(self.ctx.store, f"{fanout_dir(inp.release_id)}/learn-"
                           f"{_tag(inp.digest_key)}-{inp.shard:04d}-of-{inp.shards:04d}.bin",
                           part_bytes(part), name=f"pseudonymize-learn-part-{inp.shard}",
                           release_id=inp.release_id, keys=inp.keys)
        return PseudonymizeLearnShardResult(shard=inp.shard, part=ref, rows=part.rows,
                                            chunks=part.chunks,
                                            ran_on=self.ctx.ran_on(task_queue=task_queue()))

    @activity.defn(name=ActivityName.PSEUDONYMIZE_LEARN_MERGE)
    @translate_errors
    @keeps_alive("pseudonymize: learn merge")
    def learn_merge(self, inp: PseudonymizeLearnMergeInput) -> PseudonymizeLearnResult:
        """Merge the parts, mint the vault tokens in row order, commit the vault once."""
        setup, key, header = _opened(inp, self.ctx)

        def parts() -> Iterator[LearnPart]:
            for p in inp.parts:
                heartbeat(f"pseudonymize learn merge: part {p.shard + 1} of {len(inp.parts)}")
                yield part_from_bytes(b"".join(open_plain(p.part)))

        merged = merge_parts(key, parts())
        run = learn_run(setup, inp, key)
        run.index = merged.index
        state = RunState(format=setup.format, index=run.index)
        state.patients.add_digests(merged.patients)
        vault = run.tokenizers.get(TokenMode.VAULT)
        if isinstance(vault, Vault):
            for ids in merged.vault_batches():
                vault.tokens(ids)
                heartbeat("pseudonymize learn merge: tokens")
        return stored_learned(self.ctx, inp, setup, run, state, header, merged.rows,
                              merged.chunks)


__all__ = ["FanoutLearnActivities"]

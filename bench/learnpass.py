"""The learn pass of a fanned-out pseudonymize stage: one activity vs learn shards.

Generates a cohort of ``--rows`` rows (``_bigdata``: notes, ``rows / 3`` patients),
ingests it sealed on a local store, and runs, interleaved, ``--trials`` times each:

* **one**: ``FanoutPseudonymizeActivities.learn`` (one process), with its time split
  into indexing (``Pseudonymizer.learn``), token assignment (``_assign``) and the rest
  (vault commit, storing index and digests);
* **sharded**: ``learn_key``, then ``--shards`` ``learn_shard`` activities, each in its
  own process (as on that many workers), at once, then ``learn_merge``.

Each trial starts on an empty vault, runs in a child process with a deadline
(``--trial-seconds``; the child and its children are stopped when it passes), and
prints wall time, CPU seconds (the trial's process and its children) and peak RSS
(the largest process's; sharded, also the largest shard's and the merge's), and the
*critical-path CPU*: the one activity's CPU, or the key's + the slowest shard's + the
merge's (what the wall would be with a free core per shard). The slowest shard's CPU
is split into indexing its learn batches, listing its chunks' patients and vault keys,
storing its part, and the rest: reading, decrypting and parsing the dataset; a shard
that indexes on its cores (``learnpool.PooledBatchIndex``) adds its pool's CPU
(``index pool``; its own ``index`` is then handing the batches over), and its
critical-path share is then more than its wall on idle cores.
The machine is shared: compare best-of-N figures of the same run (``--baseline`` runs
another tree's code in the same trials, interleaved), and read the load printed with
them.

Usage: ``.venv/bin/python bench/learnpass.py [--rows 1000000] [--shards 1,2,4] [--trials 2]
[--baseline DIR]`` (``DIR``: another tree, e.g. ``git archive main``, run interleaved)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

#: The tree whose medpipe a trial runs (this one, or --baseline's), in the environment:
#: the trial's pool processes run it too (a fork server starts from ``sys.path``'s
#: defaults: the working directory, ``PYTHONPATH``, the installed package)
_CODE_ENV = "LEARNPASS_CODE"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, os.environ.get(_CODE_ENV) or str(Path(__file__).resolve().parents[1]))
import _procs  # noqa: E402


def _rig(root: Path) -> dict[str, Any]:
    """Keys, a store and the ingested dataset (written by the parent, read by trials)."""
    return json.loads((root / "rig.json").read_text())


def _context(root: Path) -> Any:
    from medpipe.activities.context import WorkerContext
    from medpipe.contracts.placement import Cloud, WorkerProfile
    return WorkerContext(profile=WorkerProfile(cloud=Cloud.AWS, region="us-east-1",
                                               jurisdiction="US",
                                               store_uri=(root / "bucket").as_uri()))


def _learn_input(root: Path, vault: str) -> Any:
    from medpipe.contracts.fanout import PseudonymizeLearnInput
    rig = _rig(root)
    return PseudonymizeLearnInput.model_validate({**rig, "vault_uri": vault})


def _fresh_vault(root: Path) -> str:
    from medpipe.activities.storage.local import LocalStore
    path = root / f"vault-{uuid.uuid4().hex[:8]}"
    LocalStore(path.as_uri()).ensure_bucket()
    return path.as_uri()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def trial_one(root: Path) -> dict[str, Any]:
    """The one learn activity, its phases timed."""
    from medpipe.activities.pseudonymize import fanout, run
    phases: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[name] = time.perf_counter() - t
        return wrapper

    run.Pseudonymizer.learn = timed("index", run.Pseudonymizer.learn)  # type: ignore[method-assign]
    fanout.FanoutPseudonymizeActivities._assign = timed(  # type: ignore[method-assign]
        "tokens", fanout.FanoutPseudonymizeActivities._assign)
    inp = _learn_input(root, _fresh_vault(root))
    t = time.perf_counter()
    res = fanout.FanoutPseudonymizeActivities(_context(root)).learn(inp)
    wall = time.perf_counter() - t
    phases["store"] = wall - phases["index"] - phases["tokens"]
    cpu = _cpu()
    return {"wall": wall, "cpu": cpu, "critical_cpu": cpu, "peak_mib": _peak_mib(),
            "phases": phases,
            "rows": res.rows, "patients": res.patients, "new_tokens": res.new_tokens}


def _timed_cpu(owner: Any, name: str, spent: dict[str, float]) -> None:
    """Replace method ``name`` of ``owner`` by one adding its CPU seconds to ``spent``."""
    fn = getattr(owner, name)

    def wrapper(*a: Any, **k: Any) -> Any:
        c = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - c
    setattr(owner, name, wrapper)


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far, from ``/proc``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _counted_pool_cpu(spent: dict[str, float]) -> None:
    """Add the CPU of a learn shard's index pool (``learnpool.PooledBatchIndex``) to
    ``spent["pool"]``: its processes are the fork server's children, not the shard's,
    so ``process_time`` and ``RUSAGE_CHILDREN`` miss them; read before the pool stops.
    A tree without that pool (``--baseline``) is left as it is."""
    from medpipe.activities.pseudonymize import learnpool
    cls = getattr(learnpool, "PooledBatchIndex", None)
    if cls is None:
        return
    close = cls.close

    def wrapper(self: Any) -> None:
        if self.pool is not None:
            spent["pool"] = spent.get("pool", 0.0) + sum(
                _proc_cpu(pid) for pid in list(self.pool._processes))
        close(self)
    cls.close = wrapper


def _one_shard(root: str, inp_json: str) -> tuple[float, float, float, str, dict[str, float]]:
    """A learn shard in a pool process (a worker of its own): (wall, cpu, peak MiB, its
    result as JSON, CPU seconds of its phases: indexing its learn batches, listing its
    chunks' patients and vault keys, storing the part; the rest is reading, decrypting
    and parsing the dataset)."""
    from medpipe.activities.pseudonymize import learnfanout, learnparts
    from medpipe.contracts.fanout import PseudonymizeLearnShardInput
    spent: dict[str, float] = {}
    _timed_cpu(learnparts._Builder, "learn_batch", spent)
    _timed_cpu(learnparts._Builder, "chunk", spent)
    _timed_cpu(learnfanout, "store_sealed", spent)
    _counted_pool_cpu(spent)
    inp = PseudonymizeLearnShardInput.model_validate_json(inp_json)
    t, c = time.perf_counter(), time.process_time()
    res = learnfanout.FanoutLearnActivities(_context(Path(root))).learn_shard(inp)
    own = time.process_time() - c
    phases = {"index": spent.get("learn_batch", 0.0), "chunks": spent.get("chunk", 0.0),
              "store": spent.get("store_sealed", 0.0)}
    phases["read+parse"] = own - sum(phases.values())
    phases["index pool"] = spent.get("pool", 0.0)
    cpu = own + phases["index pool"]
    import medpipe  # which tree this pool process ran (--baseline)
    phases["code:" + str(Path(medpipe.__file__).resolve().parents[1])] = 0.0
    return time.perf_counter() - t, cpu, _peak_mib(), res.model_dump_json(), phases


def trial_sharded(root: Path, shards: int) -> dict[str, Any]:
    """Learn key, ``shards`` learn shards at once (one process each), learn merge."""
    from medpipe.activities.procpool import pool_context
    from medpipe.activities.pseudonymize.learnfanout import FanoutLearnActivities
    from medpipe.contracts.fanout import (
        PseudonymizeLearnMergeInput,
        PseudonymizeLearnShardInput,
        PseudonymizeLearnShardResult,
    )
    inp = _learn_input(root, _fresh_vault(root))
    acts = FanoutLearnActivities(_context(root))
    t0, c0 = time.perf_counter(), time.process_time()
    key = acts.learn_key(inp).key
    t1, c1 = time.perf_counter(), time.process_time()
    inputs = [PseudonymizeLearnShardInput(**inp.model_dump(), digest_key=key, shard=i,
                                          shards=shards).model_dump_json()
              for i in range(shards)]
    with ProcessPoolExecutor(shards, mp_context=pool_context()) as pool:
        done = list(pool.map(_one_shard, [str(root)] * shards, inputs))
    t2, c2 = time.perf_counter(), time.process_time()
    parts = tuple(PseudonymizeLearnShardResult.model_validate_json(d[3]) for d in done)
    res = acts.learn_merge(PseudonymizeLearnMergeInput(**inp.model_dump(), digest_key=key,
                                                       parts=parts))
    t3, c3 = time.perf_counter(), time.process_time()
    peak = max([_peak_mib(), *(d[2] for d in done)])
    # the pool's processes are the fork server's children: their CPU comes from them
    shard_cpu = [d[1] for d in done]
    slowest = done[shard_cpu.index(max(shard_cpu))][4]
    shard_code = {k for d in done for k in d[4] if k.startswith("code:")}
    slowest = {k: v for k, v in slowest.items() if not k.startswith("code:")}
    return {"wall": t3 - t0, "cpu": time.process_time() + sum(shard_cpu), "peak_mib": peak,
            "critical_cpu": (c1 - c0) + max(shard_cpu) + (c3 - c2),
            "phases": {"key": t1 - t0, "shards": t2 - t1, "merge": t3 - t2,
                       "merge cpu": c3 - c2, "slowest shard cpu": max(shard_cpu),
                       **{f"  its {k}": v for k, v in slowest.items()}},
            # this process ran the key and the merge only (the shards ran in the pool)
            "merge_peak_mib": _peak_mib(), "shard_peak_mib": max(d[2] for d in done),
            "shard_code": sorted(c.removeprefix("code:") for c in shard_code),
            "rows": res.rows, "patients": res.patients, "new_tokens": res.new_tokens}


def _child(args: argparse.Namespace) -> None:
    root = Path(args.dir)
    out = trial_one(root) if args.trial == "one" else trial_sharded(root, args.shards)
    import medpipe
    out["code"] = str(Path(medpipe.__file__).resolve().parents[1])
    print(json.dumps(out), flush=True)


def _prepare(root: Path, rows: int) -> None:
    from _bigdata import write_big_sample

    from medpipe.activities.ingest import IngestActivities
    from medpipe.activities.storage.local import LocalStore
    from medpipe.contracts.ingest import IngestInput, SourceSpec
    from medpipe.workers.keysetup import ensure_keys, local_keys
    paths = write_big_sample(root / "data", rows, processes=2)
    keys = local_keys(root / "keys")
    ensure_keys(keys, codec_kek_id=None)
    LocalStore((root / "bucket").as_uri()).ensure_bucket()
    dataset = IngestActivities(_context(root)).ingest(IngestInput(
        release_id="r-learnpass", keys=keys,
        sources=(SourceSpec(name="dataset", uri=paths["dataset"].as_uri()),))).artifact("dataset")
    shutil.rmtree(root / "data")  # the sealed copy in the bucket is what trials read
    (root / "rig.json").write_text(json.dumps({
        "release_id": "r-learnpass", "dataset": dataset.model_dump(mode="json"),
        "keys": keys.model_dump(mode="json")}))
    print(f"{rows:,} rows, {dataset.size / 2**20:,.0f} MiB sealed", flush=True)


def _line(name: str, r: dict[str, Any]) -> str:
    phases = "  ".join(f"{k} {v:5.1f} s" for k, v in r["phases"].items())
    peaks = f" (shard {r['shard_peak_mib']:.0f}, merge {r['merge_peak_mib']:.0f})" \
        if "merge_peak_mib" in r else ""
    return (f"{name:14s} wall {r['wall']:6.1f} s  cpu {r['cpu']:6.1f} s  critical-path cpu "
            f"{r['critical_cpu']:6.1f} s  peak RSS "
            f"{r['peak_mib']:6.0f} MiB{peaks}  [{phases}]  patients {r['patients']:,} "
            f"new tokens {r['new_tokens']:,}")


def _run_trial(root: Path, kind: str, shards: int, code: str, seconds: float,
               label: str) -> dict[str, Any] | None:
    """One trial in a child process with a deadline; its figures, or None."""
    cmd = [sys.executable, __file__, "--trial", kind, "--dir", str(root),
           "--shards", str(shards)]
    tree = str(Path(code or Path(__file__).parents[1]).resolve())
    proc = _procs.spawn(cmd, stdout=subprocess.PIPE, text=True, cwd=root,
                        env={**os.environ, _CODE_ENV: tree, "PYTHONPATH": tree})
    ended = _procs.finish(proc, seconds)
    if ended is None:
        print(f"{label}: timed out after {seconds:.0f} s")
        return None
    out = ended[0]
    if proc.returncode:
        print(f"{label}: failed (rc {proc.returncode})")
        return None
    r: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    for ran in [r["code"], *r.get("shard_code", [])]:
        if ran != tree:
            raise SystemExit(f"{label} ran the code of {ran}, not of {tree}")
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--shards", default="2", help="learn shard counts, e.g. 1,2,4")
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--trial-seconds", type=float, default=900)
    ap.add_argument("--no-one", action="store_true", help="skip the one learn activity")
    ap.add_argument("--baseline", default="", help="another tree's root (e.g. a `git "
                    "archive` of main): its medpipe runs the same trials, interleaved")
    ap.add_argument("--trial", choices=["one", "sharded"], help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.trial:
        args.shards = int(args.shards)
        _child(args)
        return
    _procs.install()
    counts = [int(n) for n in args.shards.split(",")]
    kinds = ([] if args.no_one else [("one", 1)]) + [("sharded", n) for n in counts]
    codes = [("", "")] + ([("before ", args.baseline)] if args.baseline else [])
    root = Path(tempfile.mkdtemp(prefix="medpipe-bench-learnpass-"))
    try:
        _prepare(root, args.rows)
        best: dict[str, dict[str, Any]] = {}
        for i in range(args.trials):
            for kind, n in kinds:
                for tag, code in codes:
                    name = tag + (kind if kind == "one" else f"{n} shards")
                    r = _run_trial(root, kind, n, code, args.trial_seconds,
                                   f"{name}: trial {i + 1}")
                    if r is None:
                        continue
                    print(f"trial {i + 1}: {_line(name, r)}  (load "
                          f"{os.getloadavg()[0]:.1f})", flush=True)
                    if name not in best or r["wall"] < best[name]["wall"]:
                        best[name] = r
        for name, r in best.items():
            print(f"best of {args.trials}: {_line(name, r)}")
        for tag, _ in codes:
            one = best.get(f"{tag}one")
            for n in counts:
                sharded = best.get(f"{tag}{n} shards")
                if one and sharded:
                    print(f"{tag}best of {args.trials}: learn wall {one['wall']:.1f} s -> "
                          f"{sharded['wall']:.1f} s (x{one['wall'] / sharded['wall']:.2f}) "
                          f"in {n} shards; cpu {one['cpu']:.1f} -> {sharded['cpu']:.1f} s; "
                          f"critical-path cpu {one['critical_cpu']:.1f} -> "
                          f"{sharded['critical_cpu']:.1f} s (the wall on {n} idle cores); "
                          f"peak RSS {one['peak_mib']:.0f} -> {sharded['peak_mib']:.0f} MiB")
    finally:
        _procs.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Evaluate throughput and memory: a 1M-row Parquet dataset scored on one core.

Writes a Parquet table of four lab features and a 0/1 label, seals it the way
a release stores it (envelope-encrypted, local keys), and scores it through the
evaluate stage's own path (decrypt → sealed spool → Parquet row groups →
onnxruntime → metrics) with:

* a LightGBM binary classifier (onnxmltools, 100 trees, probability tensor);
* a StandardScaler + LogisticRegression pipeline via ``skl2onnx.to_onnx`` with its
  defaults (ZipMap output) and with ZipMap off.

Each trial runs in its own process pinned to one core, with a deadline; it
prints rows/s and peak RSS at 100k and 1M rows (flat: the data is streamed).

Usage: ``.venv/bin/python bench/evaluate.py [--rows N] [--deadline S]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _procs  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

LABS = ["radius", "texture", "smoothness", "concavity"]


def generate(path: Path, rows: int, seed: int = 5) -> None:
    """Write ``rows`` rows in 64k-row groups."""
    rng = np.random.default_rng(seed)
    with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in LABS]
                                          + [("label", pa.int64())])) as w:
        done = 0
        while done < rows:
            n = min(65_536, rows - done)
            x = rng.normal(0, 1, (n, len(LABS)))
            z = 1.5 * x[:, 0] + x[:, 1] - 0.8 * x[:, 2] + rng.normal(0, 0.7, n)
            cols = {c: x[:, i].round(4) for i, c in enumerate(LABS)}
            cols["label"] = (z > 0).astype(np.int64)
            w.write_table(pa.table(cols))
            done += n


def models(root: Path) -> dict[str, Path]:
    """Train and export the benchmark's models on 20k generated rows."""
    import lightgbm as lgb
    import onnx
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    src = root / "train.parquet"
    generate(src, 20_000, seed=9)
    t = pq.read_table(src)
    x = np.column_stack([t.column(c).to_numpy() for c in LABS]).astype(np.float32)
    y = t.column("label").to_numpy()
    out = {}
    gbm = lgb.LGBMClassifier(n_estimators=100, num_leaves=31, verbose=-1).fit(x, y)
    out["lightgbm"] = root / "lightgbm.onnx"
    onnx.save(convert_lightgbm(gbm, initial_types=[("input", FloatTensorType([None, 4]))],
                               target_opset=15, zipmap=False), out["lightgbm"])
    clf = LogisticRegression(max_iter=500)
    pipe = make_pipeline(StandardScaler(), clf).fit(x, y)
    out["logreg-zipmap"] = root / "logreg.onnx"
    onnx.save(to_onnx(pipe, x[:1], target_opset=17), out["logreg-zipmap"])
    out["logreg"] = root / "logreg-nozipmap.onnx"
    onnx.save(to_onnx(pipe, x[:1], target_opset=17, options={id(clf): {"zipmap": False}}),
              out["logreg"])
    return out


def child(model: str, data: str, root: str) -> None:
    """One trial: seal the dataset, then score it through the evaluate stage's path."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    from medpipe.activities.evaluate import CPU, load_model, score_dataset
    from medpipe.activities.sealed import open_plain, store_sealed
    from medpipe.activities.storage.local import LocalStore
    from medpipe.contracts.evaluate import EvaluationSpec
    from medpipe.workers.keysetup import ensure_keys, local_keys

    keys = local_keys(Path(root) / "keys")
    ensure_keys(keys, codec_kek_id=None)
    store = LocalStore((Path(root) / "bucket").as_uri())
    store.ensure_bucket()
    with open(data, "rb") as f:
        ref = store_sealed(store, f"bench/{time.time_ns()}/{Path(data).name}",
                           iter(lambda: f.read(1 << 20), b""), name="dataset",
                           release_id="bench", keys=keys)
    spec = EvaluationSpec(features=tuple(LABS))
    loaded = load_model(Path(model).read_bytes(), [CPU], "model", spec, threads=1)
    before = _rss("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak: measure scoring only
    t0 = time.perf_counter()
    [run] = score_dataset([loaded], open_plain(ref), "parquet", "label", spec)
    seconds = time.perf_counter() - t0
    m = run.metrics()
    print(json.dumps({"rows": m.rows, "seconds": seconds, "auroc": m.auroc,
                      "output": loaded.output.kind.value,
                      "rss_before_mb": before, "peak_mb": _rss("VmHWM")}))


def _rss(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trial(model: Path, data: Path, root: Path, deadline: float) -> dict[str, float] | None:
    """Run one trial in a child process; None when it missed its deadline or failed."""
    return _procs.json_trial([sys.executable, __file__, "--child", str(model), str(data),
                              str(root)], deadline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds per trial")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    _procs.install()  # every trial's process is stopped on SIGTERM/SIGINT and at exit
    with tempfile.TemporaryDirectory(prefix="medpipe-bench-eval-") as tmp:
        root = Path(tmp)
        paths = models(root)
        sizes = {args.small: root / "small.parquet", args.rows: root / "big.parquet"}
        for n, p in sizes.items():
            generate(p, n)
        print(f"evaluate on one core, Parquet sealed at rest ({args.rows:,} rows = "
              f"{sizes[args.rows].stat().st_size / 1e6:.1f} MB Parquet)")
        for name, model in paths.items():
            for n, p in sizes.items():
                r = trial(model, p, root, args.deadline)
                if r is None:
                    continue
                print(f"  {name:14s} {n:>9,} rows: {r['rows'] / r['seconds']:>10,.0f} rows/s "
                      f"({r['seconds']:.2f} s, output {r['output']}, AUROC {r['auroc']:.4f}), "
                      f"RSS {r['rss_before_mb']:.0f} MB before, peak {r['peak_mb']:.0f} MB "
                      "while scoring", flush=True)


if __name__ == "__main__":
    main()

"""Signing benchmark: sign and verify a 1 GiB model vs ``sha256sum``; ledger appends/s.

Run: ``.venv/bin/python bench/signing.py [--size-mib 1024] [--writers 8] [--appends 40]``.
Prints each time and the ratio to ``sha256sum`` of the same file in the same
run (the goal is <= 1.2), then ledger appends/s with N concurrent writer
processes on a local (``file://``) store. Everything lives in a temp dir.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._files import write_model  # noqa: E402
from medpipe.activities.keys import open_provider  # noqa: E402
from medpipe.activities.signing.ledger import Ledger  # noqa: E402
from medpipe.activities.signing.oms import sign_model, verify_model  # noqa: E402
from medpipe.activities.storage.base import open_store  # noqa: E402


def timed(fn: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - start


def sha256sum(path: Path) -> float:
    if shutil.which("sha256sum") is None:
        raise SystemExit("sha256sum not found")
    return timed(subprocess.run, ["sha256sum", str(path)], check=True, capture_output=True)


def openssl_dgst(path: Path) -> float | None:
    if shutil.which("openssl") is None:
        return None
    return timed(subprocess.run, ["openssl", "dgst", "-sha256", str(path)], check=True,
                 capture_output=True)


def _writer(store_uri: str, key_uri: str, key_id: str, w: int, n: int,
            start: object) -> None:
    ledger = Ledger(open_store(store_uri), open_provider(key_uri), key_id)
    start.wait()  # type: ignore[attr-defined]
    for i in range(n):
        ledger.append("stage-completed", f"bench-{w}", {"i": i, "sha256": "ab" * 32},
                      f"bench-{w}/{i}")


def ledger_rate(root: Path, key_uri: str, key_id: str, writers: int, appends: int) -> float:
    bucket = root / "ledger-bucket"
    bucket.mkdir()
    store_uri = f"file://{bucket}"
    ctx = mp.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(store_uri, key_uri, key_id, w, appends, start))
             for w in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    start.set()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"ledger writer exited with {p.exitcode}")
    elapsed = time.perf_counter() - t0
    ledger = Ledger(open_store(store_uri))
    report = ledger.verify([open_provider(key_uri).public_key_pem(key_id)])
    assert report.entries == writers * appends, report
    return writers * appends / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--appends", type=int, default=40, help="appends per writer")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="medpipe-bench-signing-") as tmp:
        root = Path(tmp)
        key_uri = f"local://{root}/keyring.json"
        provider = open_provider(key_uri)
        key_id = provider.create_signing_key("bench")
        pub = provider.public_key_pem(key_id)
        model = root / "model.bin"
        write_model(model, args.size_mib * 1024 * 1024)
        sha256sum(model)  # warm the page cache: every measurement reads from memory
        base = sha256sum(model)
        t_sign = timed(sign_model, model, root / "model.sig", provider, key_id)
        t_verify = timed(verify_model, model, root / "model.sig", [pub])
        base2 = sha256sum(model)
        ref = min(base, base2)
        print(f"model: {args.size_mib} MiB, page cache warm")
        print(f"sha256sum         {ref:7.3f} s")
        ossl = openssl_dgst(model)
        if ossl is not None:
            print(f"openssl dgst      {ossl:7.3f} s   (SHA-256 with CPU extensions, for reference:"
                  f" sign/verify are {t_sign / ossl:4.2f}x / {t_verify / ossl:4.2f}x of it)")
        print(f"sign  (OMS)       {t_sign:7.3f} s   ratio to sha256sum {t_sign / ref:5.2f}")
        print(f"verify (OMS)      {t_verify:7.3f} s   ratio to sha256sum {t_verify / ref:5.2f}")
        model.unlink()
        rate = ledger_rate(root, key_uri, key_id, args.writers, args.appends)
        print(f"ledger: {args.writers} writer processes x {args.appends} appends, local store: "
              f"{rate:7.1f} appends/s (chain verified, no fork, no loss)")


if __name__ == "__main__":
    main()

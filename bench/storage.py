"""Storage adapters vs their raw SDKs, against the real emulators.

    .venv/bin/python bench/storage.py [--mib 256] [--small-mib 32]

For each adapter (file, s3/moto, gs/gcp-storage-emulator, azblob/Azurite):
a put and a get of one object streamed from/to a generator through the
adapter, then the same bytes through the raw SDK calls an adapter would use
(same part size, no digest, no write-once checks), in the same run; MB/s and
the ratio adapter/raw of the elapsed times (goal <= 1.10). Then the peak RSS of
a fresh subprocess putting and getting a small and a large object through
each adapter (goal: flat, i.e. independent of the object size).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import _procs  # noqa: E402

from medpipe.activities.storage.base import open_store  # noqa: E402
from medpipe.activities.storage.cloud import PART_SIZE, parts_of  # noqa: E402
from tests.emulators import Azurite, GcsEmulator, MotoS3  # noqa: E402

MiB = 1024 * 1024
BUCKET = "medpipe-bench"
BLOCK = os.urandom(MiB)


def source(size: int) -> Iterator[bytes]:
    """``size`` bytes in 1 MiB chunks, generated (never held whole)."""
    sent = 0
    while sent < size:
        n = min(MiB, size - sent)
        yield BLOCK[:n]
        sent += n


def hash_all(chunks: Any) -> str:
    digest = hashlib.sha256()
    for c in chunks:
        digest.update(c)
    return digest.hexdigest()


def drain(chunks: Any) -> int:
    n = 0
    for c in chunks:
        n += len(c)
    return n


class _Reader(io.RawIOBase):
    """File over a generator, for SDK calls that want a stream (raw GCS upload)."""

    def __init__(self, it: Iterator[bytes]) -> None:
        self._it, self._buf, self._pos = it, bytearray(), 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        want = size if size is not None and size >= 0 else 1 << 62
        while len(self._buf) < want:
            nxt = next(self._it, None)
            if nxt is None:
                break
            self._buf += nxt
        out = bytes(self._buf[:want])
        del self._buf[:want]
        self._pos += len(out)
        return out


class _Sink:
    def __init__(self) -> None:
        self.n = 0

    def write(self, b: bytes) -> int:
        self.n += len(b)
        return len(b)


# -- raw SDK equivalents ---------------------------------------------------------------
def raw_file(root: Path) -> tuple[Callable[[str, int], None], Callable[[str], int]]:
    def put(name: str, size: int) -> None:
        with open(root / name, "wb") as fh:
            for c in source(size):
                fh.write(c)
            fh.flush()
            os.fsync(fh.fileno())

    def get(name: str) -> int:
        with open(root / name, "rb") as fh:
            return drain(iter(lambda: fh.read(8 * MiB), b""))

    return put, get


def raw_s3(emu: MotoS3) -> tuple[Callable[[str, int], None], Callable[[str], int]]:
    from medpipe.activities.storage.s3 import make_client

    s3 = make_client(emu.endpoint)

    def put(name: str, size: int) -> None:
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=name)["UploadId"]
        parts = []
        for i, part in enumerate(parts_of(source(size)), 1):
            etag = s3.upload_part(Bucket=BUCKET, Key=name, UploadId=uid, PartNumber=i,
                                  Body=part)["ETag"]
            parts.append({"PartNumber": i, "ETag": etag})
        s3.complete_multipart_upload(Bucket=BUCKET, Key=name, UploadId=uid,
                                     MultipartUpload={"Parts": parts})

    def get(name: str) -> int:
        return drain(s3.get_object(Bucket=BUCKET, Key=name)["Body"].iter_chunks(8 * MiB))

    return put, get


def raw_gcs(emu: GcsEmulator) -> tuple[Callable[[str, int], None], Callable[[str], int]]:
    bucket = emu.client().bucket(BUCKET)

    def put(name: str, size: int) -> None:
        blob = bucket.blob(name, chunk_size=PART_SIZE)
        blob.upload_from_file(_Reader(source(size)), size=None, retry=None, checksum=None)

    def get(name: str) -> int:
        sink = _Sink()
        bucket.blob(name).download_to_file(sink, retry=None, checksum=None)
        return sink.n

    return put, get


def raw_azure(emu: Azurite) -> tuple[Callable[[str, int], None], Callable[[str], int]]:
    import base64

    from azure.storage.blob import BlobBlock

    container = emu.client().get_container_client(BUCKET)

    def put(name: str, size: int) -> None:
        blob = container.get_blob_client(name)
        ids = []
        for i, part in enumerate(parts_of(source(size))):
            bid = base64.b64encode(f"{i:08d}".encode()).decode()
            blob.stage_block(bid, part, length=len(part))
            ids.append(BlobBlock(block_id=bid))
        blob.commit_block_list(ids)

    def get(name: str) -> int:
        return drain(container.get_blob_client(name).download_blob(max_concurrency=1).chunks())

    return put, get


# -- measurement ----------------------------------------------------------------------
def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def compare(bucket_uri: str, raw: tuple[Callable[[str, int], None], Callable[[str], int]],
            size: int, rounds: int) -> dict[str, float]:
    """Best of ``rounds`` for each of the four operations, alternating which goes first.

    The machine is shared and the emulators have warm-up effects: the minimum
    is the figure least disturbed by others.
    """
    store = open_store(bucket_uri)
    best: dict[str, float] = {}

    def note(name: str, seconds: float) -> None:
        best[name] = min(seconds, best.get(name, seconds))

    for r in range(rounds):
        key, raw_name = f"adapter-{uuid.uuid4().hex}", f"raw-{uuid.uuid4().hex}"
        steps = [("raw", raw_name), ("adapter", key)]
        for who, name in steps if r % 2 == 0 else steps[::-1]:
            if who == "raw":
                note("raw_put", timed(lambda n=name: raw[0](n, size)))
                note("raw_get", timed(lambda n=name: raw[1](n)))
            else:
                note("put", timed(lambda n=name: store.put(n, source(size))))
                note("get", timed(lambda n=name: drain(store.get(n))))
        store.delete(key)
    return best


def rss_child(bucket_uri: str, size: int) -> None:
    """Subprocess body: put + get ``size`` bytes, print peak RSS (MiB)."""
    store = open_store(bucket_uri)
    key = f"rss-{uuid.uuid4().hex}"
    info = store.put(key, source(size))
    h = hashlib.sha256()
    for c in store.get(key):
        h.update(c)
    assert h.hexdigest() == info.sha256
    store.delete(key)
    # VmHWM, not ru_maxrss: the latter carries the parent's peak across fork+exec.
    with open("/proc/self/status") as fh:
        hwm = next(line for line in fh if line.startswith("VmHWM:"))
    print(int(hwm.split()[1]) / 1024)


def peak_rss(bucket_uri: str, size: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--rss-child", bucket_uri, str(size)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--small-mib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rss-child", nargs=2, metavar=("BUCKET_URI", "BYTES"))
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]))
        return
    size = args.mib * MiB
    with tempfile.TemporaryDirectory(prefix="medpipe-bench-storage-") as tmp:
        work = Path(tmp)
        moto, gcs, azurite = MotoS3(work / "moto"), GcsEmulator(work / "gcs"), Azurite(work / "az")
        emulators = [moto, gcs, azurite]
        for emu in emulators:
            _procs.at_stop(emu.stop)  # stopped on SIGTERM/SIGINT too
        try:
            for emu in emulators:
                emu.start()
                emu.create_bucket(BUCKET)  # type: ignore[attr-defined]
            file_root = work / "file-bucket"
            file_root.mkdir()
            (file_root / "rawdir").mkdir()
            cases: list[tuple[str, str, Any, str]] = [
                ("file", file_root.as_uri(), raw_file(file_root / "rawdir"), ""),
                ("s3", moto.bucket_uri(BUCKET), raw_s3(moto), ""),
                ("gs", gcs.bucket_uri(BUCKET), raw_gcs(gcs), ""),
                ("azblob", azurite.bucket_uri(BUCKET), raw_azure(azurite), ""),
            ]
            sha = min(timed(lambda: hash_all(source(size))) for _ in range(3))
            print(f"== throughput, {args.mib} MiB object, MB/s (ratio = adapter time / raw time;"
                  " goal <= 1.10)")
            print(f"   the adapter also digests every byte (SHA-256 on put, verified on get); "
                  f"SHA-256 of {args.mib} MiB alone: {sha:.3f} s — '+sha' ratios compare with "
                  "the raw call plus that digest, i.e. the same work")
            print(f"{'adapter':8} {'put':>8} {'raw put':>8} {'ratio':>6} {'+sha':>6}   "
                  f"{'get':>8} {'raw get':>8} {'ratio':>6} {'+sha':>6}")
            mb = size / 1e6
            for scheme, uri, raw, _ in cases:
                r = compare(uri, raw, size, args.rounds)
                print(f"{scheme:8} {mb / r['put']:8.0f} {mb / r['raw_put']:8.0f} "
                      f"{r['put'] / r['raw_put']:6.2f} {r['put'] / (r['raw_put'] + sha):6.2f}   "
                      f"{mb / r['get']:8.0f} {mb / r['raw_get']:8.0f} "
                      f"{r['get'] / r['raw_get']:6.2f} {r['get'] / (r['raw_get'] + sha):6.2f}",
                      flush=True)
            print("== peak RSS of a subprocess putting+getting one object (MiB; goal flat)")
            print(f"{'adapter':8} {args.small_mib:>5} MiB {args.mib:>5} MiB")
            for scheme, uri, _, _ in cases:
                small = peak_rss(uri, args.small_mib * MiB)
                large = peak_rss(uri, size)
                print(f"{scheme:8} {small:9.0f} {large:9.0f}", flush=True)
        finally:
            for emu in emulators:
                emu.stop()


if __name__ == "__main__":
    main()

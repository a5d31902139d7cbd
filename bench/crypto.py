"""Envelope encryption speed and memory, and data-key wraps per second per key provider.

Prints:

- encrypt and decrypt MB/s (10^6 bytes/s) of a 1 GiB stream, generated on
  the fly (never stored), local key provider, 1 MiB segments; and the ratio
  to ``openssl speed -evp aes-256-gcm`` at 16 KiB blocks measured in the same
  run (goal: ratio >= 0.8). Decryption is fed straight from encryption; its
  time is the pipeline's time minus the time spent inside the encryptor;
- peak RSS of encrypt -> decrypt for a 64 MiB and a 1 GiB object, each in a
  fresh subprocess (goal: flat, < 100 MiB);
- data-key wraps/s (``new_data_key``) and unwraps/s for each importable
  provider: ``local``, ``aws-kms`` against moto's ThreadedMotoServer,
  ``pkcs11`` against SoftHSM2 (skipped with a note if a piece is missing).

Run: ``.venv/bin/python bench/crypto.py`` (``--size-mib`` to change 1024).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from medpipe.activities.envelope import decrypt_stream, encrypt_stream  # noqa: E402
from medpipe.activities.keys.base import KeyProvider, open_provider  # noqa: E402

MIB = 1 << 20
CTX = {"release": "bench"}


def source(total: int, block: bytes) -> Iterator[bytes]:
    """``total`` bytes as 1 MiB chunks of one random block (generation costs nothing)."""
    left = total
    while left > 0:
        yield block if left >= len(block) else block[:left]
        left -= len(block)


class Timed:
    """Wraps an iterator and adds up the time spent producing its items."""

    def __init__(self, it: Iterator[bytes]) -> None:
        self.it = it
        self.seconds = 0.0
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            t0 = time.perf_counter()
            try:
                item = next(self.it)
            except StopIteration:
                self.seconds += time.perf_counter() - t0
                return
            self.seconds += time.perf_counter() - t0
            self.bytes += len(item)
            yield item


def local_provider(tmp: Path) -> tuple[KeyProvider, str]:
    provider = open_provider(f"local://{tmp}/keyring.json")
    return provider, provider.create_key("bench")


def openssl_mbps() -> float | None:
    """``openssl speed`` AES-256-GCM at 16 KiB blocks, MB/s (openssl's 'k' is 1000 bytes)."""
    try:
        out = subprocess.run(["openssl", "speed", "-elapsed", "-seconds", "3", "-bytes", "16384",
                              "-evp", "aes-256-gcm"], capture_output=True, text=True,
                             timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        m = re.match(r"\s*(aes-256-gcm|AES-256-GCM)\s+([\d.]+)k\s*$", line)
        if m:
            return float(m.group(2)) * 1000 / 1e6
    return None


def throughput(size: int) -> tuple[float, float]:
    """(encrypt MB/s, decrypt MB/s) for a ``size``-byte stream."""
    block = os.urandom(MIB)
    with tempfile.TemporaryDirectory() as tmp:
        provider, key_id = local_provider(Path(tmp))
        t0 = time.perf_counter()
        for _ in encrypt_stream(source(size, block), object_id="bench/enc", provider=provider,
                                key_id=key_id, context=CTX):
            pass
        enc_s = time.perf_counter() - t0
        sealed = Timed(encrypt_stream(source(size, block), object_id="bench/dec",
                                      provider=provider, key_id=key_id, context=CTX))
        t0 = time.perf_counter()
        out = 0
        for plain in decrypt_stream(sealed, object_id="bench/dec", provider=provider,
                                    context=CTX):
            out += len(plain)
        dec_s = time.perf_counter() - t0 - sealed.seconds
        assert out == size, "decrypted size differs"
    return size / enc_s / 1e6, size / dec_s / 1e6


def rss_child(size: int) -> None:
    """(Subprocess) encrypt -> decrypt ``size`` bytes, print peak RSS in KiB."""
    block = os.urandom(MIB)
    with tempfile.TemporaryDirectory() as tmp:
        provider, key_id = local_provider(Path(tmp))
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sealed = encrypt_stream(source(size, block), object_id="bench/rss", provider=provider,
                                key_id=key_id, context=CTX)
        total = sum(len(p) for p in decrypt_stream(sealed, object_id="bench/rss",
                                                   provider=provider, context=CTX))
        assert total == size
    print(baseline, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss(size_mib: int) -> tuple[float, float]:
    """(baseline MiB, peak MiB) of a fresh subprocess streaming ``size_mib`` MiB."""
    out = subprocess.run([sys.executable, __file__, "--rss-child", str(size_mib)],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1024, int(out[1]) / 1024


def wraps_per_second(provider: KeyProvider, key_id: str, seconds: float = 2.0
                     ) -> tuple[float, float]:
    """(new_data_key/s, unwrap/s) for ``seconds`` each."""
    n, wrapped = 0, []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        wrapped.append(provider.new_data_key(key_id, {"object_id": f"o{n}"})[1])
        n += 1
    wrap_rate = n / (time.perf_counter() - t0)
    m = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        provider.unwrap(wrapped[m % n], {"object_id": f"o{m % n}"})
        m += 1
    return wrap_rate, m / (time.perf_counter() - t0)


def bench_providers() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        provider, key_id = local_provider(Path(tmp))
        w, u = wraps_per_second(provider, key_id)
        print(f"  local     wrap {w:10.0f}/s  unwrap {u:10.0f}/s")
    try:
        from tests.keyfixtures import kms_key_uri, moto_kms

        with moto_kms() as endpoint:
            kms = open_provider(kms_key_uri(endpoint))
            w, u = wraps_per_second(kms, kms.create_key("bench"))
            print(f"  aws-kms   wrap {w:10.0f}/s  unwrap {u:10.0f}/s  (moto on loopback)")
    except Exception as e:  # a missing SDK, moto or fixture: report and go on
        print(f"  aws-kms   skipped: {type(e).__name__}: {str(e)[:120]}")
    try:
        from tests.keyfixtures import softhsm_token

        with tempfile.TemporaryDirectory() as tmp:
            uri, _ = softhsm_token(Path(tmp))
            hsm = open_provider(uri)
            w, u = wraps_per_second(hsm, hsm.create_key("bench"))
            print(f"  pkcs11    wrap {w:10.0f}/s  unwrap {u:10.0f}/s  (SoftHSM2)")
    except Exception as e:
        print(f"  pkcs11    skipped: {type(e).__name__}: {str(e)[:120]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child is not None:
        rss_child(args.rss_child * MIB)
        return
    print(f"envelope: AES-256-GCM, 1 MiB segments, {args.size_mib} MiB stream, local provider")
    ref = openssl_mbps()
    throughput(64 * MIB)  # warm-up: allocator and CPU frequency settle
    enc, dec = throughput(args.size_mib * MIB)
    print(f"  openssl speed aes-256-gcm 16 KiB: "
          f"{'unavailable' if ref is None else f'{ref:8.0f} MB/s'}")
    for name, rate in (("encrypt", enc), ("decrypt", dec)):
        ratio = f"ratio {rate / ref:.2f} (goal >= 0.8)" if ref else ""
        print(f"  {name:7s} {rate:8.0f} MB/s  {ratio}")
    print("peak RSS, encrypt -> decrypt in a fresh process (goal: flat, < 100 MiB):")
    for size in (64, 1024):
        base, peak = peak_rss(size)
        print(f"  {size:5d} MiB object: peak {peak:6.1f} MiB (after imports {base:6.1f} MiB)")
    print("data-key wraps per provider:")
    bench_providers()


if __name__ == "__main__":
    main()

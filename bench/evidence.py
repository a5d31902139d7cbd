"""Evidence benchmark: time ``medpipe verify --evidence`` on a pack holding a 1 GiB model.

Run: ``.venv/bin/python bench/evidence.py [--size-mib 1024] [--trials 3] [--deadline 600]``.
Builds a release the way the sign stage records it (OMS bundle, SLSA
provenance naming the runtime SBOM, ``signed`` ledger entry with head
checkpoints in a separate store), writes its evidence pack, then runs
``python -m medpipe verify --evidence`` as a child process per trial, each
under a deadline (killed past it). Prints the verifier's own output once,
the time per trial, and ``sha256sum`` of the same model for scale (the pack
is hashed twice: the index check and the OMS verification).
Everything lives in a temp dir, removed at the end, also on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _procs  # noqa: E402

from bench._files import write_model  # noqa: E402
from medpipe.activities.keys import open_provider  # noqa: E402
from medpipe.activities.sbom import runtime_sbom, store_sbom  # noqa: E402
from medpipe.activities.signing.evidence import (  # noqa: E402
    signed_entry_payload,
    write_evidence,
)
from medpipe.activities.signing.ledger import open_ledger  # noqa: E402
from medpipe.activities.signing.oms import sign_model  # noqa: E402
from medpipe.activities.signing.provenance import sign_provenance  # noqa: E402
from medpipe.activities.storage.base import open_store  # noqa: E402
from medpipe.contracts.artifacts import ArtifactRef  # noqa: E402
from medpipe.contracts.provenance import ArtifactDigest, ProvenanceInput  # noqa: E402

RELEASE = "release-bench-1"


def put_file(store_uri: str, key: str, path: Path) -> ArtifactRef:
    def chunks() -> object:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk

    info = open_store(store_uri).put(key, chunks())  # type: ignore[arg-type]
    return ArtifactRef(name=key.rsplit("/", 1)[-1], bucket_uri=store_uri, key=key,
                       sha256=info.sha256, size=info.size, content_sha256=info.sha256)


def build_pack(tmp: Path, size: int) -> tuple[Path, Path]:
    """A signed release in a local bucket, and its evidence pack."""
    for d in ("bucket", "ledger", "checkpoints"):
        (tmp / d).mkdir()
    bucket = (tmp / "bucket").as_uri()
    provider = open_provider(f"local://{tmp}/keyring.json")
    key_id = provider.create_signing_key("bench")
    pub = tmp / "signing.pub.pem"
    pub.write_bytes(provider.public_key_pem(key_id))
    model = tmp / "model.onnx"
    write_model(model, size)
    bundle = tmp / "model.onnx.sig"
    sign_model(model, bundle, provider, key_id, identity={"release_id": RELEASE})
    model_ref = put_file(bucket, f"releases/{RELEASE}/signed/model.onnx", model)
    model.unlink()  # the store holds it now: keep the disk footprint at two copies
    bundle_ref = put_file(bucket, f"releases/{RELEASE}/signed/model.onnx.sig", bundle)
    sbom = runtime_sbom("worker")
    sbom_uri = store_sbom(open_store(bucket), sbom)
    statement = sign_provenance(ProvenanceInput(
        release_id=RELEASE, request={"model": "bench", "version": "1"},
        model=ArtifactDigest(name="model", sha256=model_ref.sha256),
        builder_id="bench", builder_sbom_sha256=sbom.sha256, builder_sbom_uri=sbom_uri,
        model_signature_sha256=bundle_ref.sha256), provider, key_id)
    prov = tmp / "provenance.sig"
    prov.write_bytes(statement)
    prov_ref = put_file(bucket, f"releases/{RELEASE}/signed/provenance.sig", prov)
    ledger = open_ledger((tmp / "ledger").as_uri(), (tmp / "checkpoints").as_uri(), provider,
                         key_id)
    ledger.append("release-started", RELEASE, {"model": "bench"}, f"{RELEASE}/start")
    ledger.append("signed", RELEASE, signed_entry_payload(
        model_ref, bundle_ref, prov_ref, key_fingerprint="", sboms=[(sbom.sha256, sbom_uri)]),
        f"{RELEASE}/signed")
    pack = tmp / "pack"
    write_evidence(ledger, RELEASE, pack, [pub.read_bytes()])
    return pack, pub


def verify_once(pack: Path, pub: Path, deadline: float) -> tuple[float, str]:
    start = time.perf_counter()
    child = _procs.spawn([sys.executable, "-m", "medpipe", "verify", "--evidence", str(pack),
                          "--trusted-key", str(pub)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        _procs.kill(child)
        raise SystemExit(f"verify --evidence did not finish within {deadline:.0f} s") from None
    if child.returncode != 0:
        raise SystemExit(f"verify --evidence failed: {err.strip()}")
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds per trial")
    args = parser.parse_args()
    _procs.install()  # the verifier process is stopped on SIGTERM/SIGINT and at exit
    tmp = Path(tempfile.mkdtemp(prefix="medpipe-bench-evidence-"))
    try:
        t0 = time.perf_counter()
        pack, pub = build_pack(tmp, args.size_mib * 1024 * 1024)
        print(f"pack with a {args.size_mib} MiB model written in "
              f"{time.perf_counter() - t0:.1f} s")
        times = []
        for trial in range(args.trials):
            seconds, out = verify_once(pack, pub, args.deadline)
            if trial == 0:
                print("medpipe verify --evidence printed:")
                print(out.rstrip())
            times.append(seconds)
            print(f"trial {trial + 1}: verify --evidence {seconds:.2f} s")
        start = time.perf_counter()
        subprocess.run(["sha256sum", str(pack / "model.onnx")], check=True,
                       capture_output=True, timeout=args.deadline)
        base = time.perf_counter() - start
        best = min(times)
        print(f"best {best:.2f} s; sha256sum of the model {base:.2f} s; ratio {best / base:.2f} "
              f"({args.size_mib / best:.0f} MiB/s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

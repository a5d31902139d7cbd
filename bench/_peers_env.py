"""The peers' own Python environments for ``bench/gateway.py --peers``: made once, cached.

MLServer and KServe pin their own web stacks (FastAPI, uvicorn, protobuf, grpc) at
versions that medpipe does not use, and they pin them against each other too, so each
peer gets a venv of its own under ``.bench/peers-venv/<peer>/`` (git-ignored), made with
``python -m venv`` and filled by pip from the package index; nothing enters medpipe's
venv or lock. A venv is reused while its ``pins.json`` matches ``PEERS``; a failed or
timed-out install is removed, and the reason is returned for the bench to print (the
peer is then skipped, never waited for).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where the peers' venvs live (git-ignored).
HOME = ROOT / ".bench" / "peers-venv"
#: onnxruntime as in medpipe's lock, so every server runs the same runtime.
ONNXRUNTIME = "onnxruntime==1.32.0"
#: Seconds one peer's venv may take to make (pip included) before it is given up.
INSTALL_DEADLINE_S = 900.0


@dataclass(frozen=True)
class Peer:
    """One peer server: the label printed, the module it imports, what pip installs."""

    label: str
    module: str
    requirements: tuple[str, ...]


PEERS = (Peer("MLServer", "mlserver", ("mlserver==1.7.1", ONNXRUNTIME, "numpy")),
         Peer("KServe", "kserve", ("kserve==0.21.0", ONNXRUNTIME, "numpy")))


def _run(argv: list[str], log: Path, deadline: float) -> str | None:
    """Run ``argv`` (own process group, output to ``log``) until ``deadline``; None if it
    succeeded, else why not."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return f"{argv[2] if len(argv) > 2 else argv[0]} did not finish in time"
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    if code != 0:
        lines = [ln for ln in log.read_text(errors="replace").splitlines()
                 if ln.startswith("ERROR")] or ["(no ERROR line)"]
        return f"exit {code}: {lines[-1][:160]} (log: {log})"
    return None


def ensure(peer: Peer, deadline_s: float = INSTALL_DEADLINE_S) -> tuple[str | None, str]:
    """The Python of ``peer``'s venv, made if missing or stale; ``(None, reason)`` if it
    could not be made within ``deadline_s``."""
    folder = HOME / peer.module
    python = folder / "bin" / "python"
    pins = folder / "pins.json"
    wanted = json.dumps(list(peer.requirements))
    if python.exists() and pins.exists() and pins.read_text() == wanted:
        return str(python), "cached"
    shutil.rmtree(folder, ignore_errors=True)
    HOME.mkdir(parents=True, exist_ok=True)
    log = HOME / f"{peer.module}.log"
    log.write_text("")
    deadline = time.monotonic() + deadline_s
    t0 = time.monotonic()
    why = _run([sys.executable, "-m", "venv", str(folder)], log, deadline) or _run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check",
         "--progress-bar", "off", *peer.requirements], log, deadline)
    if why is None:
        why = _run([str(python), "-c", f"import {peer.module}, onnxruntime"], log, deadline)
    if why is not None:
        shutil.rmtree(folder, ignore_errors=True)
        return None, why
    pins.write_text(wanted)
    return str(python), f"installed in {time.monotonic() - t0:.0f} s"

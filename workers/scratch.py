"""One scratch directory per long-running process, swept once its owner is dead.

A worker or gateway killed with SIGKILL runs no cleanup, so every temporary
directory it had open stayed in the temporary directory for good: the
pseudonymize pools' ``medpipe-index-*`` (a copy of the identifier index), the
gateway's ``medpipe-gateway-*`` (verified model copies), multiprocessing's
``pymp-*`` (the fork server's socket). ``install`` gives the process one parent
directory for all of them, named after the process (pid and start time):
``tempfile`` and the ``TMPDIR`` its children inherit point into it, it is removed
at exit (SIGTERM included), and the next process that starts removes the
directories of owners that are gone — never one whose owner still runs, and
never one whose pid was reused by another process (the start time differs).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path
from types import FrameType

log = logging.getLogger("medpipe.scratch")

PREFIX = "medpipe-proc-"
#: The temporary directory the per-process parents live in, passed to child processes so
#: that a medpipe process started by another makes its parent beside it, not inside it
#: (the inner one would go when the outer owner's directory is swept).
ROOT_ENV = "MEDPIPE_SCRATCH_ROOT"
_NAME = re.compile(rf"^{re.escape(PREFIX)}(\d+)-(\d+)-")

#: The longest path of a Unix socket (Linux ``sun_path``, with its terminating NUL), and
#: the room multiprocessing's fork server takes below a directory
#: (``/pymp-xxxxxxxx/listener-xxxxxxxx``): a scratch directory too deep for it would fail
#: every process pool with "AF_UNIX path too long".
SOCKET_PATH_MAX = 107
SOCKET_ROOM = 34

_installed: Path | None = None


def start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, ``/proc/<pid>/stat`` field 22);
    None when no such process runs (a zombie counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def owner_alive(name: str) -> bool:
    """Whether the process a scratch directory ``name`` is named after still runs (True
    for a name that is not a scratch directory's: those are never swept)."""
    m = _NAME.match(name)
    if m is None:
        return True
    return start_time(int(m.group(1))) == m.group(2)


def sweep(root: Path) -> int:
    """Remove the scratch directories in ``root`` whose owner is gone; how many went."""
    removed = 0
    uid = os.getuid()
    for entry in root.glob(f"{PREFIX}*"):
        try:
            mine = entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == uid
        except OSError:
            continue
        if mine and not owner_alive(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.exists()
    return removed


def remove() -> None:
    """Remove this process's scratch directory, if it has one (at exit: ``atexit``, and
    ``cli.run`` before it ends the process without running ``atexit``)."""
    if _installed is not None:
        shutil.rmtree(_installed, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through ``finally`` blocks, then ``atexit``


def install() -> Path:
    """Sweep the dead owners' directories, then make this process's own and point
    ``tempfile`` and ``TMPDIR`` (child processes) into it; idempotent. Call it first
    thing in a long-running process (worker, gateway), before any pool starts.

    SIGTERM ends the process through ``atexit`` unless a handler is already set (the
    worker and the gateway replace it with a graceful stop, which also ends there).
    """
    global _installed
    if _installed is not None:
        return _installed
    root = Path(os.environ.get(ROOT_ENV) or tempfile.gettempdir())
    swept = sweep(root)
    if swept:
        log.info("removed %d scratch directories of processes that are gone", swept)
    own = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-{start_time(os.getpid())}-",
                                dir=root))
    if len(str(own)) + SOCKET_ROOM > SOCKET_PATH_MAX:
        # the fork server's socket would not fit in ``own``: multiprocessing keeps its
        # directory in ``root`` (as without this module), where its path still fits
        multiprocessing.util.get_temp_dir()
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    os.environ[ROOT_ENV] = str(root)
    os.environ["TMPDIR"] = str(own)
    tempfile.tempdir = str(own)
    _installed = own
    atexit.register(remove)
    return own

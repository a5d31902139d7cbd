"""The codec server's audit log: who decoded what, when — never the payload.

One JSON object per line, appended to a 0600 file (``O_APPEND``, one
``write`` per record, so concurrent writers do not interleave records), and
flushed to disk before the decoded answer is sent: a decode that could not be
recorded is refused. A record holds the time, the principal (how it
authenticated and who), the operation, the namespace, the workflow when the
caller names it (the Web UI's page address in ``Referer``), the number of
payloads and the codec key ids involved, and the outcome. Payload contents,
tokens and session ids never go in (a session is named by a hash prefix).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from medpipe.contracts.errors import InvalidInput


@dataclass(frozen=True)
class AuditRecord:
    """One codec request, as recorded."""

    operation: str
    outcome: str
    principal: str
    auth: str
    namespace: str | None = None
    workflow_id: str | None = None
    payloads: int = 0
    key_ids: list[str] = field(default_factory=list)
    remote: str | None = None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))


class AuditLog:
    """Appends ``AuditRecord`` lines to one file (created 0600, parent 0700)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as e:
            raise InvalidInput(f"cannot open the codec audit log {path}: {e.strerror}") from e
        os.close(fd)
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise InvalidInput(f"codec audit log {path} has mode {mode:04o}; it must be 0600 "
                               f"(chmod 600 {path})")

    def write(self, record: AuditRecord) -> None:
        """Append ``record`` and fsync it (raises OSError if it cannot be recorded)."""
        line = (json.dumps(asdict(record), sort_keys=True, separators=(",", ":")) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def records(self) -> list[dict[str, object]]:
        """Every record (for ``medpipe`` tooling and tests)."""
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

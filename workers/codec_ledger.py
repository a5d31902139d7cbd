"""The codec audit log, appended to the provenance ledger in batches.

The JSON-lines file is the log store every decode is written to before its
answer leaves; this exporter then appends what is new to the fleet's
hash-chained, signed ledger (kind ``codec-access``), so an edited or deleted
audit line no longer goes unnoticed. Each batch carries the records and the
byte range of the file it covers; the range is the entry's idempotency key,
so an export that died after appending and before remembering its offset
(``<audit>.exported``) is not appended twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from pathlib import Path

from medpipe.activities.atomicfile import write_atomically
from medpipe.activities.signing.ledger import Ledger
from medpipe.contracts.errors import MedpipeError

KIND = "codec-access"
RELEASE_ID = "-"
MAX_BATCH_BYTES = 48 * 1024


class AuditExporter:
    """Moves new lines of ``audit_path`` into ``ledger``, now and then and at stop."""

    def __init__(self, audit_path: Path, ledger: Ledger, *, interval_s: float = 30.0) -> None:
        self.audit_path = audit_path
        self.ledger = ledger
        self.interval_s = interval_s
        self.offset_path = audit_path.with_name(audit_path.name + ".exported")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def _offset(self) -> int:
        try:
            return int(self.offset_path.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def export_once(self) -> int:
        """Append every complete new line (in batches); return how many records went."""
        sent = 0
        with self._lock:
            while True:
                start = self._offset()
                with open(self.audit_path, "rb") as fh:
                    fh.seek(start)
                    chunk = fh.read(MAX_BATCH_BYTES)
                end = chunk.rfind(b"\n") + 1
                if end == 0:
                    return sent
                lines = chunk[:end].splitlines()
                records = [json.loads(line) for line in lines if line.strip()]
                digest = hashlib.sha256(chunk[:end]).hexdigest()
                file_id = hashlib.sha256(str(self.audit_path.resolve()).encode()).hexdigest()[:16]
                self.ledger.append(KIND, RELEASE_ID, {
                    "records": records, "from_byte": start, "to_byte": start + end,
                    "sha256": digest}, f"codec-audit/{file_id}/{start}-{start + end}")
                write_atomically(self.offset_path, str(start + end).encode())
                sent += len(records)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._export_logged()
        self._export_logged()

    def _export_logged(self) -> None:
        try:
            self.export_once()
            self.last_error = None
        except (MedpipeError, OSError, ValueError) as e:
            # The file keeps every record; the next round retries from the same offset.
            self.last_error = f"{type(e).__name__}: {getattr(e, 'message', e)}"
            print(f"codec audit export to the ledger failed (will retry): {self.last_error}",
                  flush=True)

    def start(self) -> None:
        """Export every ``interval_s`` from a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="codec-audit-export",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Export what is left and stop the thread."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout=30)

"""``file://`` adapter: a local directory as a bucket (the embedded default).

Layout under the bucket root::

    <key>                         object content (hard-linked in place: atomic)
    .medpipe/meta/<key>.json      size and SHA-256, written before the content appears
    .medpipe/meta/<key>.json.pending  the new record while ``replace_if_match`` swaps content
    .medpipe/tmp/                 uploads in progress (same filesystem, so link is atomic)
    .medpipe/locks/               per-key flock files serialising write-once checks

A bucket root that does not exist is reported as ``ProviderUnavailable``:
for a local directory the "provider" is the mount, and a missing mount is
the local equivalent of a cloud outage (a step fails over elsewhere).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from medpipe.activities.storage.base import (
    CHUNK_SIZE,
    RESERVED_PREFIX,
    ObjectInfo,
    check_key,
    register,
    replace_conflict,
    write_once,
)
from medpipe.contracts.errors import (
    AlreadyExists,
    IntegrityError,
    InvalidInput,
    NotFound,
    ProviderUnavailable,
)

_META = RESERVED_PREFIX


@register("file")
class LocalStore:
    """Write-once object store over a local directory."""

    def __init__(self, bucket_uri: str) -> None:
        parts = urlsplit(bucket_uri)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise InvalidInput(f"'{bucket_uri}' is not a local file:// URI")
        self.bucket_uri = bucket_uri.rstrip("/")
        self.root = Path(unquote(parts.path))

    # -- helpers -----------------------------------------------------------
    def _ensure_reachable(self) -> None:
        if not self.root.is_dir():
            raise ProviderUnavailable(
                f"local bucket {self.bucket_uri} is not reachable (directory missing or unmounted)")

    def _meta_path(self, key: str) -> Path:
        return self.root / _META / "meta" / f"{key}.json"

    def _pending_path(self, key: str) -> Path:
        return self.root / _META / "meta" / f"{key}.json.pending"

    def _spool(self, chunks: Iterable[bytes]) -> tuple[Path, int, str]:
        """Write ``chunks`` to a fresh temporary file (fsynced): (path, size, sha256)."""
        tmp_dir = self.root / _META / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, size, digest.hexdigest()

    def _file_digest(self, key: str) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        with open(self.root / key, "rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def _read_record(self, path: Path) -> tuple[int, str]:
        meta = json.loads(path.read_text())
        return int(meta["size"]), str(meta["sha256"])

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        lock_dir = self.root / _META / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()
        with open(lock_dir / name, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def uri_for(self, key: str) -> str:
        return f"{self.bucket_uri}/{check_key(key)}"

    # -- protocol ----------------------------------------------------------
    def put(self, key: str, chunks: Iterable[bytes]) -> ObjectInfo:
        check_key(key)
        self._ensure_reachable()
        tmp, size, sha256 = self._spool(chunks)
        try:
            info = ObjectInfo(uri=self.uri_for(key), key=key, size=size, sha256=sha256)
            self._commit(key, tmp, info)
            return info
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, key: str, tmp: Path, info: ObjectInfo) -> None:
        target = self.root / key
        with self._lock(key):
            if target.exists():
                write_once(self.head(key), info.sha256)
                return
            meta = self._meta_path(key)
            meta.parent.mkdir(parents=True, exist_ok=True)
            meta_tmp = meta.with_suffix(f".{uuid.uuid4().hex}.tmp")
            meta_tmp.write_text(json.dumps({"size": info.size, "sha256": info.sha256}))
            os.replace(meta_tmp, meta)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(tmp, target)

    def head(self, key: str) -> ObjectInfo:
        check_key(key)
        self._ensure_reachable()
        target = self.root / key
        if not target.is_file():
            raise NotFound(f"{self.uri_for(key)} does not exist")
        try:
            size, sha256 = self._read_record(self._meta_path(key))
        except (OSError, ValueError, KeyError) as e:
            raise IntegrityError(f"{self.uri_for(key)} has no readable digest record") from e
        if self._pending_path(key).exists():
            size, sha256 = self._settled_record(key, size, sha256)
        return ObjectInfo(uri=self.uri_for(key), key=key, size=size, sha256=sha256)

    def _settled_record(self, key: str, size: int, sha256: str) -> tuple[int, str]:
        """The record matching the content while a replacement is pending (or was interrupted).

        ``replace_if_match`` renames the new content into place, then the
        pending record over the old one; a reader in between (or after a crash
        there) hashes the content to tell which record is true. Read-only: only
        ``replace_if_match`` settles the files, under the key's lock.
        """
        try:
            pending = self._read_record(self._pending_path(key))
        except (OSError, ValueError, KeyError):
            return size, sha256
        if pending[1] == sha256:
            return size, sha256
        return pending if self._file_digest(key) == pending else (size, sha256)

    def exists(self, key: str) -> bool:
        check_key(key)
        self._ensure_reachable()
        return (self.root / key).is_file()

    def get(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        info = self.head(key)
        return self._stream(info, chunk_size)

    def _stream(self, info: ObjectInfo, chunk_size: int) -> Iterator[bytes]:
        digest = hashlib.sha256()
        size = 0
        with open(self.root / info.key, "rb") as fh:
            while chunk := fh.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        if size != info.size or digest.hexdigest() != info.sha256:
            raise IntegrityError(
                f"{info.uri} changed after it was written (expected sha256 "
                f"{info.sha256[:12]}…, {info.size} bytes; read {digest.hexdigest()[:12]}…, "
                f"{size} bytes)")

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        self._ensure_reachable()
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root)
            if rel_dir == ".":
                dirnames[:] = [d for d in dirnames if d != _META]
                rel_dir = ""
            for name in filenames:
                key = f"{rel_dir}/{name}" if rel_dir else name
                if key.startswith(prefix):
                    found.append(key)
        for key in sorted(found):
            yield self.head(key)

    def delete(self, key: str) -> None:
        check_key(key)
        self._ensure_reachable()
        with self._lock(key):
            (self.root / key).unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)
            self._pending_path(key).unlink(missing_ok=True)

    def replace_if_match(self, key: str, chunks: Iterable[bytes],
                         expected_sha256: str) -> ObjectInfo:
        """Swap ``key``'s content if its digest is still ``expected_sha256`` (key rotation only).

        The new content is spooled first (outside the lock, so a slow stream
        does not hold it), then, under the key's lock: compare,
        write the pending record, rename the content into place, rename the
        pending record over the old one. A crash between the two renames
        leaves a pending record that ``head`` consults and the next
        replacement settles, so the object never reads as corrupted.
        """
        check_key(key)
        self._ensure_reachable()
        if not (self.root / key).is_file():
            raise NotFound(f"{self.uri_for(key)} does not exist (replace never creates)")
        tmp, size, sha256 = self._spool(chunks)
        info = ObjectInfo(uri=self.uri_for(key), key=key, size=size, sha256=sha256)
        try:
            with self._lock(key):
                if not (self.root / key).is_file():
                    raise NotFound(f"{info.uri} was deleted meanwhile (replace never creates)")
                current = self._settle(key)
                if current != expected_sha256:
                    raise replace_conflict(info.uri, expected_sha256, current)
                pending = self._pending_path(key)
                staged = pending.with_name(f"{pending.name}.{uuid.uuid4().hex}.tmp")
                staged.write_text(json.dumps({"size": size, "sha256": sha256}))
                os.replace(staged, pending)
                os.replace(tmp, self.root / key)
                os.replace(pending, self._meta_path(key))
                self._fsync_dir(self.root / key)
                self._fsync_dir(pending)
        finally:
            tmp.unlink(missing_ok=True)
        return info

    def _settle(self, key: str) -> str:
        """Under the key's lock: finish or drop an interrupted replacement; the true digest."""
        meta = self._meta_path(key)
        pending = self._pending_path(key)
        size, sha256 = self._read_record(meta)
        if not pending.exists():
            return sha256
        _size, true_sha = self._settled_record(key, size, sha256)
        if true_sha != sha256:
            os.replace(pending, meta)
        else:
            pending.unlink(missing_ok=True)
        return true_sha

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def create_if_absent(self, key: str, data: bytes) -> bool:
        check_key(key)
        self._ensure_reachable()
        with self._lock(key):
            if (self.root / key).exists():
                return False
        try:
            self.put(key, [data])
        except AlreadyExists:
            return False
        return True

    def ensure_bucket(self) -> None:
        """Create the bucket directory (development stacks only)."""
        self.root.mkdir(parents=True, exist_ok=True)

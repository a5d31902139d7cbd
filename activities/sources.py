"""Where release inputs are fetched from, by URI scheme.

``file://`` here; ``https://`` (mutual TLS) plugs in as one more entry in
``_OPENERS``. Every opener streams chunks: nothing reads a whole input into
memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from contracts.errors import AccessDenied, InvalidInput, NotFound

CHUNK = 4 * 1024 * 1024

SourceOpener = Callable[[str], Iterator[bytes]]
_OPENERS: dict[str, SourceOpener] = {}


def register_source(scheme: str) -> Callable[[SourceOpener], SourceOpener]:
    """Register an opener for a source URI scheme."""

    def decorate(fn: SourceOpener) -> SourceOpener:
        _OPENERS[scheme] = fn
        return fn

    return decorate


def local_path(uri: str) -> Path:
    """The path of a ``file://`` URI (or of a plain absolute path)."""
    parts = urlsplit(uri)
    if parts.scheme == "":
        return Path(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise InvalidInput(f"'{uri}' is not a local file URI")
    return Path(unquote(parts.path))


@register_source("file")
def open_file(uri: str) -> Iterator[bytes]:
    """Stream a local file."""
    path = local_path(uri)
    if not path.exists():
        raise NotFound(f"source {uri} does not exist")
    if not path.is_file():
        raise InvalidInput(f"source {uri} is not a regular file")
    if not os.access(path, os.R_OK):
        raise AccessDenied(f"source {uri} is not readable by the worker")
    return _read_chunks(path)


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def open_source(uri: str) -> Iterator[bytes]:
    """Stream the content of a source URI through the opener of its scheme."""
    scheme = urlsplit(uri).scheme or "file"
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise InvalidInput(f"unsupported source scheme '{scheme}://' in '{uri}' "
                           f"(supported: {', '.join(sorted(_OPENERS))})")
    return opener(uri)

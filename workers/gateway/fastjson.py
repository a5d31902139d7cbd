"""JSON on the public port's hot path: orjson when installed, the standard library else.

Parsing and writing the small JSON of an inference request and its answer cost
more than running a small model (measured here: ``json.loads`` + ``json.dumps``
≈ 20 µs of a ≈ 70 µs request, orjson ≈ 2 µs). What is accepted and every error
stay the standard library's: whatever orjson refuses (``NaN`` literals, integers
over 64 bits, UTF-16 bodies, nesting past its own depth limit, anything malformed)
is parsed again by ``json``, which accepts or refuses it exactly as before, with
its messages. One difference remains: orjson reads an integer over 64 bits as
the nearest float where ``json`` keeps the integer; every place a request's
number goes refuses both alike (an integer tensor overflows either way, a float
tensor gets the same value, shapes and sizes must be integers), at worst with
other words. A value orjson cannot write goes through ``json.dumps``. orjson is
in the ``gateway`` extra; without it everything goes through ``json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the gateway extra installs it
    _orjson = None  # type: ignore[assignment]


#: orjson's own ``dumps`` (raises ``TypeError`` on what it cannot write), or None without
#: orjson: for callers that write JSON in pieces and fall back as a whole.
strict_dumps: Callable[[Any], bytes] | None = _orjson.dumps if _orjson is not None else None


def loads(data: bytes) -> Any:
    """Parse JSON ``data`` as ``json.loads`` would (same values, same errors).

    Raises:
        ValueError, UnicodeDecodeError, RecursionError: as ``json.loads``.
    """
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # let the standard library decide, and word the error
    return json.loads(data)


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes of ``obj`` (non-finite floats are written ``null`` by orjson,
    ``NaN``/``Infinity`` by the fallback)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj)
        except TypeError:  # JSONEncodeError: e.g. an integer over 64 bits
            pass
    return json.dumps(obj, separators=(",", ":")).encode()

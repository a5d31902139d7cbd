"""Free TCP ports for servers that a test, a bench or the dev tools start a moment later.

Why not simply bind port 0 and close: the kernel hands out port-0 binds and the
local ports of outgoing connections from the same ephemeral range, so a port
found free there can become some other process's connection's local port
between the check and the server's own bind (a CI run of the suite found two
gateway ports held so, no listener behind them, while the other test process
made its connections). A port outside the ephemeral range is never handed out
implicitly: only another explicit bind can take it, and that is what the
check here sees.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path

#: The lowest port picked: below it sit well-known services (Temporal 7233, its UI 8233, ...).
LOWEST = 10000

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ephemeral port range (Linux's default where it cannot be read)."""
    try:
        low, high = (int(p) for p in _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def _spans(width: int) -> list[tuple[int, int]]:
    """The bases (``range``-style: first, one past the last) outside the ephemeral range
    where a block ``width`` ports wide fits."""
    low, high = ephemeral_range()
    spans = [(LOWEST, low - width + 1), (high + 1, 65537 - width)]
    return [(a, b) for a, b in spans if b > a]


def free_block(offsets: Sequence[int] = (0,), host: str = "127.0.0.1") -> int:
    """A port ``base`` outside the ephemeral range with every ``base + offset`` free now.

    One base for a whole stack's ports (a server and its UI at +1000, gateways side by
    side, ...) keeps them from meeting one another as well.
    """
    width = max(offsets) + 1
    spans = _spans(width)
    if not spans:
        raise RuntimeError(f"no room for {width} ports outside the ephemeral range "
                           f"{ephemeral_range()}")
    rng = random.SystemRandom()
    for _ in range(100):
        a, b = rng.choice(spans)
        base = rng.randrange(a, b)
        if _all_free(host, (base + o for o in offsets)):
            return base
    raise RuntimeError(f"no free ports at offsets {tuple(offsets)} outside the ephemeral "
                       f"range after 100 tries")


def free_port(host: str = "127.0.0.1") -> int:
    """One free port outside the ephemeral range."""
    return free_block((0,), host)


def _all_free(host: str, ports: Iterable[int]) -> bool:
    """Whether each of ``ports`` binds on ``host`` now (all released again)."""
    socks: list[socket.socket] = []
    try:
        for port in ports:
            s = socket.socket()
            socks.append(s)
            s.bind((host, port))
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()
    return True

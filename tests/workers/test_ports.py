"""``workers.ports``: free ports are picked outside the kernel's ephemeral range, and a
taken one is never handed out."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from medpipe.workers import ports


def test_blocks_lie_outside_the_ephemeral_range_and_bind() -> None:
    low, high = ports.ephemeral_range()
    for _ in range(20):
        base = ports.free_block((0, 1000, 2000))
        for port in (base, base + 1000, base + 2000):
            assert ports.LOWEST <= port < low or high < port <= 65535
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))


def _one_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """Leave exactly one base to pick: ``port`` (the range file puts everything else inside
    the ephemeral range)."""
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text(f"{port + 1}\t65535\n")
    monkeypatch.setattr(ports, "_RANGE_FILE", range_file)
    monkeypatch.setattr(ports, "LOWEST", port)


def test_a_taken_port_is_never_handed_out(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        _one_candidate(tmp_path, monkeypatch, port)
        with pytest.raises(RuntimeError, match="no free ports"):
            ports.free_port()
    assert ports.free_port() == port  # released: now it is the one candidate


def test_no_room_outside_the_range_says_so(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("1024 65535\n")
    monkeypatch.setattr(ports, "_RANGE_FILE", range_file)
    with pytest.raises(RuntimeError, match="no room for 3 ports"):
        ports.free_block((0, 1, 2))

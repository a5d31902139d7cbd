"""The leak scanner the no-PHI tests rely on: it must find every marker, and only markers."""

from __future__ import annotations

import pytest

from tests.markers import MarkerScan


def test_the_marker_scan_finds_every_marker_and_only_markers() -> None:
    markers = [f"Zq{i}Name{i * 7}" for i in range(3000)] + ["MRNZQ00001", "zq1@marker.example"]
    scan = MarkerScan(markers)
    joined = ",".join(m.upper() if i % 2 else m for i, m in enumerate(markers))
    assert scan.found(b"\x00\xff" + joined.encode() + b"\n") == {m.lower() for m in markers}
    noise = bytes(range(256)) * 40
    for at in (0, 1, 2, 3, 5000, len(noise)):
        assert scan.found(noise[:at] + b"Zq2999Name20993" + noise[at:]) == {"zq2999name20993"}
    assert not scan.found(b"Zq12Name8 MRNZQ0000 Zq1Name6 zq1@marker.exampl" + noise)


def test_the_marker_scan_refuses_empty_markers() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        MarkerScan(["a", ""])

"""Connecting to a Temporal frontend that is still warming up.

A frontend accepts TCP connections before its health check passes; a client
connecting then fails with "Frontend is not healthy yet" (seen in CI, right after
``TemporalDevServer.start``). Connecting waits that out, within a bound, and
still fails at once on anything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from medpipe.contracts.errors import ProviderUnavailable
from medpipe.workers import client as client_module
from medpipe.workers.config import StackConfig
from medpipe.workers.devserver import TemporalDevServer, free_port
from tests.support import make_fleet

WARMING = ("Failed client connect: `get_system_info` call error after connection: Status "
           "{ code: Unavailable, message: \"Frontend is not healthy yet\" }")


def _config(tmp_path: Path) -> StackConfig:
    return StackConfig(temporal_address="127.0.0.1:1", fleet=make_fleet(tmp_path),
                       home=str(tmp_path))


async def test_a_warming_frontend_is_waited_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    connected = object()

    async def once(config: StackConfig, converter: object) -> object:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError(WARMING)
        return connected

    monkeypatch.setattr(client_module, "_connect_once", once)
    assert await client_module._connect(_config(tmp_path), pydantic_data_converter) is connected
    assert len(calls) == 3


async def test_a_frontend_that_stays_unhealthy_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def once(config: StackConfig, converter: object) -> object:
        raise RuntimeError(WARMING)

    monkeypatch.setattr(client_module, "_connect_once", once)
    monkeypatch.setattr(client_module, "WARM_UP_WAIT_S", 1.0)
    with pytest.raises(ProviderUnavailable, match="not healthy yet"):
        await client_module._connect(_config(tmp_path), pydantic_data_converter)


async def test_other_failures_are_not_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    async def once(config: StackConfig, converter: object) -> object:
        calls.append(1)
        raise RuntimeError("Failed client connect: tcp connect error: Connection refused")

    monkeypatch.setattr(client_module, "_connect_once", once)
    with pytest.raises(ProviderUnavailable, match="connection refused"):
        await client_module._connect(_config(tmp_path), pydantic_data_converter)
    assert len(calls) == 1


def test_dev_server_health_is_false_where_nothing_listens(tmp_path: Path) -> None:
    server = TemporalDevServer(tmp_path / "t.db", tmp_path / "t.log", port=free_port())
    assert not server._serving()


def test_dev_server_start_returns_only_once_serving(tmp_path: Path) -> None:
    server = TemporalDevServer(tmp_path / "t.db", tmp_path / "t.log")
    server.start()
    try:
        assert server._serving()
    finally:
        server.stop()

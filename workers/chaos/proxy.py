"""A TCP proxy that can be cut and restored: the network partition of a chaos exercise.

The non-production stack reaches one cloud's store through it (``dev up``
starts it as a supervised child, ``medpipe chaos proxy``). ``cut`` resets every
open connection and every new one (what a firewall REJECT rule does), so the
worker sees a real network failure from its real client library; ``restore``
forwards again. As a process it cuts on SIGUSR1 and restores on SIGUSR2, so the
exercise controls it by the pid the supervisor recorded, never by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import struct

BUFFER = 64 * 1024


class CuttableProxy:
    """Forward ``listen`` → ``upstream`` byte for byte until cut."""

    def __init__(self, listen_host: str, listen_port: int, upstream_host: str,
                 upstream_port: int) -> None:
        self.listen = (listen_host, listen_port)
        self.upstream = (upstream_host, upstream_port)
        self.cut_now = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port it listens on (useful with port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen (SO_REUSEADDR, so a restarted proxy takes its port back at once)."""
        self._server = await asyncio.start_server(self._accept, *self.listen,
                                                  reuse_address=True)

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Partition: reset open connections; new ones are reset at once."""
        self.cut_now = True
        for w in list(self._writers):
            _reset(w)
        self._writers.clear()

    def restore(self) -> None:
        """Heal the partition: new connections are forwarded again."""
        self.cut_now = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_now:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _reset(writer)
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                with contextlib.suppress(Exception):
                    w.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0): the peer gets ECONNRESET, as from a REJECT rule."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(BUFFER):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def parse_hostport(value: str) -> tuple[str, int]:
    """``host:port`` → (host, port); ValueError naming the value otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{value!r} is not host:port")
    return host, int(port)


async def serve(listen: str, upstream: str) -> None:
    """Run the proxy until SIGTERM/SIGINT; SIGUSR1 cuts, SIGUSR2 restores."""
    proxy = CuttableProxy(*parse_hostport(listen), *parse_hostport(upstream))
    await proxy.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.cut)
    loop.add_signal_handler(signal.SIGUSR2, proxy.restore)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"chaos proxy {listen} -> {upstream} (SIGUSR1 cuts, SIGUSR2 restores)", flush=True)
    await stop.wait()
    await proxy.close()

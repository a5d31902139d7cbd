"""A raw HTTP/1.1 client for the tests that must control every byte (declared lengths,
chunked bodies cut short, slow senders), which ordinary clients do not allow."""

from __future__ import annotations

import json
import socket
from typing import Any


def request(port: int, path: str, headers: dict[str, str], parts: list[bytes],
            chunked: bool = False, timeout: float = 20.0) -> tuple[int, dict[str, str], bytes]:
    """Send a POST made of ``parts`` (as chunks if ``chunked``) and read one response.

    Returns ``(status, headers, body)``; a connection closed before any response is
    status 0.
    """
    head = [f"POST {path} HTTP/1.1", "host: 127.0.0.1"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        head.append("transfer-encoding: chunked")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            for part in parts:
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early; its answer is still to be read
        return _read_response(sock)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return 0, {}, data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body
    except ConnectionResetError:
        return 0, {}, data


def error(body: bytes) -> str:
    """The ``error`` message of an OIP error body."""
    doc: Any = json.loads(body)
    return str(doc["error"])

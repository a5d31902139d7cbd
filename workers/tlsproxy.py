"""A mutual-TLS front for a Temporal frontend: nginx terminating TLS 1.3.

Temporal's dev server speaks plaintext gRPC; production clusters sit behind
mTLS. This runs Debian's nginx (``ssl_verify_client on`` + ``grpc_pass``)
in front of a frontend so the CLI's and workers' ``--tls-*`` options are
exercised against a real TLS-terminating proxy. A client without a valid
certificate gets gRPC status 16 (UNAUTHENTICATED) instead of an HTML page.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen {host}:{port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.3;
    ssl_client_certificate {client_ca};
    ssl_verify_client on;
    error_page 495 496 = @mtls_required;
    location @mtls_required {{
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "a valid client certificate is required (mutual TLS)" always;
      return 204;
    }}
    location / {{
      grpc_pass grpc://{upstream};
      grpc_read_timeout 300s;
      grpc_send_timeout 300s;
    }}
  }}
}}
"""


def nginx_binary() -> str:
    """Path of the nginx executable (Debian installs it in /usr/sbin)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if not found:
        raise FileNotFoundError("nginx is not installed (apt-get install nginx-light)")
    return found


@dataclass
class MTLSProxy:
    """nginx on ``host:port`` forwarding gRPC to ``upstream`` after mutual TLS."""

    upstream: str
    cert: Path
    key: Path
    client_ca: Path
    workdir: Path
    port: int
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """host:port clients connect to."""
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        """Write the configuration, start nginx, wait for the port."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(CONFIG.format(dir=self.workdir, host=self.host, port=self.port,
                                      cert=self.cert, key=self.key, client_ca=self.client_ca,
                                      upstream=self.upstream))
        log = open(self.workdir / "stdout.log", "ab")
        self.proc = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(self.workdir)],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: "
                                   + (self.workdir / "error.log").read_text()[-500:])
            try:
                with socket.create_connection((self.host, self.port), timeout=0.3):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not open its port")

    def stop(self) -> None:
        """Stop nginx."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

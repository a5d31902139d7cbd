"""``python -m workers.gateway``: run the inference gateway from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from medpipe.contracts.deploy import LoadModelRequest, Slot
from medpipe.workers.gateway.server import AdminTLS, serve


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    p = argparse.ArgumentParser(prog="python -m workers.gateway", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="public OIP v2 + /metrics port")
    p.add_argument("--admin-port", type=int, default=8443, help="mTLS admin port")
    p.add_argument("--tls-cert", type=Path, required=True, help="admin server certificate")
    p.add_argument("--tls-key", type=Path, required=True, help="admin server key")
    p.add_argument("--client-ca", type=Path, required=True,
                   help="CA whose client certificates may use the admin API")
    p.add_argument("--model-name", default="model", help="name served under /v2/models/")
    p.add_argument("--model", help="optional model file to load as stable at start")
    p.add_argument("--model-version", default="1")
    p.add_argument("--model-sha256", help="expected digest of --model (required with it)")
    p.add_argument("--require-signature", action="store_true")
    p.add_argument("--no-slot-pin", action="store_true",
                   help="ignore the x-medpipe-slot header (clients cannot choose the canary)")
    p.add_argument("--http", default="auto", choices=["auto", "httptools", "h11"])
    p.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads per inference")
    p.add_argument("--log-level", default="warning")
    args = p.parse_args(argv)
    initial = None
    if args.model:
        if not args.model_sha256:
            p.error("--model needs --model-sha256 (the gateway never serves an unchecked file)")
        initial = LoadModelRequest(slot=Slot.STABLE, name=args.model_name,
                                   version=args.model_version, model_uri=args.model,
                                   sha256=args.model_sha256)
    serve(args.host, args.port, args.admin_port,
          AdminTLS(cert=args.tls_cert, key=args.tls_key, client_ca=args.client_ca),
          args.model_name, initial=initial, require_signature=args.require_signature,
          intra_op_threads=args.threads, http=args.http, loop=args.loop,
          log_level=args.log_level, allow_pin=not args.no_slot_pin)


if __name__ == "__main__":
    main()

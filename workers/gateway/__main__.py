"""``python -m medpipe.workers.gateway`` (and ``medpipe gateway``): run the inference gateway.

This module owns the gateway's command line; the ``medpipe gateway`` command hands
its arguments here unchanged, so there is one set of options and one place that
turns them into a running gateway.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from medpipe.contracts.deploy import LoadModelRequest, Slot
from medpipe.contracts.errors import MedpipeError
from medpipe.workers.gateway.limits import Limits


class _Formatter(argparse.HelpFormatter):
    """Help that starts with ``Usage:``, like every other ``medpipe`` command's."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "Usage: " if prefix is None else prefix)


def build_parser(prog: str = "python -m medpipe.workers.gateway") -> argparse.ArgumentParser:
    """The gateway's options (shared by ``medpipe gateway``)."""
    defaults = Limits()
    p = argparse.ArgumentParser(
        prog=prog, formatter_class=_Formatter, description="Run the inference gateway: OIP "
        "v2 REST + /metrics, weighted stable/canary slots, mTLS admin API.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="public OIP v2 + /metrics port")
    p.add_argument("--admin-port", type=int, default=8443, help="mTLS admin port")
    p.add_argument("--tls-cert", type=Path, required=True, help="admin server certificate")
    p.add_argument("--tls-key", type=Path, required=True, help="admin server key")
    p.add_argument("--client-ca", type=Path, required=True,
                   help="CA whose client certificates may use the admin API")
    p.add_argument("--model-name", required=True, help="name served under /v2/models/")
    trust = p.add_argument_group("what may be loaded")
    trust.add_argument("--trusted-key", action="append", type=Path, default=[],
                       help="public key (PEM file, or a directory of *.pem) trusted to sign "
                            "models; repeatable; re-read on SIGHUP and POST /admin/trust/reload")
    trust.add_argument("--revoked", action="append", default=[],
                       help="fingerprint (sha256 of the public key PEM) no longer trusted")
    trust.add_argument("--revocation-list", type=Path,
                       help="file of revoked fingerprints, one per line; re-read on reload")
    trust.add_argument("--allow-unsigned", action="store_true",
                       help="DEVELOPMENT ONLY: load models without a verified signature")
    trust.add_argument("--model-root", action="append", default=[],
                       help="directory or object-store URI prefix models may be loaded from "
                            "(repeatable; nothing loads without one)")
    p.add_argument("--state-file", type=Path,
                   help="record what this gateway serves here, and serve it again at start "
                        "(models verified again) before reporting ready")
    first = p.add_argument_group("model to load as stable at start (if none is restored)")
    first.add_argument("--model", help="model file or URI (under a --model-root)")
    first.add_argument("--model-version", default="1")
    first.add_argument("--model-sha256", help="expected digest of --model (required with it)")
    first.add_argument("--model-bundle", help="OMS signature bundle of --model")
    first.add_argument("--release-id", help="release the bundle must have been signed for")
    public = p.add_argument_group("public port")
    public.add_argument("--allow-pin", action="store_true",
                        help="honour the x-medpipe-slot header (callers may pick the canary)")
    public.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes)
    public.add_argument("--max-json-depth", type=int, default=defaults.max_json_depth)
    public.add_argument("--max-json-values", type=int, default=defaults.max_json_values)
    public.add_argument("--reuse-port", action="store_true",
                        help="let other gateway processes listen on the same --port "
                             "(SO_REUSEPORT, same user); each keeps its own --admin-port and "
                             "--state-file and is deployed to as a gateway of its own")
    public.add_argument("--request-timeout", type=float, default=defaults.request_timeout_s,
                        help="seconds a request may take to arrive and to run")
    public.add_argument("--no-fast-path", dest="fast_path", action="store_false",
                        help="send every request through the ASGI app (by default whole "
                             "small inference requests are answered by the HTTP protocol "
                             "itself; same answers, less CPU per request)")
    p.add_argument("--http", default="auto", choices=["auto", "httptools", "h11"])
    p.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads per inference")
    p.add_argument("--log-level", default="warning")
    return p


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Parse arguments and serve until SIGINT/SIGTERM."""
    p = build_parser(prog) if prog else build_parser()
    args = p.parse_args(argv)  # before the server's imports: --help needs no extra
    from medpipe.workers.gateway.server import AdminTLS, serve
    from medpipe.workers.gateway.verify import OMSVerifier
    from medpipe.workers.scratch import install

    initial = None
    if args.model:
        if not args.model_sha256:
            p.error("--model needs --model-sha256 (the gateway never serves an unchecked file)")
        initial = LoadModelRequest(slot=Slot.STABLE, name=args.model_name,
                                   version=args.model_version, model_uri=args.model,
                                   sha256=args.model_sha256, bundle_uri=args.model_bundle,
                                   release_id=args.release_id)
    if not args.trusted_key and not args.allow_unsigned:
        p.error("no --trusted-key: this gateway would refuse every model (signatures are "
                "required; --allow-unsigned is for development only)")
    for value, name in ((args.max_body_bytes, "--max-body-bytes"),
                        (args.max_json_depth, "--max-json-depth"),
                        (args.max_json_values, "--max-json-values"),
                        (args.request_timeout, "--request-timeout")):
        if value <= 0:
            p.error(f"{name} must be positive")
    try:
        verifier = OMSVerifier(args.trusted_key, args.revoked, args.revocation_list) \
            if args.trusted_key else None
    except ValueError as e:
        p.error(str(e))
    limits = Limits(max_body_bytes=args.max_body_bytes, max_json_depth=args.max_json_depth,
                    max_json_values=args.max_json_values,
                    request_timeout_s=args.request_timeout)
    install()  # its verified model copies go with it, even after a SIGKILL
    try:
        serve(args.host, args.port, args.admin_port,
              AdminTLS(cert=args.tls_cert, key=args.tls_key, client_ca=args.client_ca),
              args.model_name, initial=initial, verifier=verifier,
              allow_unsigned=args.allow_unsigned, model_roots=tuple(args.model_root),
              intra_op_threads=args.threads, http=args.http, loop=args.loop,
              log_level=args.log_level, allow_pin=args.allow_pin, limits=limits,
              state_file=args.state_file, reuse_port=args.reuse_port,
              fast_path=args.fast_path)
    except MedpipeError as e:
        p.exit(2, f"{p.prog}: error: {e.message}\n")
    except OSError as e:  # a port in use, an unreadable certificate
        p.exit(2, f"{p.prog}: error: {e}\n")


if __name__ == "__main__":
    main()

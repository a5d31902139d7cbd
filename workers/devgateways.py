"""The local stack's inference gateways: their admin PKI and their command lines.

One gateway per fleet entry whose URLs are on this machine; what each serves
survives a crash or ``dev down``/``up`` through its state file, and it loads
only models signed by the fleet's key (or says loudly that it does not).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from medpipe.workers.config import StackConfig
from medpipe.workers.pki import GatewayPKI


def ensure_gateway_pki(config: StackConfig) -> Path:
    """The local gateways' admin PKI: a CA, a server certificate, the deployer's client cert.

    Generated once under ``$MEDPIPE_HOME/pki/gateway``; workers present the
    deployer certificate (``gateway_tls`` in the configuration) to the
    gateways' admin API, which accepts only certificates from this CA.
    """
    out = config.gateway_pki_dir
    if not GatewayPKI.at(out).deployer.cert.exists():
        names = ("localhost", *sorted({h for g in config.fleet.gateways
                                       if (h := urlsplit(g.admin_url).hostname)
                                       and not h.replace(".", "").isdigit()}))
        GatewayPKI.create(out, names)
    return out


def local_gateway_commands(config: StackConfig) -> dict[str, list[str]]:
    """Command lines of the fleet's gateways that live on this machine (loopback URLs)."""
    pki = GatewayPKI.at(config.gateway_pki_dir)
    commands: dict[str, list[str]] = {}
    for g in config.fleet.gateways:
        admin, public = urlsplit(g.admin_url), urlsplit(g.public_url)
        if admin.hostname not in ("127.0.0.1", "localhost") or not public.port or not g.model:
            continue
        commands[g.name] = [sys.executable, "-m", "medpipe", "gateway",
                            "--port", str(public.port), "--admin-port", str(admin.port),
                            "--tls-cert", str(pki.server.cert),
                            "--tls-key", str(pki.server.key), "--client-ca", str(pki.ca),
                            "--model-name", g.model]
        # what it serves survives a crash or `dev down`/`up` (models verified again)
        commands[g.name] += ["--state-file",
                             str(Path(config.home) / "gateways" / f"{g.name}.state.json")]
        for root in sorted({p.store_uri for p in config.fleet.profiles if p.store_uri}):
            commands[g.name] += ["--model-root", root]  # release artifacts, nothing else
        if config.fleet.keys.enabled:  # gateways load only models signed by our key
            commands[g.name] += ["--trusted-key", str(config.public_key_path)]
        else:  # said loudly by the gateway, in its log and its /v2 metadata
            commands[g.name] += ["--allow-unsigned"]
    return commands

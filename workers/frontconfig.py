"""The front's HAProxy configuration, generated from the fleet (pure: text in, text out).

Clinical callers use one front; it routes to the regional gateways active-active,
checks each one's ``GET /v2/health/ready`` every half second, and retries an
inference that failed on one gateway on the next one. It never sends an
identifiable request outside the caller's jurisdiction:

- the caller states its jurisdiction in the ``Medpipe-Jurisdiction`` header
  (one value, e.g. ``US``, ``US-CA``, ``EU``, ``EU-DE``); the request goes only
  to the backend of that jurisdiction group: the gateways whose jurisdiction
  falls under it (``US`` covers ``US`` and ``US-CA``, ``US-CA`` only ``US-CA``,
  as in ``contracts.placement.jurisdiction_allowed``);
- no header: refused with 400, unless the fleet lists the model in
  ``non_identifiable_models`` (then any region serves it);
- two headers (or a value with a comma): 400; a jurisdiction no gateway serves:
  403. Nothing is guessed, nothing falls back to another region.

Why an inference is retried (``retry-on``, ``option redispatch``): ``POST
/v2/models/{name}/infer`` is idempotent here. The gateway computes a pure
function of the request and the loaded model; it stores nothing, changes no
record, and sends nothing anywhere (its metrics count requests, which is not
state a caller sees). Sending the same request twice gives an equally valid
answer (the canary split may pick the other slot, as it would for a new
request). Retries are limited to failures where no answer was given
(connection refused or reset, empty or malformed response, timeout) and to
502/503/504; a 4xx or 500 is the gateway's answer and goes back to the caller.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from medpipe.contracts.placement import Fleet, GatewayTarget, jurisdiction_allowed

#: The request header stating the caller's jurisdiction.
JURISDICTION_HEADER = "Medpipe-Jurisdiction"
#: The front's own liveness URI (answered by HAProxy, never forwarded).
FRONT_HEALTH_URI = "/front/health"
#: The response header naming the gateway that answered (for callers and on-call).
GATEWAY_HEADER = "Medpipe-Gateway"
#: Backend serving non-identifiable models from every region.
ANY_REGION_BACKEND = "any_region"


@dataclass(frozen=True)
class FrontTuning:
    """Health checks, retries and timeouts (defaults chosen for a gap under a second).

    Attributes:
        check_interval_ms: health check interval of a server that is up.
        fall: failed checks before a server is taken out.
        rise: passed checks before a server is put back.
        retries: attempts after the first (each on another server: redispatch).
        connect_timeout_ms: TCP connect to a gateway.
        server_timeout_s: a gateway's answer (then retried elsewhere).
        client_timeout_s: an idle caller connection.
    """

    check_interval_ms: int = 500
    fall: int = 2
    rise: int = 2
    retries: int = 3
    connect_timeout_ms: int = 1000
    server_timeout_s: int = 10
    client_timeout_s: int = 30


@dataclass(frozen=True)
class FrontBinding:
    """Where the front listens and keeps its runtime API.

    Attributes:
        host: address of the callers' listener.
        port: port of the callers' listener.
        stats_host: address of the stats page and Prometheus metrics (on-call only).
        stats_port: its port (0: no stats listener).
        socket: path of the runtime API socket (mode 0600, admin level: drain, ready).
    """

    host: str
    port: int
    stats_host: str = "127.0.0.1"
    stats_port: int = 0
    socket: str = ""


class FrontConfigError(ValueError):
    """The fleet cannot be fronted as asked (named, with why)."""


def gateway_jurisdiction(gateway: GatewayTarget, fleet: Fleet) -> str:
    """The gateway's jurisdiction: its own, else the profile of its cloud and region's."""
    if gateway.jurisdiction:
        return gateway.jurisdiction
    region = gateway.region or _region_from_name(gateway)
    for p in fleet.profiles:
        if p.cloud.value == gateway.cloud and p.region == region:
            return p.jurisdiction
    return ""


def _region_from_name(gateway: GatewayTarget) -> str:
    prefix = f"gw-{gateway.cloud}-"
    return gateway.name[len(prefix):] if gateway.cloud and gateway.name.startswith(prefix) \
        else ""


def jurisdiction_groups(fleet: Fleet) -> dict[str, list[GatewayTarget]]:
    """Every jurisdiction a caller may state -> the gateways serving it.

    The values are the gateways' jurisdictions and their parents (``EU-DE`` gives
    ``EU-DE`` and ``EU``); a gateway with no known jurisdiction is in none.
    """
    located = [(g, gateway_jurisdiction(g, fleet)) for g in fronted_gateways(fleet)]
    names = {j for _, j in located if j} | {j.split("-")[0] for _, j in located if j}
    return {name: [g for g, j in located if j and jurisdiction_allowed(j, (name,))]
            for name in sorted(names)}


def fronted_gateways(fleet: Fleet) -> list[GatewayTarget]:
    """The fleet's gateways that have a public URL (the front's servers)."""
    return [g for g in fleet.gateways if g.public_url]


def _server_address(gateway: GatewayTarget) -> tuple[str, bool]:
    url = urlsplit(gateway.public_url)
    if url.scheme != "http" or not url.hostname or not url.port:
        raise FrontConfigError(f"gateway {gateway.name}: public_url {gateway.public_url!r} "
                               "must be http://HOST:PORT (the front speaks plain HTTP to the "
                               "gateways of its own network)")
    try:
        ipaddress.ip_address(url.hostname)
        by_name = False
    except ValueError:
        by_name = True
    return f"{url.hostname}:{url.port}", by_name


def _backend_name(jurisdiction: str) -> str:
    return "jur_" + jurisdiction.replace("-", "_")


def _json_error(status: int, message: str, condition: str = "") -> str:
    """An ``http-request return`` of a JSON error (no quote of either kind in ``message``)."""
    if "'" in message or '"' in message:
        raise FrontConfigError(f"quote in a generated error message: {message}")
    body = '{"error": "' + message + '"}'
    return (f"http-request return status {status} content-type application/json "
            f"string '{body}'" + (f" if {condition}" if condition else ""))


def _servers(gateways: list[GatewayTarget]) -> list[str]:
    lines = []
    for g in gateways:
        address, by_name = _server_address(g)
        extra = " resolvers system init-addr last,libc,none" if by_name else ""
        lines.append(f"    server {g.name} {address} check{extra}")
    return lines


def _backend(name: str, gateways: list[GatewayTarget]) -> list[str]:
    return [
        f"backend {name}",
        "    balance roundrobin",
        "    option httpchk",
        "    http-check send meth GET uri /v2/health/ready ver HTTP/1.1 hdr Host front",
        "    http-check expect status 200",
        f"    http-response set-header {GATEWAY_HEADER} %[srv_name]",
        *_servers(gateways),
        "",
    ]


def render_front_config(fleet: Fleet, binding: FrontBinding,
                        tuning: FrontTuning = FrontTuning()) -> str:
    """The HAProxy configuration fronting ``fleet``'s gateways.

    Raises:
        FrontConfigError: no gateway has a public URL, or one's URL is not ``http://H:P``.
    """
    gateways = fronted_gateways(fleet)
    if not gateways:
        raise FrontConfigError("the fleet has no gateway with a public_url: nothing to front")
    groups = {j: gs for j, gs in jurisdiction_groups(fleet).items() if gs}
    by_name = any(_server_address(g)[1] for g in gateways)
    t = tuning
    known = " ".join(sorted(groups)) or "(none)"
    lines = [
        "# Generated by `medpipe front config` from the fleet: do not edit, regenerate.",
        "global",
        "    log stderr format raw local0 notice",
        "    maxconn 4096",
        "    hard-stop-after 10s",
        *([f"    stats socket {binding.socket} mode 600 level admin",
           "    stats timeout 30s"] if binding.socket else []),
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option dontlognull",
        "    option http-buffer-request",
        f"    timeout connect {t.connect_timeout_ms}ms",
        f"    timeout client {t.client_timeout_s}s",
        f"    timeout server {t.server_timeout_s}s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 5s",
        f"    timeout check {t.connect_timeout_ms}ms",
        f"    retries {t.retries}",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response junk-response response-timeout "
        "0rtt-rejected 502 503 504",
        f"    default-server inter {t.check_interval_ms}ms fastinter "
        f"{max(100, t.check_interval_ms // 2)}ms downinter {t.check_interval_ms}ms "
        f"fall {t.fall} rise {t.rise} observe layer4 error-limit 1 on-error fastinter",
        "",
    ]
    if by_name:
        lines += ["resolvers system", "    parse-resolv-conf", "    hold valid 10s", ""]
    if binding.stats_port:
        lines += [
            "listen stats",
            f"    bind {binding.stats_host}:{binding.stats_port}",
            "    http-request use-service prometheus-exporter if { path /metrics }",
            "    stats enable",
            "    stats uri /",
            "    stats refresh 5s",
            "    stats show-legends",
            "",
        ]
    header = JURISDICTION_HEADER.lower()
    nonid = sorted(m for m in fleet.non_identifiable_models if m)
    lines += [
        "frontend callers",
        f"    bind {binding.host}:{binding.port}",
        f"    monitor-uri {FRONT_HEALTH_URI}",
        f"    acl jur_given req.fhdr_cnt({header}) eq 1",
        f"    acl jur_many req.fhdr_cnt({header}) gt 1",
        f"    acl jur_list req.fhdr({header}) -m sub ,",
    ]
    if groups:
        lines.append(f"    acl jur_known req.fhdr({header}) -m str {known}")
    if nonid:
        alternatives = "|".join(re.escape(m) for m in nonid)
        lines.append(f"    acl non_identifiable path_reg ^/v2/models/({alternatives})(/|$)")
    lines.append("    " + _json_error(
        400, f"state one jurisdiction in one {JURISDICTION_HEADER} header",
        "jur_many || jur_list"))
    missing = (f"the {JURISDICTION_HEADER} header is required: the front routes "
               "identifiable requests only to gateways in the jurisdiction of the caller "
               f"(known: {known})")
    lines.append("    " + _json_error(400, missing, "!jur_given" + (" !non_identifiable"
                                                                  if nonid else "")))
    unknown = (f"no gateway of this deployment serves the jurisdiction in "
               f"{JURISDICTION_HEADER}; known: {known}")
    lines.append("    " + _json_error(403, unknown,
                                      "jur_given" + (" !jur_known" if groups else "")))
    for j in sorted(groups):
        lines.append(f"    use_backend {_backend_name(j)} if {{ req.fhdr({header}) -m str {j} }}")
    if nonid:
        lines.append(f"    use_backend {ANY_REGION_BACKEND} if !jur_given non_identifiable")
    lines += ["    default_backend refuse", ""]
    for j, gs in sorted(groups.items()):
        lines += _backend(_backend_name(j), gs)
    if nonid:
        lines += _backend(ANY_REGION_BACKEND, gateways)
    lines += ["backend refuse",
              "    " + _json_error(403, "the front refuses this request (fail closed)"), ""]
    return "\n".join(lines)

"""IP addresses in every text form the standards define, judged by ``ipaddress``.

Candidates are runs of the characters an address is written with, in the
forms of RFC 4291 §2.2 and RFC 5952: full and compressed IPv6 (``::1``,
``2001:DB8::8:800:200C:417A`` in either case), IPv6 with an embedded IPv4
(``::ffff:192.0.2.1``), a zone id (``fe80::1%eth0``, RFC 4007 §11), in
brackets with a port (``[2001:db8::1]:8080``, RFC 3986), dotted IPv4 with a
port or a prefix length (``10.0.0.5:8443``, ``192.168.0.0/16``). Each
candidate is confirmed by Python's ``ipaddress`` (the standard decides:
``1.2.3.4.5``, ``v1.2.3.4``, a time ``10:30:45`` or a MAC address are no
address; a prefix length is checked against the family).

In the scrubber the vectorised pattern pass (``patterns``, RE2) runs first
and writes ``[IP]`` over what it recognises; what it leaves beside the mark
(a zone id, a port, a prefix length, the IPv4 tail of a mixed address, a
closing bracket) is part of the address and is taken here too, so the
output holds no piece of it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from medpipe.activities.deid.index import Span
from medpipe.contracts.pseudonymize import Placeholder

#: A run of address characters, not inside a longer word or number ("v1.2.3.4", "x1.2").
_CANDIDATE = re.compile(
    r"(?<![0-9a-z_.:%/-])(\[)?([0-9a-f]{0,4}:[0-9a-f:.]*[0-9a-f:]"
    r"|[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9]))"
    r"(%[0-9a-z_.-]*[0-9a-z])?(\])?(:[0-9]{1,5}(?![0-9]))?(/[0-9]{1,3}(?![0-9]))?"
    r"(?![0-9a-z_:]|\.[0-9])", re.IGNORECASE)
#: What the pattern pass leaves beside its ``[IP]`` mark.
_TAIL = re.compile(r"\[IP\]((?:%[0-9a-z_.-]*[0-9a-z]|(?:\.[0-9]{1,3}){3}(?![0-9])"
                   r"|\](?::[0-9]{1,5})?|:[0-9]{1,5}(?![0-9])|/[0-9]{1,3}(?![0-9]))+)",
                   re.IGNORECASE)
#: An address form, or what the pattern pass leaves beside its ``[IP]`` mark.
TRIGGER = r"[0-9a-f]?:[0-9a-f]{0,4}:|[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|\[IP\][%./:\]]"


@lru_cache(maxsize=1 << 14)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``text`` spells, if any (kept: an address recurs across a patient's notes)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _judge(m: re.Match[str]) -> bool:
    """Whether a candidate is an address in a form the standards allow."""
    bracket, body, zone, close, port, prefix = m.groups()
    if bool(bracket) != bool(close):
        return False
    addr = _address(body + (zone or ""))
    if addr is None:
        return False
    if addr.version == 4 and (zone or bracket):
        return False  # zone ids and brackets are IPv6 forms
    if addr.version == 6 and port and not bracket:
        return False  # an IPv6 port needs brackets: "::1:80" is one address, judged above
    if prefix:
        return int(prefix[1:]) <= addr.max_prefixlen and not port
    return not (body.endswith("::") and len(body) <= 2)  # "::" alone is punctuation


@dataclass(frozen=True)
class IPRule:
    """IP addresses, confirmed by ``ipaddress``."""

    name: str = "ip"
    trigger: str = TRIGGER

    def find(self, folded: str) -> list[Span]:
        """Spans of IP addresses (with their zone, port, prefix, brackets) in a folded text."""
        out: list[Span] = []
        if ":" in folded or "." in folded:
            out += [(m.start(), m.end(), Placeholder.IP) for m in _CANDIDATE.finditer(folded)
                    if _judge(m)]
        if "[IP]" in folded:
            for m in _TAIL.finditer(folded):
                start = m.start() - 1 if m.start() and folded[m.start() - 1] == "[" \
                    and "]" in m.group(1) else m.start()
                out.append((start, m.end(), Placeholder.IP))
        return out


RULE = IPRule()

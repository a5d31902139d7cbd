"""Find any of thousands of marker identifiers in large blobs, in one pass.

A leak check must look for every marker, not a sample; testing them one by one
(``m in blob`` for each) costs markers × bytes. The markers are compiled into one
regular expression shaped like a trie (shared prefixes factored out), so the scan
is one pass over the blob whatever the number of markers. Matching is
case-insensitive (a lower-cased identifier is still an identifier).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_END = -1
_Trie = dict[int, "_Trie"]


def _trie_pattern(node: _Trie) -> bytes:
    branches = [re.escape(bytes([ch])) + _trie_pattern(child)
                for ch, child in sorted(node.items()) if ch != _END]
    if not branches:
        return b""
    alternation = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
    if _END in node:  # a marker ends here and longer ones go on: prefer the longest
        return b"(?:" + alternation + b")?"
    return alternation


class MarkerScan:
    """Every marker of a set, found in a blob by one regular-expression pass."""

    def __init__(self, markers: Iterable[str]) -> None:
        """Args:
        markers: identifiers to look for (non-empty strings; compared lower-cased).
        """
        self.markers = {m.lower() for m in markers}
        if not self.markers or "" in self.markers:
            raise ValueError("MarkerScan needs non-empty markers")
        trie: _Trie = {}
        for marker in self.markers:
            node = trie
            for ch in marker.encode():
                node = node.setdefault(ch, {})
            node[_END] = {}
        self._pattern = re.compile(_trie_pattern(trie))

    def found(self, blob: bytes | str) -> set[str]:
        """The markers that occur in ``blob`` (any case)."""
        data = blob.encode() if isinstance(blob, str) else blob
        hits = {m.group().decode() for m in self._pattern.finditer(data.lower())}
        return hits & self.markers

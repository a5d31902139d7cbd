"""A trigger piece for "a word that is none of these words", in RE2 (no look-ahead).

A rule's trigger (``rules``) must select every text the rule finds something in, and
it may say more about a text than "a cue is there" when the rule rejects most of what
follows the cue: letter-forms' after-mark form reads ``[NAME] seen`` in every note of
the reference release and finds nothing there, since ``seen`` is an English word.
RE2 cannot say "a word other than ``seen``" with a look-ahead, but the words that are
none of a finite set are a regular language all the same: read along the set's trie,
such a word leaves it (a letter no listed word has at that point), or ends where no
listed word ends, or goes on past one. ``none_of`` writes that pattern.

A word here is what the rules read as one: a letter, then letters, apostrophes and
hyphens, as long as they go (``[A-Za-z][A-Za-z'-]*`` up to a character that is none of
them, or the end). Letters match in either case whatever the flags, as the rules
compare words in lower case.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

_LETTERS = string.ascii_lowercase
_INNER = _LETTERS + "'-"
#: Where a word ends: a character that cannot continue it, or the end of the text.
END = r"(?:[^A-Za-z'-]|$)"

_Trie = dict[str, "_Trie"]
_LEAF = ""  # the key that marks "a listed word ends here"


def none_of(words: Iterable[str]) -> str:
    """A pattern that matches where a word starts that is none of ``words``.

    It matches the word's beginning up to the first character that sets it apart from
    every listed word (a letter none has there, or the character after a word that
    ends short of them or goes on past one): a prefix of the word, not all of it.

    Args:
        words: words of letters, apostrophes and hyphens, starting with a letter; compared
            in lower case.

    Raises:
        ValueError: a word is empty or holds another character.
    """
    trie: _Trie = {}
    for w in words:
        low = w.lower()
        if not low or low[0] not in _LETTERS or any(c not in _INNER for c in low):
            raise ValueError(f"not a word of letters, apostrophes and hyphens: {w!r}")
        node = trie
        for c in low:
            node = node.setdefault(c, {})
        node[_LEAF] = {}
    return _branch(trie, first=True)


def _branch(node: _Trie, *, first: bool = False) -> str:
    """The words not listed below ``node`` (``first``: the word's first character, a letter)."""
    nexts = sorted(c for c in node if c != _LEAF)
    alts = []
    other = [c for c in (_LETTERS if first else _INNER) if c not in nexts]
    if other:  # leaves every listed word here: whatever follows, the word is none of them
        alts.append(_class(other))
    if _LEAF not in node and not first:  # a prefix of listed words, not one of them
        alts.append(END)
    alts += [_class([c]) + _branch(node[c]) for c in nexts]
    return "(?:" + "|".join(alts) + ")"


def _class(chars: list[str]) -> str:
    """A character class of ``chars``, letters in both cases (ranges where they run)."""
    letters = sorted(c for c in chars if c in _LETTERS)
    runs: list[tuple[str, str]] = []
    for c in letters:
        if runs and ord(c) == ord(runs[-1][1]) + 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    body = "".join(a if a == b else f"{a}-{b}" for a, b in runs)
    body += body.upper()
    body += "'" if "'" in chars else ""
    body += "-" if "-" in chars else ""  # last: a member, not a range
    return body if len(chars) == 1 and body in "'-" else f"[{body}]"

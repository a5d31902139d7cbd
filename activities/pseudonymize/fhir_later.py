"""What a FHIR batch leaves for later: tokens, date offsets and free texts, resolved together.

Why: the walk over a resource meets its values one at a time, and both costly steps are
built for columns. One free text scrubbed alone (``scrub_text``) cost ~0.75 ms on the
generated US Core exports of the tests, where the same texts as one column
(``scrub_column``, the path CSV notes and the residual check take) cost ~0.06 ms each; one
vault token cost 120 µs (known) to 470 µs (new) alone and ~3 µs in a batch of 2,000. So the
walk (``fhir``, ``fhir_values``) leaves a ``Later`` wherever such a value goes, and
``Pending.resolve`` then scrubs every text of the batch as one column, asks each tokenizer
once for its values (the patients' date offsets in the same call) and counts what changed,
in the walk's order. ``plain`` puts the values in place.

A ``Later`` is either a ``Slot`` the batch fills or a function of other values
(``Later.then``: ``Patient/`` and a token, a date moved by an offset, an attachment encoded
again), computed when first read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize.scrub import scrub_column
from medpipe.activities.pseudonymize.tokens import Tokenizer
from medpipe.contracts.pseudonymize import Action, TokenMode

Json = Any


class Later:
    """A value known once the batch is resolved: ``fn`` of ``deps`` (values or Laters)."""

    __slots__ = ("_fn", "_deps", "_value", "_done")

    def __init__(self, fn: Callable[..., Any], *deps: Any) -> None:
        self._fn = fn
        self._deps = deps
        self._done = False

    def get(self) -> Any:
        """The value (computed on first read, from the resolved ``deps``)."""
        if not self._done:
            self._value = self._fn(*(d.get() if isinstance(d, Later) else d
                                     for d in self._deps))
            self._done = True
        return self._value

    @staticmethod
    def then(fn: Callable[..., Any], *deps: Any) -> Any:
        """``fn(*deps)`` now if no dep is a ``Later``, else a ``Later`` of it."""
        if any(isinstance(d, Later) for d in deps):
            return Later(fn, *deps)
        return fn(*deps)


class Slot(Later):
    """A leaf the batch fills (a token, an offset, a scrubbed text)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(_unresolved)

    def set(self, value: Any) -> None:
        self._value = value
        self._done = True


def _unresolved() -> Any:
    raise RuntimeError("a FHIR value was read before its batch was resolved")


#: How a count's ``changed`` is decided once the batch is resolved: a flag known during
#: the walk, or the element before and after (``DROPPED`` or the new value).
Changed = bool | tuple[Json, Json]


class Pending:
    """The values one batch of resources waits for, and the counts that depend on them.

    Args:
        dropped: the walk's marker of an element left out (counts as changed).
    """

    def __init__(self, dropped: object) -> None:
        self._dropped = dropped
        self._texts: list[str] = []
        self._text_slots: list[Slot] = []
        self._tokens: dict[TokenMode, dict[str, Slot]] = {}
        self._offsets: dict[tuple[TokenMode, int], dict[str, Slot]] = {}
        self._counts: list[tuple[str, Action, Changed]] = []

    def scrub(self, text: str) -> Slot:
        """``text`` scrubbed (``scrub_column`` with the dataset's index)."""
        slot = Slot()
        self._texts.append(text)
        self._text_slots.append(slot)
        return slot

    def token(self, mode: TokenMode, value: str) -> Slot:
        """The token of ``value`` in ``mode`` (one slot per distinct value)."""
        slots = self._tokens.setdefault(mode, {})
        slot = slots.get(value)
        if slot is None:
            slot = slots[value] = Slot()
        return slot

    def offset(self, mode: TokenMode, max_days: int, patient: str) -> Slot:
        """The date offset (days) of ``patient``, from its token in ``mode``."""
        self.token(mode, patient)  # minted in the walk's order, with the other tokens
        slots = self._offsets.setdefault((mode, max_days), {})
        slot = slots.get(patient)
        if slot is None:
            slot = slots[patient] = Slot()
        return slot

    def count(self, name: str, action: Action, changed: Changed) -> None:
        """One element's figures, added to the report when the batch is resolved."""
        self._counts.append((name, action, changed))

    def resolve(self, tokenizers: dict[TokenMode, Tokenizer], index: KeyIndex,
                placeholders: Counter[str],
                count: Callable[[str, Action, int, int], None]) -> None:
        """Fill every slot (texts as one column, one tokenizer call per mode), then add
        the counts in the walk's order."""
        if self._texts:
            out = scrub_column(pa.array(self._texts, pa.string()), index, placeholders)
            for slot, text in zip(self._text_slots, out.to_pylist(), strict=True):
                slot.set(text)
        for mode, slots in self._tokens.items():
            values = list(slots)
            for slot, tok in zip(slots.values(), tokenizers[mode].tokens(values), strict=True):
                slot.set(tok)
        for (mode, max_days), slots in self._offsets.items():
            toks = [self._tokens[mode][p].get() for p in slots]
            days = tokenizers[mode].offset_days(toks, max_days)
            for slot, d in zip(slots.values(), days.tolist(), strict=True):
                slot.set(int(d))
        for name, action, changed in self._counts:
            if not isinstance(changed, bool):
                before, after = changed
                changed = after is self._dropped or plain(after) != before
            count(name, action, 1, int(changed))


def plain(value: Json) -> Json:
    """``value`` with every ``Later`` in it replaced by its value (in place for the
    containers the walk built)."""
    if isinstance(value, Later):
        return value.get()
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, Later | dict | list):
                value[k] = plain(v)
        return value
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, Later | dict | list):
                value[i] = plain(v)
        return value
    return value


__all__ = ["Later", "Pending", "Slot", "plain"]

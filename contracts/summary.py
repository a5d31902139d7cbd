"""Summaries on-call staff read in the Web UI without the codec server.

Workflow and activity summaries (``static_summary``, ``static_details``,
``summary=``) are Temporal payloads, so the payload codec would seal them like
everything else and the UI would show ciphertext where the summary should be.
A ``Summary`` is a string the payload converter marks as *clear by
construction*; the codec leaves such a payload unsealed, and seals every other
payload. Only build one from what is never patient data: model name, version,
stage, task queue, gateway, requester.
"""

from __future__ import annotations

#: Payload metadata key the converter sets on a summary payload (value b"1").
CLEAR_METADATA = "medpipe-clear-summary"
#: Longest summary left in clear (the UI shows one line; a longer text is sealed).
MAX_SUMMARY_CHARS = 400


class Summary(str):
    """A UI summary that carries no patient data, left unencrypted in history.

    The class attribute ``medpipe_clear_summary`` is what the converter looks
    for (not ``isinstance``), so a copy of this class re-imported inside the
    workflow sandbox is recognised too. A longer text is cut at
    ``MAX_SUMMARY_CHARS`` (raising would fail a workflow task over a label).
    """

    medpipe_clear_summary = True

    def __new__(cls, text: str) -> Summary:
        if len(text) > MAX_SUMMARY_CHARS:
            text = text[:MAX_SUMMARY_CHARS - 1] + "…"
        return super().__new__(cls, text)


def is_summary(value: object) -> bool:
    """Whether ``value`` is a :class:`Summary` (from any import of this module)."""
    return isinstance(value, str) and bool(getattr(type(value), "medpipe_clear_summary", False))

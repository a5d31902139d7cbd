"""Who is running a command, for the records that name a person (``requested_by``, ``by``).

``getpass.getuser()`` raises ``OSError`` (or ``KeyError`` on older Pythons)
for a uid with no passwd entry, which is how containers run arbitrary uids;
a command must not crash for that, so the name falls back to ``$USER`` and
then to ``uid:N``.
"""

from __future__ import annotations

import getpass
import os


def current_user() -> str:
    """The login name, else ``$USER``/``$LOGNAME``, else ``uid:N`` (never raises)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = ""
    if name:
        return name
    for var in ("USER", "LOGNAME"):
        if value := os.environ.get(var):
            return value
    return f"uid:{os.getuid()}"

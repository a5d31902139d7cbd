"""Which code is running: the version and the code revision, for people and for provenance.

The revision is the one value that says which commit produced a release (the
provenance statement records it) and which code answers ``medpipe
--version``. It comes from, in order:

1. ``MEDPIPE_CODE_REVISION`` (a container built without ``.git`` sets it);
2. ``git rev-parse HEAD`` when this package runs from a source checkout;
3. the value the wheel build recorded in ``medpipe/_revision.txt``
   (``setup.py`` writes it), so an installed wheel still knows its commit.

The checkout test looks for ``pyproject.toml`` beside the package folder, so
an installed copy never reports the revision of some unrelated repository
that happens to contain the virtualenv.
"""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

#: Environment variable naming the code revision (set where there is no git checkout).
REVISION_ENV = "MEDPIPE_CODE_REVISION"
#: File the wheel build writes inside the package with the revision it was built from.
BUILD_REVISION_FILE = "_revision.txt"
_PACKAGE_DIR = Path(__file__).resolve().parent
_HEX = re.compile(r"[0-9a-f]{7,64}")


def git_revision(checkout: Path) -> str | None:
    """``git rev-parse HEAD`` in ``checkout`` (None without git or outside a repository)."""
    try:
        out = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev if re.fullmatch(r"[0-9a-f]{40,64}", rev) else None


def _source_checkout() -> Path | None:
    root = _PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / ".git").exists() else None


def _built_revision() -> str | None:
    try:
        value = (_PACKAGE_DIR / BUILD_REVISION_FILE).read_text().strip()
    except OSError:
        return None
    return value if _HEX.fullmatch(value) else None


def code_revision(repo: Path | None = None) -> str | None:
    """The code revision of the running pipeline (None when nothing says it).

    Args:
        repo: a checkout to ask git in, instead of the one this package runs from.
    """
    env = os.environ.get(REVISION_ENV, "").strip()
    if env:
        return env
    checkout = repo or _source_checkout()
    if checkout is not None:
        rev = git_revision(checkout)
        if rev:
            return rev
    return _built_revision()


def version() -> str:
    """The installed distribution's version (``0+unknown`` in a never-installed tree)."""
    try:
        return metadata.version("medpipe")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def version_line() -> str:
    """``medpipe 0.1.0 (revision 1a2b3c…)``: what ``medpipe --version`` prints."""
    return f"medpipe {version()} (revision {code_revision() or 'unknown'})"

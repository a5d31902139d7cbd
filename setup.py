"""Build hook: record the code revision in the wheel, so an installed copy knows its commit.

Everything else is declared in ``pyproject.toml``. ``medpipe.revision`` reads
the file this writes when neither ``MEDPIPE_CODE_REVISION`` nor a git
checkout says which code runs. Editable installs skip it: they run from the
checkout, where git answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from medpipe.revision import BUILD_REVISION_FILE, REVISION_ENV, code_revision  # noqa: E402


class BuildWithRevision(build_py):
    """``build_py`` that also writes ``medpipe/_revision.txt`` into the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        revision = code_revision(Path(__file__).resolve().parent)
        if revision:
            target = Path(self.build_lib) / "medpipe" / BUILD_REVISION_FILE
            target.write_text(revision + "\n")
        else:
            print(f"medpipe build: no git checkout and no {REVISION_ENV}: "
                  "the wheel records no code revision", file=sys.stderr)


setup(cmdclass={"build_py": BuildWithRevision})

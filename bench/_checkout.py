"""This checkout first on ``sys.path``, before any bench module imports ``medpipe``.

Why: a bench run from a second checkout that shares another tree's virtualenv (an A/B
worktree) would otherwise import the ``medpipe`` that virtualenv's editable install points
to, and measure the other tree. Bench modules that import ``medpipe`` import this first;
not the helpers the tests import as ``bench.<module>`` (``_deid_reference``,
``_geo_ref``), where the bench folder is no path entry and their benches put it first
themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

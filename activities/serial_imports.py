"""One lock for the lazy imports that worker threads may start at the same moment.

Python serialises the import of one module across threads, but not a package whose
modules import each other: a second thread that asks for ``jsonschema.validators``
while another thread is half-way through ``jsonschema`` (which imports
``jsonschema.validators`` back) gets the partially initialised module and an
``ImportError``. A worker does this as a matter of course: its helper thread imports
great-expectations (which imports jsonschema) while a deploy activity's thread checks a
gateway's SBOM with cyclonedx's validator (which imports jsonschema too). cyclonedx
then keeps the failure as a "missing optional dependency" for the life of the process,
so every later SBOM check of that worker failed (CI, stop 33: every gateway call of
one worker failed nine times over).

The imports that can meet this way take ``SERIAL_IMPORT`` around the import of the
shared package; the package is then whole before anyone else uses it.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

#: Held while one of the packages below is imported for the first time in this process.
SERIAL_IMPORT = threading.Lock()


def import_serially(name: str) -> ModuleType:
    """``importlib.import_module(name)`` under ``SERIAL_IMPORT`` (cheap once imported)."""
    with SERIAL_IMPORT:
        return importlib.import_module(name)

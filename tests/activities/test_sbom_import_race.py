"""A gateway's SBOM checked while the worker's helper thread imports great-expectations.

Both import jsonschema, whose modules import each other; a thread asking for it while
another is half-way through got a partial module, and cyclonedx kept that as a missing
dependency for the life of the worker (CI, stop 33). The race is forced here: an import
hook holds the helper thread inside ``jsonschema._format`` until the SBOM checks start.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor

    from medpipe.activities import validate
    from medpipe.activities.sbom import runtime_sbom, validate_sbom
    from medpipe.contracts.errors import MedpipeError

    document = runtime_sbom("gateway").document
    midway = threading.Event()

    class HoldMidway:
        '''Pause the helper thread as it starts importing jsonschema._format.'''
        def find_spec(self, name, path=None, target=None):
            if name == "jsonschema._format" and \\
                    threading.current_thread().name == "medpipe-gx-import":
                midway.set()
                time.sleep(1.0)
            return None

    sys.meta_path.insert(0, HoldMidway())
    assert "jsonschema" not in sys.modules
    validate.start_gx_import()
    assert midway.wait(120), "the helper thread never reached jsonschema"

    def check(_: int) -> str:
        try:
            validate_sbom(document)
            return "ok"
        except MedpipeError as e:
            return e.message

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(check, range(3)))
    assert validate._GX_READY.wait(300)
    import great_expectations
    print(json.dumps({"sbom": results, "gx": hasattr(great_expectations, "get_context")}))
""")


def test_sbom_checks_racing_the_gx_import_all_pass() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"sbom": ["ok", "ok", "ok"], "gx": True}, (result, done.stderr[-3000:])

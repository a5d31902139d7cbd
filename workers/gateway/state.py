"""The gateway's serving state on disk: what it was last told to serve.

A restart must never be an outage: the admin API's every change is recorded here
(atomically: a crash leaves the old state or the new), and a gateway that starts
loads this state — fetching and verifying every model again — before it accepts
a single connection. A state file that cannot be read stops the start with a
message instead of serving something else.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from medpipe.activities.atomicfile import write_atomically
from medpipe.contracts.deploy import ServingState, Slot
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.workers.gateway.loader import LoadedModel, ModelLoader

log = logging.getLogger(__name__)


class ServingStateFile:
    """One gateway's ``ServingState`` as a JSON file (mode 0600: it names model URIs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> ServingState | None:
        """The recorded state, or ``None`` before the first change.

        Raises:
            InvalidInput: the file exists but is not a serving state (named, with why).
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise InvalidInput(f"serving state {self.path} cannot be read: "
                               f"{e.strerror}") from None
        try:
            return ServingState.model_validate_json(raw)
        except ValidationError as e:
            raise InvalidInput(f"serving state {self.path} is not valid: "
                               f"{e.errors()[0]['msg']} at "
                               f"{'.'.join(str(p) for p in e.errors()[0]['loc']) or 'top'}"
                               ) from None

    def write(self, state: ServingState) -> None:
        """Replace the recorded state atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(self.path, state.model_dump_json(indent=1).encode())


async def load_recorded(loader: ModelLoader, state: ServingState
                        ) -> tuple[dict[Slot, LoadedModel], dict[str, str]]:
    """Fetch and verify again every model ``state`` records (stable, canary, previous).

    Returns:
        the models that loaded, by slot; and slot -> why its model could not be
        restored (file gone, key revoked, signature no longer valid).
    """
    models: dict[Slot, LoadedModel] = {}
    problems: dict[str, str] = {}
    for slot, req in ((Slot.STABLE, state.stable), (Slot.CANARY, state.canary),
                      (Slot.PREVIOUS, state.previous)):
        if req is None:
            continue
        try:
            models[slot] = await run_in_threadpool(loader.load, req)
        except MedpipeError as e:
            problems[slot] = (f"model '{req.name}' version {req.version} could not be "
                              f"restored after a restart: {e.message}")
            log.error("%s (slot %s)", problems[slot], slot)
    return models, problems

"""Which loaded models lost their signer's trust after a trust reload."""

from __future__ import annotations

import logging

from medpipe.workers.gateway.loader import LoadedModel
from medpipe.workers.gateway.verify import ModelVerifier

log = logging.getLogger(__name__)


def distrusted(verifier: ModelVerifier, slots: dict[str, LoadedModel | None]) -> dict[str, str]:
    """Slot -> why its model must leave service now (its signing key revoked or no
    longer trusted); unsigned models (``--allow-unsigned``) and empty slots are skipped."""
    taken: dict[str, str] = {}
    for slot, model in slots.items():
        if model is None or model.key_fingerprint is None:
            continue
        why = verifier.distrust(model.key_fingerprint)
        if why is not None:
            taken[slot] = (f"model '{model.name}' version {model.version} was taken out of "
                           f"service: {why}")
            log.error("%s (slot %s)", taken[slot], slot)
    return taken

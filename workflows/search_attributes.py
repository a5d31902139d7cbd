"""Search attribute keys shown to on-call staff in the Temporal Web UI.

Search attributes are never encrypted: only names, versions, stage names,
clouds and states go here, never patient data.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

MODEL = SearchAttributeKey.for_keyword("MedpipeModel")
VERSION = SearchAttributeKey.for_keyword("MedpipeVersion")
STAGE = SearchAttributeKey.for_keyword("MedpipeStage")
CLOUD = SearchAttributeKey.for_keyword("MedpipeCloud")
STATE = SearchAttributeKey.for_keyword("MedpipeState")
WAITING = SearchAttributeKey.for_bool("MedpipeWaiting")

#: name -> temporal CLI type, for ``temporal server start-dev --search-attribute``.
DEFINITIONS: dict[str, str] = {
    MODEL.name: "Keyword",
    VERSION.name: "Keyword",
    STAGE.name: "Keyword",
    CLOUD.name: "Keyword",
    STATE.name: "Keyword",
    WAITING.name: "Bool",
}

"""Why a workflow makes no progress when codec keys do not match: name the key.

When a client and the workers hold different codec keyrings (for instance the
CLI talking to another local stack on the same ports), the workers cannot
open the workflow's input: every workflow task fails with "payload sealed
with codec key 'ck…'", and a query waits until it times out. The workers'
failure is itself sealed under *their* key, so this client cannot read it
either — but trying names that key. Either way the caller gets a message
naming a codec key id instead of "Timeout expired".
"""

from __future__ import annotations

import copy

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from medpipe.contracts.errors import KeyProviderError, MedpipeError


async def explain_stuck(client: Client, workflow_id: str) -> str | None:
    """A message naming the codec key behind the workflow's last failed task, if any.

    Returns None when the last workflow task did not fail (the workflow is
    slow, not stuck on keys) or its failure names no codec key.
    """
    handle = client.get_workflow_handle(workflow_id)
    failure = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes.failure
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            failure = None
    if failure is None:
        return None
    try:
        error = await client.data_converter.decode_failure(copy.deepcopy(failure))
    except MedpipeError as e:  # sealed under the workers' key, which we do not hold
        return (f"the workers of {workflow_id} cannot run it and their error is sealed with a "
                f"key this client lacks: {e.message}. The CLI and the workers use different "
                "codec keyrings (is another stack on the Temporal address?)")
    text = str(error)
    if "codec key" not in text:
        return None
    return f"the workers cannot read the input of {workflow_id}: {text}"


async def raise_if_undecodable(client: Client, workflow_id: str) -> None:
    """Raise ``KeyProviderError`` with ``explain_stuck``'s message when there is one."""
    reason = await explain_stuck(client, workflow_id)
    if reason is not None:
        raise KeyProviderError(reason)

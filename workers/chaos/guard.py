"""Chaos exercises refuse a production fleet: fail closed, naming the setting.

A fleet is production unless its configuration says ``environment:
non-production`` (``fleet.environment``); an exercise kills and stops the
fleet's processes, so nothing but an explicit non-production setting lets it
run.
"""

from __future__ import annotations

from medpipe.contracts.errors import AccessDenied
from medpipe.contracts.placement import Environment, Fleet


def require_non_production(fleet: Fleet, where: str = "") -> None:
    """Refuse unless ``fleet.environment`` is ``non-production``.

    Raises:
        AccessDenied: the fleet is production (the default), with the setting to change.
    """
    if fleet.environment is not Environment.NON_PRODUCTION:
        source = f" ({where})" if where else ""
        raise AccessDenied(
            f"chaos exercises refused: the fleet is {fleet.environment.value} "
            f"(fleet.environment{source}); they kill and stop the fleet's processes, so they "
            "run only on a fleet configured with `environment: non-production`")

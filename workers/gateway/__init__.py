"""The inference gateway: OIP v2 REST over onnxruntime, stable/canary slots, mTLS admin.

``serve()`` (in ``server``) is the entry point; ``python -m medpipe.workers.gateway`` and
``medpipe gateway`` run it from the command line. Names are imported on first use, so
that the command line's ``--help`` works without the gateway's extra installed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medpipe.workers.gateway.server import AdminTLS, GatewayServer, serve
    from medpipe.workers.gateway.slots import Gateway
    from medpipe.workers.gateway.verify import ModelVerifier, OMSVerifier

__all__ = ["AdminTLS", "Gateway", "GatewayServer", "ModelVerifier", "OMSVerifier", "serve"]
_WHERE = {"AdminTLS": "server", "GatewayServer": "server", "serve": "server",
          "Gateway": "slots", "ModelVerifier": "verify", "OMSVerifier": "verify"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)

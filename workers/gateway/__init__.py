"""The inference gateway: OIP v2 REST over onnxruntime, stable/canary slots, mTLS admin.

``serve()`` (in ``server``) is the entry point the ``medpipe gateway`` command calls;
``python -m medpipe.workers.gateway`` runs it from the command line.
"""

from medpipe.workers.gateway.server import AdminTLS, GatewayServer, serve
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.verify import ModelVerifier, OMSVerifier

__all__ = ["AdminTLS", "Gateway", "GatewayServer", "ModelVerifier", "OMSVerifier", "serve"]

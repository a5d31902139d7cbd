"""The inference gateway: OIP v2 REST over onnxruntime, stable/canary slots, mTLS admin.

``serve()`` (in ``server``) is the entry point the ``medpipe gateway`` command calls;
``python -m workers.gateway`` runs it from the command line.
"""

from medpipe.workers.gateway.server import AdminTLS, GatewayServer, serve
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.verify import DigestOnlyVerifier, ModelVerifier

__all__ = ["AdminTLS", "DigestOnlyVerifier", "Gateway", "GatewayServer", "ModelVerifier", "serve"]

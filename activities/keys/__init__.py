"""Key providers: one protocol, one backend per URI scheme (see ``base``)."""

from medpipe.activities.keys.base import (
    KeyProvider,
    WrappedKey,
    open_provider,
    register,
    shared_provider,
)

__all__ = ["KeyProvider", "WrappedKey", "open_provider", "register", "shared_provider"]

"""Object storage: one protocol, one adapter per URI scheme (see ``base``)."""

from medpipe.activities.storage.base import ObjectInfo, ObjectStore, open_store, register

__all__ = ["ObjectInfo", "ObjectStore", "open_store", "register"]

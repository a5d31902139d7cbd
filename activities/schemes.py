"""One scheme registry for everything opened by URI: key providers, object stores, sources.

A backend is one module that registers its class or function for a URI scheme
(``@KEYS.register("aws-kms")``). The registry knows which module implements each
scheme and imports it only when a URI of that scheme is first opened, so a
deployment without a cloud's SDK never imports it; the backend guards its SDK
import with ``require_sdk``, so a missing extra says "install medpipe[aws]"
rather than raising a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from medpipe.contracts.errors import InvalidInput

T = TypeVar("T")
D = TypeVar("D")


class SchemeRegistry(Generic[T]):
    """Backends by URI scheme, each imported from its module on first use.

    Args:
        refusal: how an unknown scheme is refused ("unknown storage scheme").
        modules: scheme -> the module that registers it.
        default_scheme: the scheme of a URI without one (None: such a URI is refused).
    """

    def __init__(self, refusal: str, modules: Mapping[str, str],
                 default_scheme: str | None = None) -> None:
        self._refusal = refusal
        self._modules = dict(modules)
        self._default = default_scheme
        self._backends: dict[str, T] = {}

    def register(self, scheme: str) -> Callable[[D], D]:
        """Decorator registering a backend (a class or a function) for ``scheme``."""

        def decorate(backend: D) -> D:
            self._backends[scheme] = backend  # type: ignore[assignment]
            return backend

        return decorate

    @property
    def schemes(self) -> list[str]:
        """Every scheme this registry can open, sorted."""
        return sorted(set(self._modules) | set(self._backends))

    def backend(self, uri: str) -> T:
        """The backend of ``uri``'s scheme, importing its module the first time.

        Raises:
            InvalidInput: the scheme is unknown, or its backend's SDK is not installed
                (the message names the extra to install).
        """
        scheme = urlsplit(uri).scheme or self._default or ""
        if scheme not in self._backends:
            module = self._modules.get(scheme)
            if module is None:
                raise InvalidInput(f"{self._refusal} '{scheme}://' in '{uri}' "
                                   f"(known: {', '.join(self.schemes)})")
            importlib.import_module(module)
        return self._backends[scheme]


def require_sdk(module: str, extra: str, distribution: str | None = None) -> object:
    """Import an optional vendor SDK, or explain which extra installs it.

    Args:
        module: the SDK module to import.
        extra: the medpipe extra that provides it.
        distribution: the package's name on PyPI when it differs from ``module``.

    Raises:
        InvalidInput: the SDK is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InvalidInput(f"{distribution or module} is not installed: "
                           f"install medpipe[{extra}]") from e

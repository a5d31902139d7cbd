"""PKCS#11 modules loaded once per process, and one logged-in session per token.

Threads. Login state in PKCS#11 belongs to the whole process (a second
``C_Login`` fails, a ``C_Logout`` on any session logs every session out), so
this module keeps one logged-in session per (module, token) for the whole
process and serialises every call on it with a lock per module. A token that
is not found triggers one re-initialisation of the module (SoftHSM only sees
tokens created after ``C_Initialize`` once re-initialised).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any

from medpipe.contracts.errors import InvalidInput, KeyProviderError, KeyUnavailable

try:
    import pkcs11
    from pkcs11 import exceptions as p11e
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise InvalidInput("python-pkcs11 is not installed: install medpipe[hsm]") from e


class Pkcs11Module:
    """One loaded PKCS#11 module: its lock and the logged-in session per token."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        try:
            self.lib = pkcs11.lib(path)
        except p11e.PKCS11Error as e:
            raise KeyUnavailable(f"PKCS#11 module {path} cannot be loaded or initialised "
                                 f"({type(e).__name__})") from e
        self.sessions: dict[str, tuple[Any, bytes]] = {}

    def reset(self) -> None:
        """Forget every session and re-initialise the module (rescans tokens)."""
        self.sessions.clear()
        try:
            self.lib.reinitialize()
        except p11e.PKCS11Error as e:
            raise KeyUnavailable(f"PKCS#11 module {self.path} cannot be re-initialised "
                                 f"({type(e).__name__})") from e

    def session(self, label: str, pin: str) -> Any:
        """The process's logged-in read/write session on token ``label`` (call under lock)."""
        pin_hash = hashlib.sha256(pin.encode()).digest()
        cached = self.sessions.get(label)
        if cached is not None:
            if not hmac.compare_digest(cached[1], pin_hash):
                raise KeyProviderError(f"token '{label}' is already open in this process "
                                       "with another PIN")
            return cached[0]
        try:
            token = self.lib.get_token(token_label=label)
        except p11e.NoSuchToken:
            self.reset()  # the token may have been created after C_Initialize
            try:
                token = self.lib.get_token(token_label=label)
            except p11e.NoSuchToken as e:
                raise KeyUnavailable(f"no token labelled '{label}' in PKCS#11 module "
                                     f"{self.path}") from e
        except p11e.MultipleTokensReturned as e:
            raise KeyProviderError(f"several tokens are labelled '{label}' in {self.path}: "
                                   "labels must be unique") from e
        try:
            session = token.open(rw=True, user_pin=pin)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange) as e:
            raise KeyProviderError(f"token '{label}' refused the user PIN") from e
        except p11e.PinLocked as e:
            raise KeyProviderError(f"token '{label}': the user PIN is locked") from e
        except p11e.UserPinNotInitialized as e:
            raise KeyProviderError(f"token '{label}' has no user PIN set") from e
        self.sessions[label] = (session, pin_hash)
        return session


_MODULES: dict[str, Pkcs11Module] = {}
_MODULES_LOCK = threading.Lock()


def loaded_module(path: str) -> Pkcs11Module:
    """The process's one ``Pkcs11Module`` for the library at ``path``."""
    with _MODULES_LOCK:
        module = _MODULES.get(path)
        if module is None:
            module = _MODULES[path] = Pkcs11Module(path)
        return module

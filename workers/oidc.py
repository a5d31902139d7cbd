"""OIDC access tokens as the Temporal Web UI forwards them to the codec server.

With ``codec.passAccessToken`` the UI sends ``Authorization: Bearer <access
token>`` (only to an ``https`` codec endpoint). A token is accepted when its
signature verifies against a key of the issuer's JWKS (found through
``/.well-known/openid-configuration``), with an asymmetric algorithm, and its
``iss``, ``aud`` and ``exp`` are right. The JWKS is cached and fetched again
when a token names an unknown ``kid`` (key rotation at the issuer), at most
once per ``refresh_s``, so unknown kids cannot make us hammer the issuer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from medpipe.contracts.errors import AccessDenied, ProviderUnavailable

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


@dataclass(frozen=True)
class OIDCSettings:
    """Which issuer and audience the codec server trusts."""

    issuer: str
    audience: str
    ca: str | None = None
    leeway_s: float = 30.0
    refresh_s: float = 60.0


class OIDCVerifier:
    """Validates access tokens against one issuer; thread-safe."""

    def __init__(self, settings: OIDCSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched = float("-inf")

    def _get(self, url: str) -> dict[str, Any]:
        verify: Any = self.settings.ca or True
        try:
            r = httpx.get(url, timeout=5.0, verify=verify, follow_redirects=False)
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as e:
            raise ProviderUnavailable(f"OIDC issuer {self.settings.issuer} did not answer "
                                      f"{url} ({type(e).__name__})") from e
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"OIDC issuer answered {url} with no JSON object")
        return data

    def _refresh(self) -> None:
        issuer = self.settings.issuer.rstrip("/")
        config = self._get(f"{issuer}/.well-known/openid-configuration")
        if config.get("issuer", "").rstrip("/") != issuer:
            raise ProviderUnavailable(f"OIDC discovery at {issuer} names another issuer "
                                      f"({config.get('issuer')!r})")
        jwks_uri = config.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ProviderUnavailable(f"OIDC discovery at {issuer} has no jwks_uri")
        keys: dict[str, Any] = {}
        for jwk in self._get(jwks_uri).get("keys", []):
            try:
                key = jwt.PyJWK.from_dict(jwk)
            except (jwt.PyJWTError, ValueError, KeyError):
                continue  # a key type we cannot use: skip it, others may serve
            keys[str(jwk.get("kid", ""))] = key
        self._keys = keys
        self._fetched = time.monotonic()

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and \
                    time.monotonic() - self._fetched >= self.settings.refresh_s:
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise AccessDenied(f"access token signed with key '{kid}', which the issuer's "
                               "JWKS does not list")
        return key

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid for this issuer and audience.

        Raises:
            AccessDenied: bad signature, algorithm, issuer, audience or expiry
                (the message says which, never the token).
            ProviderUnavailable: the issuer's discovery or JWKS does not answer.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise AccessDenied("bearer token is neither the codec token nor a JWT") from e
        if header.get("alg") not in ALGORITHMS:
            raise AccessDenied(f"access token algorithm {header.get('alg')!r} is not accepted")
        key = self._key(str(header.get("kid", "")))
        try:
            return jwt.decode(token, key.key, algorithms=[str(header["alg"])],
                              audience=self.settings.audience, issuer=self.settings.issuer,
                              leeway=self.settings.leeway_s,
                              options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError as e:
            raise AccessDenied("access token expired") from e
        except jwt.InvalidAudienceError as e:
            raise AccessDenied(f"access token is not for audience "
                               f"'{self.settings.audience}'") from e
        except jwt.InvalidIssuerError as e:
            raise AccessDenied(f"access token is not from issuer "
                               f"'{self.settings.issuer}'") from e
        except jwt.PyJWTError as e:
            raise AccessDenied(f"access token refused ({type(e).__name__})") from e


def subject_of(claims: dict[str, Any]) -> str:
    """Who the token names, for the audit log (email or username, else ``sub``)."""
    for claim in ("email", "preferred_username", "sub"):
        value = claims.get(claim)
        if isinstance(value, str) and value:
            return value
    return "unknown"

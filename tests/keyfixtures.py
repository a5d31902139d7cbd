"""Real key services for tests: moto's KMS server and SoftHSM2 tokens.

Plain context managers, so any test module can use them, plus pytest
fixtures a ``conftest.py`` or test module can re-export with
``from tests.keyfixtures import kms_endpoint, hsm_token  # noqa: F401``.

- ``moto_kms()`` starts ``ThreadedMotoServer`` on 127.0.0.1 (free port) and
  yields its endpoint URL; dummy AWS credentials are set in the environment
  for boto3 while it runs. Key URI: ``kms_key_uri(endpoint)``.
- ``softhsm_token(tmp_dir)`` initialises a fresh SoftHSM2 token and returns
  ``(key_uri, pin_env_var)``; the PIN is put in that environment variable.

Two facts the fixtures deal with:

- moto (5.2.5) ignores ``MessageType=DIGEST`` in KMS ``Sign``: it hashes the
  digest again, so signatures verify against ``sha256(digest)`` instead of the
  digest (getmoto/moto#10202, open). ``moto_kms()`` makes moto's in-process
  server honour ``DIGEST`` for ECDSA keys, as AWS documents, so the
  provider is tested against AWS's behaviour. The patch only touches
  ``DIGEST`` requests for ECDSA keys, and stays correct (merely redundant)
  once moto implements them.
- ``SOFTHSM2_CONF`` is process-wide and read at ``C_Initialize``: every
  token made by ``softhsm_token`` in one process lives in the token
  directory of the first call (one token per label).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
KMS_REGION = "us-east-1"
_DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": KMS_REGION,
}
_patch_lock = threading.Lock()
_patched = False
_softhsm_conf: Path | None = None


# -- AWS KMS on moto ----------------------------------------------------------
def _patch_moto_sign_digest() -> None:
    """Make moto's KMS ``Sign`` honour ``MessageType=DIGEST`` for ECDSA keys (AWS behaviour)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
        from moto.kms.responses import KmsResponse

        hash_for = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384(),
                    "ECDSA_SHA_512": hashes.SHA512()}
        original = KmsResponse.sign

        def sign(self: KmsResponse) -> str:
            algorithm = self._get_param("SigningAlgorithm")
            if self._get_param("MessageType") != "DIGEST" or algorithm not in hash_for:
                return original(self)
            key = self.kms_backend.describe_key(self._get_param("KeyId"))
            private = getattr(getattr(key, "private_key", None), "private_key", None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                return original(self)  # let moto report the wrong key type
            digest = self._get_param("Message")  # moto already base64-decodes it
            if len(digest) != hash_for[algorithm].digest_size:
                return original(self)
            signature = private.sign(digest, ec.ECDSA(Prehashed(hash_for[algorithm])))
            return json.dumps({"KeyId": key.arn, "SigningAlgorithm": algorithm,
                               "Signature": base64.b64encode(signature).decode()})

        KmsResponse.sign = sign  # type: ignore[method-assign]
        _patched = True


@contextlib.contextmanager
def aws_test_credentials() -> Iterator[None]:
    """Dummy AWS credentials in the environment, restored afterwards."""
    saved = {k: os.environ.get(k) for k in _DUMMY_AWS_ENV}
    os.environ.update(_DUMMY_AWS_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def moto_kms() -> Iterator[str]:
    """A moto server on 127.0.0.1 (free port); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _patch_moto_sign_digest()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    with aws_test_credentials():
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def kms_key_uri(endpoint: str, region: str = KMS_REGION) -> str:
    """The ``aws-kms://`` key URI for a moto endpoint."""
    return f"aws-kms://{region}?endpoint={endpoint}"


# -- SoftHSM2 -----------------------------------------------------------------
def softhsm_module() -> str:
    """Path of libsofthsm2.so, or a clear error saying how to install it."""
    for candidate in SOFTHSM_MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = sorted(Path("/usr/lib").rglob("libsofthsm2.so"))
    if found:
        return str(found[0])
    raise RuntimeError("libsofthsm2.so not found: apt-get install -y softhsm2")


def softhsm_token(tmp_dir: Path, label: str | None = None,
                  pin_env: str | None = None) -> tuple[str, str]:
    """Initialise a fresh SoftHSM2 token (new label, new PINs).

    The first call in a process writes ``tmp_dir/softhsm2.conf`` (token
    directory beside it) and points ``SOFTHSM2_CONF`` at it; later calls add
    their token to that same directory, whatever ``tmp_dir`` they pass:
    SoftHSM reads its configuration once per ``C_Initialize`` for the whole
    process, so switching directories would hide earlier tokens from tests
    still using them. The user PIN is put in the environment variable
    ``pin_env``; the SO PIN is random and forgotten.

    Returns:
        ``(key_uri, pin_env)``: the ``pkcs11://`` key URI and the PIN's variable.
    """
    global _softhsm_conf
    util = shutil.which("softhsm2-util")
    if util is None:
        raise RuntimeError("softhsm2-util not found: apt-get install -y softhsm2")
    with _patch_lock:
        if _softhsm_conf is None:
            tokens = Path(tmp_dir) / "softhsm-tokens"
            tokens.mkdir(parents=True, exist_ok=True)
            conf = Path(tmp_dir) / "softhsm2.conf"
            conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                            "log.level = ERROR\nslots.removable = false\n")
            _softhsm_conf = conf
        conf = _softhsm_conf
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label = label or f"medpipe-{secrets.token_hex(4)}"
    pin_env = pin_env or f"MEDPIPE_TEST_HSM_PIN_{secrets.token_hex(4).upper()}"
    pin, so_pin = secrets.token_hex(8), secrets.token_hex(8)
    result = subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        capture_output=True, text=True, timeout=60, env={**os.environ, "SOFTHSM2_CONF": str(conf)})
    if result.returncode != 0:
        raise RuntimeError(f"softhsm2-util --init-token failed: {result.stderr.strip()}")
    os.environ[pin_env] = pin
    return f"pkcs11://{softhsm_module()}?token={label}&pin-env={pin_env}", pin_env


# -- pytest fixtures (re-export them where needed) -----------------------------
@pytest.fixture(scope="session")
def kms_endpoint() -> Iterator[str]:
    """A moto KMS endpoint for the session."""
    with moto_kms() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def hsm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SoftHSM2 token directory for the session (SOFTHSM2_CONF is process-wide)."""
    return tmp_path_factory.mktemp("softhsm")


@pytest.fixture
def hsm_token(hsm_dir: Path) -> str:
    """A fresh SoftHSM2 token; yields its ``pkcs11://`` key URI."""
    key_uri, _ = softhsm_token(hsm_dir)
    return key_uri

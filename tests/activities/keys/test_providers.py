"""One contract suite over every key provider: local keyring, AWS KMS (moto), PKCS#11 (SoftHSM2).

Services are real (moto's server, a SoftHSM2 token); each test uses fresh
key names so that the session-wide services can be shared.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from medpipe.activities.keys import KeyProvider, WrappedKey, open_provider
from medpipe.contracts.errors import (
    AlreadyExists,
    InvalidInput,
    KeyProviderError,
    KeyUnavailable,
)
from tests.keyfixtures import kms_endpoint, kms_key_uri, moto_kms, softhsm_token

__all__ = ["kms_endpoint"]  # re-exported fixture

BACKENDS = ["local", "aws-kms", "pkcs11"]
CTX = {"object": "releases/r1/cohort.parquet", "release": "r1"}


@pytest.fixture(scope="module")
def hsm_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SoftHSM2 token for this module (token init and module re-init are not free)."""
    uri, _ = softhsm_token(tmp_path_factory.mktemp("softhsm"), label="contract")
    return uri


@pytest.fixture(params=BACKENDS)
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> KeyProvider:
    """An opened provider of each backend."""
    if request.param == "local":
        return open_provider(f"local://{tmp_path}/keyring.json")
    if request.param == "aws-kms":
        return open_provider(kms_key_uri(request.getfixturevalue("kms_endpoint")))
    return open_provider(request.getfixturevalue("hsm_uri"))


def fresh(prefix: str = "kek") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unknown_wrapped(provider: KeyProvider) -> WrappedKey:
    key_id = ("arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000"
              if provider.scheme == "aws-kms" else f"{fresh('missing')}#v1")
    return WrappedKey(provider=provider.scheme, key_id=key_id, wrapped=b"\x00" * 56)


# -- key-encryption keys ---------------------------------------------------------
def test_wrap_unwrap_round_trip(provider: KeyProvider) -> None:
    name = fresh()
    created = provider.create_key(name)
    data_key, wrapped = provider.new_data_key(name, CTX)
    other_key, other = provider.new_data_key(name, CTX)

    assert len(data_key) == 32 and data_key != other_key
    assert wrapped.provider == provider.scheme
    assert wrapped.key_id == created  # the exact version that wrapped it
    assert data_key not in wrapped.wrapped
    assert provider.unwrap(wrapped, CTX) == data_key
    assert provider.unwrap(other, dict(reversed(list(CTX.items())))) == other_key  # order-free


def test_context_mismatch_and_corruption_refused(provider: KeyProvider) -> None:
    name = fresh()
    provider.create_key(name)
    _, wrapped = provider.new_data_key(name, CTX)

    for context in ({**CTX, "object": "releases/r1/other.parquet"}, {**CTX, "extra": "x"},
                    {"object": CTX["object"]}):
        with pytest.raises(KeyProviderError, match="does not (unwrap|decrypt)"):
            provider.unwrap(wrapped, context)
    corrupted = wrapped.model_copy(update={
        "wrapped": wrapped.wrapped[:-1] + bytes([wrapped.wrapped[-1] ^ 1])})
    with pytest.raises(KeyProviderError):
        provider.unwrap(corrupted, CTX)


def test_unknown_key_refused(provider: KeyProvider) -> None:
    missing = fresh("missing")
    with pytest.raises(KeyProviderError, match=missing):
        provider.new_data_key(missing, CTX)
    with pytest.raises(KeyProviderError):
        provider.unwrap(unknown_wrapped(provider), CTX)
    with pytest.raises(KeyProviderError):
        provider.rotate(missing)
    with pytest.raises(KeyProviderError):
        provider.destroy(missing)


def test_wrapped_key_from_another_provider_refused(provider: KeyProvider) -> None:
    name = fresh()
    provider.create_key(name)
    _, wrapped = provider.new_data_key(name, CTX)
    foreign = wrapped.model_copy(update={"provider": "elsewhere"})
    with pytest.raises(KeyProviderError, match="elsewhere"):
        provider.unwrap(foreign, CTX)


@pytest.mark.parametrize("backend", ["local", "pkcs11"])  # a KMS key id is an ARN: one version
def test_wrapped_key_naming_no_version_refused(backend: str, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    """A wrapped key names the exact version that wrapped it; a bare name (the current
    version after a rotation) is refused rather than tried."""
    provider = open_provider(f"local://{tmp_path}/keyring.json" if backend == "local"
                             else request.getfixturevalue("hsm_uri"))
    name = fresh()
    provider.create_key(name)
    _, wrapped = provider.new_data_key(name, CTX)
    bare = wrapped.model_copy(update={"key_id": name})
    with pytest.raises(KeyProviderError, match="names no key version"):
        provider.unwrap(bare, CTX)


def test_create_twice_refused(provider: KeyProvider) -> None:
    name = fresh()
    provider.create_key(name)
    with pytest.raises(AlreadyExists, match=name):
        provider.create_key(name)


def test_rotate_keeps_old_versions_and_rewrap_moves_to_current(provider: KeyProvider) -> None:
    name = fresh()
    first = provider.create_key(name)
    old_key, old = provider.new_data_key(name, CTX)

    second = provider.rotate(name)
    assert second != first
    new_key, new = provider.new_data_key(name, CTX)
    assert new.key_id == second and old.key_id == first

    assert provider.unwrap(old, CTX) == old_key  # old objects still open
    assert provider.unwrap(new, CTX) == new_key

    moved = provider.rewrap(old, CTX)
    assert moved.key_id == second and moved.wrapped != old.wrapped
    assert provider.unwrap(moved, CTX) == old_key
    with pytest.raises(KeyProviderError):
        provider.rewrap(old, {**CTX, "object": "other"})  # rewrap checks the context too


def test_rewrap_to_another_key(provider: KeyProvider) -> None:
    source, target = fresh(), fresh()
    provider.create_key(source)
    target_id = provider.create_key(target)
    data_key, wrapped = provider.new_data_key(source, CTX)
    moved = provider.rewrap(wrapped, CTX, new_key_id=target)
    assert moved.key_id == target_id
    assert provider.unwrap(moved, CTX) == data_key


def test_destroy_makes_wrapped_keys_unrecoverable(provider: KeyProvider) -> None:
    name = fresh()
    provider.create_key(name)
    _, before_rotation = provider.new_data_key(name, CTX)
    provider.rotate(name)
    _, after_rotation = provider.new_data_key(name, CTX)

    provider.destroy(name)
    for wrapped in (before_rotation, after_rotation):  # every version is gone
        with pytest.raises(KeyProviderError, match="destroyed"):
            provider.unwrap(wrapped, CTX)
    with pytest.raises(KeyProviderError, match="destroyed"):
        provider.new_data_key(name, CTX)
    with pytest.raises(KeyProviderError, match="destroyed"):
        provider.rewrap(before_rotation, CTX)
    provider.destroy(name)  # idempotent: a retried step succeeds
    with pytest.raises(AlreadyExists):
        provider.create_key(name)  # a destroyed name is not reused


def test_concurrent_wraps_from_threads(provider: KeyProvider) -> None:
    name = fresh()
    provider.create_key(name)

    def round_trip(i: int) -> bool:
        context = {"object": f"obj-{i}"}
        data_key, wrapped = provider.new_data_key(name, context)
        return provider.unwrap(wrapped, context) == data_key

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(round_trip, range(30)))


# -- signing keys -----------------------------------------------------------------
def test_sign_digest_verifies_with_public_key(provider: KeyProvider) -> None:
    name = fresh("signer")
    provider.create_signing_key(name)
    digest = hashlib.sha256(b"model.onnx bytes").digest()
    signature = provider.sign_digest(name, digest)

    decode_dss_signature(signature)  # DER, as X.509/DSSE verifiers expect
    public = serialization.load_pem_public_key(provider.public_key_pem(name))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    public.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    with pytest.raises(InvalidSignature):
        public.verify(signature, hashlib.sha256(b"other").digest(),
                      ec.ECDSA(Prehashed(hashes.SHA256())))


def test_signing_misuse_refused(provider: KeyProvider) -> None:
    signer, kek = fresh("signer"), fresh()
    provider.create_signing_key(signer)
    provider.create_key(kek)
    with pytest.raises(InvalidInput, match="32-byte"):
        provider.sign_digest(signer, b"not a digest")
    with pytest.raises(KeyProviderError):
        provider.sign_digest(kek, hashlib.sha256(b"x").digest())
    with pytest.raises(KeyProviderError):
        provider.new_data_key(signer, CTX)
    with pytest.raises(KeyProviderError, match="missing"):
        provider.public_key_pem(fresh("missing"))
    provider.destroy(signer)
    with pytest.raises(KeyProviderError, match="destroyed"):
        provider.sign_digest(signer, hashlib.sha256(b"x").digest())


# -- backend specifics ----------------------------------------------------------------
def test_local_keyring_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "keyring.json"
    open_provider(f"local://{path}").create_key("k")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".keyring")] == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_local_keyring_readable_by_others_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keyring.json"
    provider = open_provider(f"local://{path}")
    provider.create_key("k")
    _, wrapped = provider.new_data_key("k", CTX)
    path.chmod(mode)
    with pytest.raises(KeyProviderError, match=f"mode {mode:04o}.*chmod 600"):
        open_provider(f"local://{path}")
    with pytest.raises(KeyProviderError, match="chmod 600"):
        provider.unwrap(wrapped, CTX)  # an open provider refuses it too


def test_local_keyring_shared_between_provider_instances(tmp_path: Path) -> None:
    uri = f"local://{tmp_path}/keyring.json"
    writer, reader = open_provider(uri), open_provider(uri)
    writer.create_key("k")
    data_key, wrapped = reader.new_data_key("k", CTX)
    writer.rotate("k")
    assert reader.new_data_key("k", CTX)[1].key_id == "k#v2"  # sees the rotation
    writer.destroy("k")
    with pytest.raises(KeyProviderError, match="destroyed"):
        reader.unwrap(wrapped, CTX)


def test_pkcs11_keys_are_sensitive_and_never_extractable(hsm_uri: str) -> None:
    provider = open_provider(hsm_uri)
    kek, signer = fresh(), fresh("signer")
    provider.create_key(kek)
    provider.rotate(kek)
    provider.create_signing_key(signer)
    # Inspect the token from another process, independently of the provider.
    module = hsm_uri.split("://", 1)[1].split("?", 1)[0]
    label = hsm_uri.split("token=", 1)[1].split("&", 1)[0]
    pin_env = hsm_uri.split("pin-env=", 1)[1]
    script = textwrap.dedent(f"""
        import pkcs11, sys
        from pkcs11 import Attribute, ObjectClass
        from pkcs11.exceptions import AttributeSensitive
        session = pkcs11.lib({module!r}).get_token(token_label={label!r}).open(
            user_pin=__import__("os").environ[{pin_env!r}])
        keys = [k for k in session.get_objects({{Attribute.CLASS: ObjectClass.SECRET_KEY}})
                if k.label.startswith({kek!r} + "#v")]
        keys += list(session.get_objects({{Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                           Attribute.LABEL: {signer!r}}}))
        for k in keys:
            try:
                k[Attribute.VALUE]
                leaked = True
            except AttributeSensitive:
                leaked = False
            print(k.label, k[Attribute.SENSITIVE], k[Attribute.EXTRACTABLE],
                  k[Attribute.NEVER_EXTRACTABLE], k[Attribute.ALWAYS_SENSITIVE], leaked)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    rows = sorted(line.split() for line in out.stdout.splitlines())
    assert rows == sorted([[f"{kek}#v1", "True", "False", "True", "True", "False"],
                           [f"{kek}#v2", "True", "False", "True", "True", "False"],
                           [signer, "True", "False", "True", "True", "False"]])


def test_pkcs11_pin_problems_are_clear_and_do_not_leak(hsm_uri: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    uri, pin_env = softhsm_token(tmp_path, label=f"pin-{uuid.uuid4().hex[:6]}")
    pin = os.environ[pin_env]
    monkeypatch.setenv(pin_env, "wrong-" + pin)
    with pytest.raises(KeyProviderError, match="refused the user PIN") as refused:
        open_provider(uri).create_key("k")
    assert pin not in str(refused.value)
    monkeypatch.delenv(pin_env)
    with pytest.raises(KeyProviderError, match=f"{pin_env}.*not set"):
        open_provider(uri).create_key("k")
    pin_file = tmp_path / "pin"
    pin_file.write_text(pin + "\n")
    pin_file.chmod(0o644)
    file_uri = uri.split("&pin-env=")[0] + f"&pin-file={pin_file}"
    with pytest.raises(KeyProviderError, match="chmod 600"):
        open_provider(file_uri).create_key("k")
    pin_file.chmod(0o600)
    assert open_provider(file_uri).create_key("k") == "k#v1"


def test_pkcs11_unknown_token_is_unavailable(hsm_uri: str) -> None:
    uri = hsm_uri.replace("token=contract", f"token=absent-{uuid.uuid4().hex[:6]}")
    with pytest.raises(KeyUnavailable, match="no token labelled"):
        open_provider(uri).new_data_key("k", CTX)


def test_kms_service_down_is_unavailable() -> None:
    with moto_kms() as endpoint:
        provider = open_provider(kms_key_uri(endpoint))
        provider.create_key("k")
        _, wrapped = provider.new_data_key("k", CTX)
    # The server is stopped now.
    with pytest.raises(KeyUnavailable, match="does not answer"):
        provider.new_data_key("k", CTX)
    with pytest.raises(KeyUnavailable):
        provider.unwrap(wrapped, CTX)


def test_kms_disabled_key_refused(kms_endpoint: str) -> None:
    import boto3

    provider = open_provider(kms_key_uri(kms_endpoint))
    name = fresh()
    arn = provider.create_key(name)
    _, wrapped = provider.new_data_key(name, CTX)
    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)
    key_uuid = arn.rsplit("/", 1)[1]  # moto 5.2's DisableKey takes the id, not the ARN
    kms.disable_key(KeyId=key_uuid)
    with pytest.raises(KeyProviderError, match="Disabled"):
        provider.unwrap(wrapped, CTX)
    kms.enable_key(KeyId=key_uuid)
    assert len(provider.unwrap(wrapped, CTX)) == 32


@pytest.mark.parametrize("uri", [
    "nosuch://x",
    "local://relative/keyring.json",
    "local:///tmp/k.json?x=1",
    "aws-kms://",
    "aws-kms://us-east-1?endpoint=http://x&bogus=1",
    "pkcs11:///usr/lib/softhsm/libsofthsm2.so?token=t&pin=1234",
    "pkcs11:///usr/lib/softhsm/libsofthsm2.so?token=t",
    "pkcs11:///usr/lib/softhsm/libsofthsm2.so?pin-env=X",
])
def test_malformed_key_uris_refused(uri: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_provider(uri)
    assert "1234" not in str(refused.value)


@pytest.mark.parametrize("key_id", ["", "a b", "a#v", "a#v0", "x" * 300, "é"])
def test_malformed_key_ids_refused(tmp_path: Path, key_id: str) -> None:
    provider = open_provider(f"local://{tmp_path}/keyring.json")
    with pytest.raises(InvalidInput):
        provider.new_data_key(key_id, CTX)




def test_shared_provider_is_opened_once(tmp_path: Path) -> None:
    from medpipe.activities.keys import shared_provider

    uri = f"local://{tmp_path}/keyring.json"
    assert shared_provider(uri) is shared_provider(uri)
    assert shared_provider(uri) is not open_provider(uri)

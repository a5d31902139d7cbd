"""Key providers unwrap only keys the fleet configuration lists (issue 16).

An envelope header names the key that wrapped its data key; whoever can write a
bucket writes headers. These tests forge such headers with a second real key
(a second moto KMS key, a second SoftHSM2 key) and check that the provider
refuses them by name instead of unwrapping.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest

from medpipe.activities.envelope import decrypt_stream, encrypt_stream
from medpipe.activities.keys import open_provider
from medpipe.contracts.errors import KeyProviderError
from tests.keyfixtures import KMS_REGION, kms_endpoint, kms_key_uri, softhsm_token

__all__ = ["kms_endpoint"]  # re-exported fixture

CTX = {"object": "vault/v2.sealed", "release": "r1"}


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_kms_envelope_under_an_unlisted_key_is_refused_naming_it(kms_endpoint: str) -> None:
    fleet_key = _name("kek")
    fleet = open_provider(kms_key_uri(kms_endpoint) + f"&allow={fleet_key}")
    fleet.create_key(fleet_key)
    # The forger's own key: a plain KMS key in the account, not listed by the fleet.
    kms = boto3.client("kms", region_name=KMS_REGION, endpoint_url=kms_endpoint)
    forger_arn = kms.create_key(KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    forger = open_provider(kms_key_uri(kms_endpoint) + f"&allow={forger_arn}")
    forged = b"".join(encrypt_stream(iter([b"tokens of someone else"]), object_id=CTX["object"],
                                     provider=forger, key_id=forger_arn, context=CTX))
    genuine = b"".join(encrypt_stream(iter([b"real vault"]), object_id=CTX["object"],
                                      provider=fleet, key_id=fleet_key, context=CTX))

    assert b"".join(decrypt_stream(iter([genuine]), object_id=CTX["object"], provider=fleet,
                                   context=CTX)) == b"real vault"
    with pytest.raises(KeyProviderError, match="not one the fleet configuration lists") as e:
        b"".join(decrypt_stream(iter([forged]), object_id=CTX["object"], provider=fleet,
                                context=CTX))
    assert forger_arn in str(e.value)


def test_kms_rotated_versions_of_a_listed_key_still_unwrap(kms_endpoint: str) -> None:
    name = _name("kek")
    fleet = open_provider(kms_key_uri(kms_endpoint) + f"&allow={name}")
    fleet.create_key(name)
    data_key, before = fleet.new_data_key(name, CTX)
    fleet.unwrap(before, CTX)  # resolves the allowed set (v1 only)
    fleet.rotate(name)
    new_key, after = fleet.new_data_key(name, CTX)
    assert after.key_id != before.key_id
    assert fleet.unwrap(after, CTX) == new_key
    assert fleet.unwrap(before, CTX) == data_key


def test_kms_without_allow_refuses_keys_medpipe_did_not_create(kms_endpoint: str) -> None:
    provider = open_provider(kms_key_uri(kms_endpoint))
    kms = boto3.client("kms", region_name=KMS_REGION, endpoint_url=kms_endpoint)
    arn = kms.create_key(KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    _, wrapped = provider.new_data_key(arn, CTX)
    with pytest.raises(KeyProviderError, match=f"'{arn}' is not one the fleet"):
        provider.unwrap(wrapped, CTX)


def test_pkcs11_envelope_under_an_unlisted_label_is_refused(tmp_path: Path) -> None:
    uri, _ = softhsm_token(tmp_path, label="allow")
    other = open_provider(uri)
    other.create_key("intruder")
    forged = b"".join(encrypt_stream(iter([b"x" * 100]), object_id=CTX["object"],
                                     provider=other, key_id="intruder", context=CTX))
    fleet = open_provider(uri + "&allow=medpipe-data")
    with pytest.raises(KeyProviderError, match="key 'intruder' .* not one the fleet"):
        b"".join(decrypt_stream(iter([forged]), object_id=CTX["object"], provider=fleet,
                                context=CTX))

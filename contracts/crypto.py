"""References to customer-held keys and to encrypted objects (never key material)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KeySettings(BaseModel):
    """Which customer-held keys a deployment uses (BYOK/BYOHSM).

    Attributes:
        key_uri: the key provider (``local:///…/keyring.json``,
            ``aws-kms://REGION``, ``pkcs11:///…/module.so?token=…&pin-env=…``);
            empty means artifacts are stored unencrypted (tests of other
            concerns only: a deployment configures one).
        data_key_id: key-encryption key that wraps every artifact's data key.
        signing_key_id: ECDSA P-256 key that signs models, provenance and the ledger.
    """

    model_config = ConfigDict(frozen=True)

    key_uri: str = ""
    data_key_id: str = Field(default="medpipe-data", pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    signing_key_id: str = Field(default="medpipe-signing",
                                pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")

    @property
    def enabled(self) -> bool:
        """Whether artifacts are envelope-encrypted."""
        return bool(self.key_uri)


class EncryptionRef(BaseModel):
    """How a stored artifact was sealed: enough to open it with the customer's key.

    The object id and release id are bound into the container (AAD and key
    wrapping context): a ciphertext moved to another key or release fails.
    """

    model_config = ConfigDict(frozen=True)

    key_uri: str
    object_id: str
    release_id: str

    @property
    def context(self) -> dict[str, str]:
        """The wrapping context bound to the data key."""
        return {"release_id": self.release_id}

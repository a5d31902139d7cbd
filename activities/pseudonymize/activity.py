"""The pseudonymize stage: decrypt → pseudonymize → encrypt, without plaintext on disk.

The token vault lives in the fleet's vault bucket (home jurisdiction) as
versioned, envelope-encrypted objects: ``vault/v<n>.sealed``, each written
with a conditional create, so two releases updating it at once cannot
lose each other's tokens (the loser retries on the new version). The HMAC
token key is a data key wrapped by the customer's key, kept beside it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass

from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.digestkey import seal_digest_key
from medpipe.activities.envelope import decrypt_bytes, encrypt_bytes
from medpipe.activities.keys import shared_provider
from medpipe.activities.progress import heartbeating, keeps_alive
from medpipe.activities.pseudonymize.policy import (
    default_fhir_policy,
    default_policy,
    inline_policy_text,
    parse_policy,
)
from medpipe.activities.pseudonymize.run import Pseudonymizer, detect_format
from medpipe.activities.pseudonymize.tokens import Vault
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.sources import open_source
from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import InvalidInput, Transient
from medpipe.contracts.names import ActivityName
from medpipe.contracts.pseudonymize import (
    Policy,
    PseudonymizeInput,
    PseudonymizeResult,
    TokenMode,
)

_VERSION = re.compile(r"^vault/v(\d{12})\.sealed$")
_CONTEXT = {"purpose": "pseudonymization-vault"}
#: The HMAC token key, sealed like a vault version (``activities.rotation`` re-wraps both).
HMAC_KEY_OBJECT = "vault/hmac-token-key.sealed"


class SealedVaultStore:
    """Load/save callables for ``Vault``: versioned, sealed, conditionally created."""

    def __init__(self, store: ObjectStore, keys: KeySettings) -> None:
        if not keys.enabled:
            raise InvalidInput("the pseudonymization vault holds identifiers: configure a key "
                               "provider (fleet.keys.key_uri) to seal it")
        self.store, self.keys = store, keys
        self.provider = shared_provider(keys.key_uri)
        self.version = 0

    def load(self) -> bytes | None:
        """The newest vault version, decrypted (None when there is none yet)."""
        versions = [int(m.group(1)) for o in self.store.list("vault/")
                    if (m := _VERSION.match(o.key))]
        if not versions:
            return None
        self.version = max(versions)
        key = f"vault/v{self.version:012d}.sealed"
        return decrypt_bytes(b"".join(self.store.get(key)), object_id=key,
                             provider=self.provider, context=_CONTEXT)

    def save(self, data: bytes) -> None:
        """Write the next version; refuse (retryably) if another release got there first."""
        key = f"vault/v{self.version + 1:012d}.sealed"
        blob = encrypt_bytes(data, object_id=key, provider=self.provider,
                             key_id=self.keys.data_key_id, context=_CONTEXT)
        if not self.store.create_if_absent(key, blob):
            raise Transient("the token vault was updated by another release meanwhile; "
                            "retrying on the new version")
        self.version += 1

    def hmac_key(self) -> bytes:
        """The HMAC token key: created once, sealed under the customer's key like the vault
        (so key rotation re-wraps it with the rest)."""
        key = HMAC_KEY_OBJECT
        if not self.store.exists(key):
            blob = encrypt_bytes(secrets.token_bytes(32), object_id=key, provider=self.provider,
                                 key_id=self.keys.data_key_id, context=_CONTEXT)
            self.store.create_if_absent(key, blob)  # a concurrent creator's key wins
        return decrypt_bytes(b"".join(self.store.get(key)), object_id=key,
                             provider=self.provider, context=_CONTEXT)


def load_policy_from(uri: str | None, fmt: str, ctx: WorkerContext) -> Policy:
    """The release's policy (YAML at ``uri``, or inline in it), or the default for the
    data's format."""
    if uri is None:
        return default_fhir_policy() if fmt in ("ndjson", "bundle") else default_policy()
    inline = inline_policy_text(uri)
    if inline is not None:
        return parse_policy(inline, source="inline policy (release spec)")
    try:
        text = b"".join(open_source(uri, ctx.source_tls)).decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInput(f"policy {uri} is not UTF-8 text") from e
    return parse_policy(text, source=uri)


@dataclass(frozen=True)
class RunSetup:
    """What every pseudonymize activity (one-activity run, learn, shard) opens with.

    Attributes:
        format: the dataset's format (from its key).
        policy: the release's policy, or the default for that format.
        vault_store: the sealed vault of ``vault_uri`` (not loaded yet).
        hmac_key: the HMAC token key when the policy uses HMAC tokens, else None.
    """

    format: str
    policy: Policy
    vault_store: SealedVaultStore
    hmac_key: bytes | None

    def policy_sha256(self) -> str:
        """The policy's digest (canonical JSON), recorded in the result and provenance."""
        return hashlib.sha256(json.dumps(self.policy.model_dump(mode="json"),
                                         sort_keys=True).encode()).hexdigest()


def open_run(inp: PseudonymizeInput, ctx: WorkerContext) -> RunSetup:
    """The format, policy, vault and HMAC key of a pseudonymize activity's input.

    One function for the three activities that pseudonymize, so a learn pass and its
    shards can never read the policy or the vault differently from the one-activity run.

    Raises:
        InvalidInput: no key provider (the vault holds identifiers), or a bad policy.
    """
    fmt = detect_format(inp.dataset.key)
    policy = load_policy_from(inp.policy_uri, fmt, ctx)
    vault_store = SealedVaultStore(open_store(inp.vault_uri), inp.keys)
    modes = policy.modes() | {policy.token_mode}
    return RunSetup(format=fmt, policy=policy, vault_store=vault_store,
                    hmac_key=vault_store.hmac_key() if TokenMode.HMAC in modes else None)


class PseudonymizeActivities:
    """The pseudonymize activity bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.PSEUDONYMIZE)
    @translate_errors
    @keeps_alive("pseudonymize")
    def pseudonymize(self, inp: PseudonymizeInput) -> PseudonymizeResult:
        """Pseudonymize the ingested dataset into this worker's store (sealed)."""
        setup = open_run(inp, self.ctx)
        fmt, vault_store = setup.format, setup.vault_store
        suffix = inp.dataset.key.rpartition(".")[2]
        out_key = f"releases/{inp.release_id}/pseudonymized/{inp.dataset.name}.{suffix}"
        # the index is digested under the residual check's key (its digests are the check's)
        digest_key, key_header = seal_digest_key(inp.keys, inp.release_id)  # key not stored
        with self.ctx.cores.take() as cores:  # chunks on this many processes (1: this thread)
            run = Pseudonymizer(setup.policy, Vault(vault_store.load, vault_store.save),
                                setup.hmac_key, source=inp.dataset.name, processes=cores,
                                digest_key=digest_key)
            # first pass: every patient's identifiers, so no note keeps one because of
            # file order; a dataset small enough is kept parsed for the second one
            run.learn(heartbeating(open_plain(inp.dataset), "pseudonymize: indexing"), fmt,
                      keep=True)
            again = () if run.holds_input else open_plain(inp.dataset)
            chunks = run.stream(heartbeating(again, f"pseudonymize ({cores} processes)"), fmt)
            dataset = store_sealed(self.ctx.store, out_key, chunks, name="dataset",
                                   release_id=inp.release_id, keys=inp.keys)
        assert run.report is not None
        report_json = run.report.model_dump_json(indent=2).encode()
        report_ref = store_sealed(
            self.ctx.store, f"releases/{inp.release_id}/reports/pseudonymize-"
            f"{hashlib.sha256(report_json).hexdigest()[:12]}.json", [report_json],
            name="pseudonymize-report", release_id=inp.release_id, keys=KeySettings())
        digests_ref = store_sealed(
            self.ctx.store, f"releases/{inp.release_id}/pseudonymized/identifier-digests-"
            f"{secrets.token_hex(6)}.bin",
            itertools.chain([key_header], run.identifier_digest_parts(digest_key)),
            name="identifier-digests", release_id=inp.release_id, keys=inp.keys)
        policy_sha = setup.policy_sha256()
        queue = activity.info().task_queue if activity.in_activity() else ""
        return PseudonymizeResult(dataset=dataset, report=run.report, report_ref=report_ref,
                                  policy_sha256=policy_sha, identifier_digests=digests_ref,
                                  ran_on=self.ctx.ran_on(task_queue=queue))

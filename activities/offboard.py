"""Offboarding with proof: return every artifact decrypted, then crypto-shred, delete, certify.

Order, each step only after the previous one fully succeeded (fail closed:
an export that fails leaves everything stored and every key alive):

1. **plan**: the releases of the model (from the ledger's ``release-started``
   entries, so ``risk`` never matches ``risk-v2``'s releases), or every
   release, the vault and the registry for a whole tenant (a deployment);
   then every object under ``releases/<id>/`` in every profile store.
2. **export** (data return): each object, decrypted when it is an envelope,
   to ``TARGET/<cloud>-<region>/<key>``, then a ``manifest.json`` with the
   SHA-256 and size of every clear object; each write's digest is compared
   with the digest of what was read.
3. **crypto-shred**: the key-encryption keys that wrapped the exported
   objects are destroyed (``KeyProvider.destroy``, as ``keys shred``) *only*
   when no object left in the fleet still uses them: a data key shared with
   other models is kept, and the certificate says so and why.
4. **delete** the objects.
5. **certificate of destruction**: a ``offboarded`` ledger entry (signed,
   hash-chained) naming what, where, the target, key ids destroyed and kept,
   object counts, the manifest's digest and who confirmed; also written to
   the target beside the data.

The certificate holds object counts, store URIs (credentials stripped), key
ids and digests: no patient data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from medpipe.activities.envelope import MAGIC, decrypt_stream, read_header
from medpipe.activities.keys.base import KeyProvider, split_version
from medpipe.activities.rotation import HEADER_PEEK, context_for_key
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.signing.provenance import _clean_uri
from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.contracts.errors import IntegrityError, InvalidInput, MedpipeError, NotFound
from medpipe.contracts.placement import Fleet

KIND = "offboarded"
_RELEASE = re.compile(r"^releases/([^/]+)/")


@dataclass
class StoredObject:
    """One object to return and destroy."""

    area: str
    store: ObjectStore
    key: str


@dataclass
class OffboardPlan:
    """What an offboarding covers."""

    scope: dict[str, str]
    releases: list[str]
    objects: list[StoredObject] = field(default_factory=list)

    def stores(self) -> dict[str, int]:
        """Object count per store (credentials stripped from the URIs)."""
        out: dict[str, int] = {}
        for o in self.objects:
            uri = _clean_uri(o.store.bucket_uri)
            out[uri] = out.get(uri, 0) + 1
        return out


def _areas(fleet: Fleet) -> Iterator[tuple[str, ObjectStore]]:
    for p in fleet.profiles:
        yield f"{p.cloud.value}-{p.region}", open_store(p.store_uri)


def plan_offboarding(fleet: Fleet, ledger: Ledger, *, model: str | None = None,
                     tenant: str | None = None) -> OffboardPlan:
    """The releases and objects of ``model``, or of the whole deployment for ``tenant``."""
    if (model is None) == (tenant is None):
        raise InvalidInput("offboard one --model or one --tenant")
    started = [e for e in ledger.entries() if e.kind == "release-started"]
    if model is not None:
        releases = sorted({e.release_id for e in started if e.payload.get("model") == model})
        if not releases:
            raise NotFound(f"the ledger records no release of model {model!r}")
    else:
        releases = sorted({e.release_id for e in started})
    plan = OffboardPlan(scope={"model": model} if model else {"tenant": str(tenant)},
                        releases=releases)
    wanted = set(releases)
    for area, store in _areas(fleet):
        for info in store.list("releases/"):
            m = _RELEASE.match(info.key)
            if m and m.group(1) in wanted:
                plan.objects.append(StoredObject(area, store, info.key))
    if tenant is not None:  # the whole deployment: the token vault and the registry too
        for area, uri in (("vault", fleet.vault_uri), ("registry", fleet.registry_uri)):
            if uri:
                store = open_store(uri)
                plan.objects += [StoredObject(area, store, i.key) for i in store.list("")]
    return plan


def _peek(store: ObjectStore, key: str) -> bytes:
    head = b""
    for chunk in store.get(key):
        head += chunk
        if len(head) >= HEADER_PEEK:
            break
    return head[:HEADER_PEEK]


def _kek(store: ObjectStore, key: str) -> str | None:
    """The key-encryption key (name, unversioned) of an envelope; None for clear objects."""
    head = _peek(store, key)
    if not head.startswith(MAGIC):
        return None
    key_id = read_header(head, object_id=key).wrapped.key_id
    try:
        return split_version(key_id)[0] if "#" in key_id else key_id
    except InvalidInput:
        return key_id


def _plain(obj: StoredObject, provider: KeyProvider) -> Iterable[bytes]:
    if not _peek(obj.store, obj.key).startswith(MAGIC):
        return obj.store.get(obj.key)
    context = context_for_key(obj.key)
    if context is None:
        raise IntegrityError(f"{obj.key} is sealed with a context no writer uses: cannot "
                             "return it decrypted")
    return decrypt_stream(obj.store.get(obj.key), object_id=obj.key, provider=provider,
                          context=context)


class _Digest:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks, self.sha, self.size = chunks, hashlib.sha256(), 0

    def __iter__(self) -> Iterator[bytes]:
        for c in self.chunks:
            self.sha.update(c)
            self.size += len(c)
            yield c


def export(plan: OffboardPlan, target: ObjectStore, provider: KeyProvider) -> dict[str, Any]:
    """Write every object of ``plan`` in clear to ``target``; returns the manifest."""
    files: dict[str, dict[str, Any]] = {}
    for obj in plan.objects:
        name = f"{obj.area}/{obj.key}"
        plain = _Digest(_plain(obj, provider))
        info = target.put(name, plain)
        if info.sha256 != plain.sha.hexdigest() or info.size != plain.size:
            raise IntegrityError(f"export of {name} to {_clean_uri(target.bucket_uri)} did "
                                 "not store what was read")
        files[name] = {"sha256": info.sha256, "size": info.size}
    manifest = {"scope": plan.scope, "releases": plan.releases, "files": files}
    target.put("manifest.json", [json.dumps(manifest, indent=2, sort_keys=True).encode()])
    return manifest


def _keys_in_use(fleet: Fleet, excluded: set[tuple[str, str]]) -> set[str]:
    """KEKs still wrapping objects outside the plan (they must survive the shred)."""
    used: set[str] = set()
    stores = [s for _, s in _areas(fleet)]
    stores += [open_store(u) for u in (fleet.vault_uri, fleet.registry_uri) if u]
    for store in stores:
        for info in store.list(""):
            if (store.bucket_uri, info.key) in excluded:
                continue
            kek = _kek(store, info.key)
            if kek:
                used.add(kek)
    return used


def shred_and_delete(plan: OffboardPlan, fleet: Fleet,
                     provider: KeyProvider) -> tuple[list[str], dict[str, str], int]:
    """Destroy the plan's KEKs no other object uses, then delete its objects.

    Returns:
        (keys destroyed, keys kept with the reason, objects deleted).
    """
    keks = {k for o in plan.objects if (k := _kek(o.store, o.key))}
    mine = {(o.store.bucket_uri, o.key) for o in plan.objects}
    shared = _keys_in_use(fleet, mine) & keks
    destroyed = sorted(keks - shared)
    for key_id in destroyed:
        provider.destroy(key_id)
    for obj in plan.objects:
        obj.store.delete(obj.key)
    kept = {k: "also wraps data outside this offboarding (other models or the vault): its "
            "objects here were deleted, the key was not destroyed" for k in sorted(shared)}
    return destroyed, kept, len(plan.objects)


def certificate(plan: OffboardPlan, manifest: dict[str, Any], target_uri: str,
                destroyed: list[str], kept: dict[str, str], deleted: int,
                confirmed_by: str, authority: str = "") -> dict[str, Any]:
    """The certificate of destruction (the ledger entry's payload)."""
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    return {"scope": plan.scope, "releases": plan.releases,
            "where": plan.stores(), "exported_to": _clean_uri(target_uri),
            "objects": {"exported": len(manifest["files"]), "deleted": deleted,
                        "bytes_exported": sum(f["size"] for f in manifest["files"].values())},
            "manifest_sha256": hashlib.sha256(body).hexdigest(),
            "keys_destroyed": destroyed, "keys_kept": kept,
            "confirmed_by": confirmed_by,
            "authority": authority or "one administrator with --confirm"}


def offboard(fleet: Fleet, ledger: Ledger, provider: KeyProvider, target_uri: str, *,
             confirmed_by: str, model: str | None = None,
             tenant: str | None = None, authority: str = "") -> dict[str, Any]:
    """Run the whole offboarding (see module doc); returns the certificate."""
    plan = plan_offboarding(fleet, ledger, model=model, tenant=tenant)
    if not plan.objects:
        raise NotFound(f"nothing stored for {plan.scope}: nothing to offboard")
    target = open_store(target_uri)
    try:
        manifest = export(plan, target, provider)
    except (MedpipeError, OSError) as e:
        why = e.message if isinstance(e, MedpipeError) else f"{type(e).__name__}: {e}"
        raise MedpipeError(f"export failed, nothing was deleted or shredded: {why}") from e
    destroyed, kept, deleted = shred_and_delete(plan, fleet, provider)
    cert = certificate(plan, manifest, target_uri, destroyed, kept, deleted, confirmed_by,
                       authority)
    scope = model or tenant
    entry = ledger.append(KIND, f"offboard-{scope}", cert,
                          f"offboard/{scope}/{cert['manifest_sha256']}")
    cert = {**cert, "ledger": {"seq": entry.seq, "entry_hash": entry.entry_hash}}
    target.put("certificate-of-destruction.json",
               [json.dumps(cert, indent=2, sort_keys=True).encode()])
    return cert

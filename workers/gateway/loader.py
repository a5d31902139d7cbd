"""Fetch, verify and open a model: nothing serves until its digest and signature check out.

A model is read only from the configured roots (local directories or object-store
URI prefixes; ``--model-root``), so the admin port cannot be used to open any file
the process can read. The file is copied into the gateway's private cache while
hashing (so the bytes that were verified are the bytes onnxruntime opens,
whatever happens to the source afterwards), compared with the digest in the
request, verified by the ``ModelVerifier`` against its signature bundle and the
identity the admin asked for, and only then opened in an onnxruntime session with
explicit providers. Without a verifier or a bundle nothing loads, unless the
gateway was started with ``allow_unsigned`` (development only, said loudly).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import onnxruntime as ort

from medpipe.contracts.deploy import LoadModelRequest, Slot, SlotStatus, TensorInfo
from medpipe.contracts.errors import (
    AccessDenied,
    InvalidInput,
    InvalidModel,
    NotFound,
    SignatureInvalid,
)
from medpipe.contracts.prediction import PredictionProfile
from medpipe.workers.gateway.predictions import Predictions
from medpipe.workers.gateway.tensors import OIP_TO_NUMPY, ONNX_TO_OIP, InputSpec, onnx_dims
from medpipe.workers.gateway.verify import ModelVerifier

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024


def choose_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, CPU always (explicit, never implied)."""
    available = ort.get_available_providers()
    providers = ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []
    return providers + ["CPUExecutionProvider"]


@dataclass(frozen=True)
class LoadedModel:
    """An open session plus the identity and signature it was loaded with."""

    name: str
    version: str
    sha256: str
    provider: str
    session: ort.InferenceSession
    inputs: dict[str, InputSpec]
    outputs: list[TensorInfo]
    output_names: list[str]
    signature_verified: bool
    key_fingerprint: str | None = None
    #: the request it was loaded with (recorded in the serving state, replayed at start)
    source: LoadModelRequest | None = None
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    score_output: str | None = None
    label_output: str | None = None
    #: class labels the graph names, in the probability output's order
    classes: tuple[str, ...] | None = None

    @property
    def prediction(self) -> PredictionProfile | None:
        """How the release said to record this model's predictions (None: not said)."""
        return self.source.prediction if self.source is not None else None

    def scores(self, names: list[str], arrays: list[Any]) -> Predictions | None:
        """This response's predictions, for the prediction distribution.

        Converters put the predicted label first (skl2onnx, onnxmltools): the
        distribution is read from the probabilities / ZipMap / score output
        instead (the label output only for a class count without them), when
        the request returned it; None otherwise.
        """
        name = self.score_output or self.output_names[0]
        out = arrays[names.index(name)] if name in names else None
        labels = arrays[names.index(self.label_output)] \
            if self.label_output is not None and self.label_output in names else None
        if out is None and labels is None:
            return None
        return Predictions(out, labels, self.classes)

    def __post_init__(self) -> None:
        # On CPU alone, call the session's C++ ``run`` directly: the Python wrapper's
        # extra work (checking input names, which ``decode_request`` did; re-running on
        # the CPU after a CUDA EPFail, moot without CUDA) is a third of a small run.
        raw = getattr(self.session, "_sess", None)
        direct = raw.run if raw is not None and self.session.get_providers() == [
            "CPUExecutionProvider"] else None
        object.__setattr__(self, "_direct_run", direct)

    def run(self, output_names: list[str] | None,
            feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the session (thread-safe: onnxruntime sessions allow concurrent runs)."""
        direct = self._direct_run  # type: ignore[attr-defined]
        if direct is not None:
            return direct(output_names or self.output_names, feeds, None)  # type: ignore[no-any-return]
        return self.session.run(output_names, feeds)

    def status(self, slot: Slot) -> SlotStatus:
        """Public description of this model in ``slot``."""
        return SlotStatus(slot=slot, name=self.name, version=self.version, sha256=self.sha256,
                          provider=self.provider, loaded_at=self.loaded_at,
                          inputs=[s.info() for s in self.inputs.values()],
                          outputs=self.outputs, signature_verified=self.signature_verified,
                          source=self.source)


class ModelLoader:
    """Turns a ``LoadModelRequest`` into a verified ``LoadedModel`` (blocking: call off-loop)."""

    def __init__(self, cache_dir: Path, providers: list[str] | None = None,
                 verifier: ModelVerifier | None = None, *, model_roots: Sequence[str | Path] = (),
                 allow_unsigned: bool = False, intra_op_threads: int = 1) -> None:
        """Args:
        cache_dir: private directory for verified model copies.
        providers: onnxruntime providers (default: ``choose_providers()``).
        verifier: signature verifier; without one only ``allow_unsigned`` loads anything.
        model_roots: directories and object-store URI prefixes models may come from.
        allow_unsigned: load models without a verified signature (development only).
        intra_op_threads: threads per ``run``; 1 suits many small concurrent requests.
        """
        self.cache_dir = cache_dir
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.providers = providers or choose_providers()
        self.verifier = verifier
        self.roots = ModelRoots(model_roots)
        self.allow_unsigned = allow_unsigned
        self.intra_op_threads = intra_op_threads

    def load(self, req: LoadModelRequest, providers: list[str] | None = None) -> LoadedModel:
        """Fetch, digest-check, verify and open the model of ``req``.

        Args:
            req: what to load.
            providers: onnxruntime providers for this model only (default: the loader's).

        Raises:
            InvalidInput: the URI scheme is unknown.
            AccessDenied: the model or bundle lies outside the configured roots.
            NotFound: the model or bundle does not exist.
            SignatureInvalid: digest mismatch, the signature is missing or invalid, or
                it was made for another model, version or release.
            InvalidModel: the file is not a loadable ONNX model.
        """
        self.roots.check(req.model_uri, "model")
        if req.bundle_uri:
            self.roots.check(req.bundle_uri, "signature bundle")
        model_path, digest = self._fetch(req.model_uri, "model.onnx")
        try:
            if digest != req.sha256:
                raise SignatureInvalid(
                    f"model {req.name} {req.version}: file digest sha256:{digest[:16]}… does "
                    f"not match the expected sha256:{req.sha256[:16]}…")
            bundle_path = self._fetch(req.bundle_uri, "bundle.json")[0] if req.bundle_uri else None
            fingerprint = self._verify(req, model_path, bundle_path)
            return self._open(req, model_path, fingerprint, providers or self.providers)
        finally:
            model_path.unlink(missing_ok=True)

    def _verify(self, req: LoadModelRequest, model_path: Path,
                bundle_path: Path | None) -> str | None:
        """The signing key's fingerprint, or ``None`` for an unsigned model we may load."""
        try:
            if self.verifier is None or bundle_path is None:
                if self.allow_unsigned:
                    log.warning("LOADING UNSIGNED MODEL %s %s: this gateway runs with "
                                "--allow-unsigned (development only)", req.name, req.version)
                    return None
                raise SignatureInvalid(
                    f"model {req.name} {req.version} refused: this gateway requires signed "
                    + ("models and none was given" if self.verifier is not None
                       else "models but has no trusted key configured (--trusted-key)"))
            expected = {"model": req.name, "version": req.version}
            if req.release_id is not None:
                expected["release_id"] = req.release_id
            return self.verifier.verify(model_path, bundle_path, expected)
        finally:
            if bundle_path is not None:
                bundle_path.unlink(missing_ok=True)

    def _open(self, req: LoadModelRequest, path: Path, fingerprint: str | None,
              providers: list[str]) -> LoadedModel:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), sess_options=options,
                                           providers=providers)
        except Exception as e:  # onnxruntime raises several private exception types
            raise InvalidModel(f"model {req.name} {req.version} is not a loadable ONNX model: "
                               f"{str(e)[:300]}") from None
        inputs = {}
        for i in session.get_inputs():
            datatype = ONNX_TO_OIP.get(i.type, i.type)
            inputs[i.name] = InputSpec(i.name, datatype, OIP_TO_NUMPY.get(datatype),
                                       onnx_dims(i.shape))
        outputs = [InputSpec(o.name, ONNX_TO_OIP.get(o.type, o.type), None,
                             onnx_dims(o.shape)).info() for o in session.get_outputs()]
        provider = session.get_providers()[0]
        score_output, label_output, classes = _prediction_outputs(session, path)
        _warm_up(session, inputs)
        log.info("opened model %s %s on %s", req.name, req.version, provider)
        return LoadedModel(name=req.name, version=req.version, sha256=req.sha256,
                           provider=provider, session=session, inputs=inputs, outputs=outputs,
                           output_names=[o.name for o in outputs],
                           signature_verified=fingerprint is not None,
                           key_fingerprint=fingerprint, source=req,
                           score_output=score_output, label_output=label_output,
                           classes=classes)

    def _fetch(self, uri: str, suffix: str) -> tuple[Path, str]:
        """Copy ``uri`` into the cache while hashing it; returns (copy, hex digest)."""
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix="." + suffix)
        path = Path(tmp)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _read(uri):
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, digest.hexdigest()


def _prediction_outputs(session: ort.InferenceSession, path: Path
                        ) -> tuple[str | None, str | None, tuple[str, ...] | None]:
    """The output holding probabilities or scores (never a label), recognised by type;
    the predicted-label output; the class labels of a probability tensor (read from
    the graph: a ZipMap names its classes in every row, a tensor does not)."""
    import onnx

    from medpipe.activities.model_io import OutputKind, graph_classes
    from medpipe.activities.model_io import TensorInfo as OutputInfo

    outs = [OutputInfo(o.name, str(o.type), tuple(d if isinstance(d, int) else None
                                                  for d in (o.shape or ())))
            for o in session.get_outputs()]
    order = (OutputKind.PROBABILITIES, OutputKind.ZIPMAP, OutputKind.SCORE)
    ranked = sorted((o for o in outs if o.kind() in order), key=lambda o: order.index(o.kind()))
    label = next((o.name for o in outs if o.kind() is OutputKind.LABEL), None)
    classes = None
    if ranked and ranked[0].kind() is OutputKind.PROBABILITIES:
        try:
            classes = graph_classes(onnx.load(str(path), load_external_data=False))
        except Exception as e:  # the session opened it: a parse problem here is not fatal
            log.info("class labels not read: %s", str(e)[:200])
    return (ranked[0].name if ranked else None), label, classes


class ModelRoots:
    """Where models may be read from: local directories and object-store URI prefixes.

    An object-store root matches on scheme, bucket and key prefix (a query string,
    such as an emulator endpoint, is not part of the match).
    """

    def __init__(self, roots: Sequence[str | Path]) -> None:
        self.dirs: list[Path] = []
        self.prefixes: list[tuple[str, str, str]] = []
        for root in roots:
            text = str(root)
            parts = urlsplit(text)
            if parts.scheme in ("", "file"):
                self.dirs.append(Path(unquote(parts.path) if parts.scheme else text).resolve())
            else:
                self.prefixes.append((parts.scheme, parts.netloc,
                                      parts.path.rstrip("/") + "/"))

    def check(self, uri: str, what: str) -> None:
        """Refuse ``uri`` unless it lies under a configured root.

        Raises:
            AccessDenied: no root configured, or ``uri`` is outside every root.
        """
        if not self.dirs and not self.prefixes:
            raise AccessDenied(f"{what} {uri[:200]} refused: this gateway has no model root "
                               "configured (--model-root)")
        parts = urlsplit(uri)
        if parts.scheme in ("", "file"):
            local = Path(unquote(parts.path) if parts.scheme else uri).resolve()
            if any(local.is_relative_to(d) for d in self.dirs):
                return
        elif ".." not in parts.path.split("/") and any(
                (parts.scheme, parts.netloc) == (scheme, netloc)
                and parts.path.startswith(path) for scheme, netloc, path in self.prefixes):
            return
        roots = [str(d) for d in self.dirs] + [f"{s}://{n}{p}" for s, n, p in self.prefixes]
        raise AccessDenied(f"{what} {uri[:200]} is outside the gateway's model roots "
                           f"({', '.join(roots)})")


def _warm_up(session: ort.InferenceSession, inputs: dict[str, InputSpec], runs: int = 3) -> None:
    """Run a few inferences on zeros so the first real requests do not pay for
    lazy initialisation (it would show up as a canary latency regression)."""
    feeds = {}
    for spec in inputs.values():
        if spec.dtype is None:
            return
        shape = tuple(d if d is not None and d > 0 else 1 for d in spec.shape)
        feeds[spec.name] = (np.full(shape, "", dtype=object) if spec.datatype == "BYTES"
                            else np.zeros(shape, dtype=spec.dtype))
    try:
        for _ in range(runs):
            session.run(None, feeds)
    except Exception as e:  # a model that cannot run zeros still loads; requests will tell
        log.info("warm-up skipped: %s", str(e)[:200])


def _read(uri: str) -> Iterator[bytes]:
    """Stream a local path, a ``file://`` URI or an object-store URI."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        local = Path(unquote(parts.path) if parts.scheme else uri)
        try:
            with local.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    yield chunk
        except FileNotFoundError:
            raise NotFound(f"no file at {uri}") from None
        except IsADirectoryError:
            raise InvalidInput(f"{uri} is a directory, not a model file") from None
        except OSError as e:  # permissions, I/O errors: the load fails, the gateway lives on
            raise NotFound(f"cannot read {uri}: {e.strerror}") from None
        return
    from medpipe.activities.storage.base import open_store, split_object_uri

    bucket, key = split_object_uri(uri)
    yield from open_store(bucket).get(key)

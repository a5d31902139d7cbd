"""Peer OIP v2 servers for ``bench/gateway.py``: MLServer and KServe's Python model server,
each serving the same ONNX model through onnxruntime, if installed.

Neither is a medpipe dependency (they pin their own web stacks): with ``--peers`` the
bench makes each a venv of its own once (``bench/_peers_env.py``); with
``--peers-python`` it uses a Python that has ``mlserver`` and/or ``kserve`` and
``onnxruntime`` installed. A peer that is missing, fails to install or fails to start
is skipped, saying why. Each peer runs as one process with one worker.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

MLSERVER_RUNTIME = '''
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxModel(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(self.settings.parameters.uri, options,
                                            providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.session.get_outputs()]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        feeds = {i.name: NumpyCodec.decode_input(i) for i in payload.inputs}
        arrays = self.session.run(None, feeds)
        return InferenceResponse(model_name=self.name, id=payload.id, outputs=[
            NumpyCodec.encode_output(name=n, payload=a)
            for n, a in zip(self.output_names, arrays)])
'''

KSERVE_SERVER = '''
import sys

import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
from kserve.utils.numpy_codec import from_np_dtype


class OnnxModel(Model):
    def __init__(self, name: str, path: str) -> None:
        super().__init__(name)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.ready = True

    async def predict(self, payload: InferRequest, headers=None, response_headers=None):
        feeds = {i.name: i.as_numpy() for i in payload.inputs}
        arrays = self.session.run(None, feeds)
        outputs = []
        for name, array in zip(self.outputs, arrays):
            out = InferOutput(name=name, shape=list(array.shape),
                              datatype=from_np_dtype(array.dtype))
            out.set_data_from_numpy(array)
            outputs.append(out)
        # binary outputs when the request asks (binary_data_output), as the gateway does
        return InferResponse(model_name=self.name, infer_outputs=outputs,
                             response_id=payload.id or "bench",
                             use_binary_outputs=payload.use_binary_outputs,
                             requested_outputs=payload.request_outputs)


if __name__ == "__main__":
    model = OnnxModel(sys.argv[1], sys.argv[2])
    ModelServer(http_port=int(sys.argv[3]), grpc_port=int(sys.argv[4]), workers=1,
                enable_docs_url=False).start([model])
'''


def has(python: str, module: str) -> bool:
    """Whether ``python`` can import ``module`` (within 60 s)."""
    try:
        return subprocess.run([python, "-c", f"import {module}"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def mlserver_command(python: str, folder: Path, model: Path, name: str, port: int,
                     grpc_port: int) -> list[str]:
    """Write an MLServer model repository serving ``model``; the command that starts it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "onnx_runtime.py").write_text(MLSERVER_RUNTIME)
    (folder / "settings.json").write_text(json.dumps({
        "http_port": port, "grpc_port": grpc_port, "metrics_endpoint": None,
        "parallel_workers": 0, "debug": False}))
    (folder / "model-settings.json").write_text(json.dumps({
        "name": name, "implementation": "onnx_runtime.OnnxModel",
        "parameters": {"uri": str(model), "version": "1"}}))
    mlserver = str(Path(python).with_name("mlserver"))
    return [mlserver, "start", str(folder)]


def kserve_command(python: str, folder: Path, model: Path, name: str, port: int,
                   grpc_port: int) -> list[str]:
    """Write a KServe model server script serving ``model``; the command that starts it."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "kserve_onnx.py"
    script.write_text(KSERVE_SERVER)
    return [python, str(script), name, str(model), str(port), str(grpc_port)]


#: Request kinds a peer does not implement, and why (the bench prints it instead of a figure).
UNSUPPORTED = {("MLServer", "binary"): "no binary tensor extension over REST (SeldonIO/MLServer"
               "#324): it parses the body as JSON and answers 500"}

#: Peer label → (module, command builder).
COMMANDS = {"MLServer": ("mlserver", mlserver_command), "KServe": ("kserve", kserve_command)}


def peer_pythons(make: bool, python: str | None) -> dict[str, str]:
    """Peer label → the Python that runs it; prints why a peer is skipped.

    ``make``: each peer's own venv (``bench._peers_env.ensure``, made once); else
    ``python``, a Python with the peers installed (None: no peers).
    """
    if make:
        from bench._peers_env import PEERS, ensure

        found = {}
        for peer in PEERS:
            exe, how = ensure(peer)
            print(f"  {peer.label}: {how if exe else 'skipped: ' + how}")
            if exe:
                found[peer.label] = exe
        return found
    if python is None:
        print("  peers: skipped (pass --peers, or --peers-python with a Python that has "
              "mlserver and/or kserve and onnxruntime; not in medpipe's venv)")
        return {}
    found = {}
    for label, (module, _) in COMMANDS.items():
        if has(python, module):
            found[label] = python
        else:
            print(f"  {label}: not installed in {python}: skipped")
    return found

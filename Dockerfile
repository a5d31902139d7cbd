# Worker image: one image, the profile chosen at run time (medpipe worker --profile ...).
# Dependencies come from the lock (exact versions, hashes checked), then medpipe without
# resolving anything again. Build with --build-arg MEDPIPE_CODE_REVISION=$(git rev-parse HEAD)
# so `medpipe --version` and every provenance statement name the commit.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 medpipe
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
USER medpipe
ENTRYPOINT ["medpipe"]
CMD ["worker", "--profile", "aws/us-east-1"]

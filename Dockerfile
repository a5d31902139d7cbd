# Worker image: one image, the profile chosen at run time (medpipe worker --profile ...).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 medpipe
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts ./contracts
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY medpipe ./medpipe
RUN pip install ".[all]"
USER medpipe
ENTRYPOINT ["medpipe"]
CMD ["worker", "--profile", "aws/us-east-1"]

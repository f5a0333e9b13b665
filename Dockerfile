# The Python the project targets: requires-python, mypy's and ruff's target in pyproject.toml.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 UV_PYTHON_DOWNLOADS=never
WORKDIR /src

# The runtime dependencies as uv.lock pins them (the dev extra left out), every file
# checked against its locked hash, into a venv that the final image takes over.
# uv (the version pyproject.toml pins) only turns the lock into pip's requirements.
COPY pyproject.toml uv.lock ./
RUN pip install "uv$(python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["uv"]["required-version"])')" \
 && uv export --locked --no-emit-project --format requirements.txt --quiet --output-file requirements.txt \
 && python -m venv /opt/gateway \
 && /opt/gateway/bin/pip install --require-hashes -r requirements.txt

# The gateway itself, its dependencies being in place already.
COPY README.md ./
COPY gateway ./gateway
RUN /opt/gateway/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/gateway/bin:$PATH
RUN useradd --create-home --uid 10001 gateway
COPY --from=build /opt/gateway /opt/gateway

USER gateway
WORKDIR /home/gateway
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]

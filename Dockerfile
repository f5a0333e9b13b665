FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 gateway
WORKDIR /app

# Same install as bin/install, without the development tools.
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install --upgrade pip && pip install .

USER gateway
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]

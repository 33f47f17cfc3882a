# syntax=docker/dockerfile:1
# Vitrine's image. One image for every role: the default command serves the web app;
# `vitrine worker`, `vitrine migrate` and `vitrine seed` run the other roles (see compose.yaml).
# Configuration comes from environment variables only (backend/core/settings.py).

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project and its runtime dependencies (no dev extras) into a virtualenv ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/vitrine
WORKDIR /src
# The whole context (.dockerignore keeps out .venv, .local, .git, caches): the package data
# (templates, static files, .po catalogs, .sql migrations) is picked up by pyproject's package-data.
COPY . .
RUN /opt/vitrine/bin/pip install . \
    && /opt/vitrine/bin/vitrine --help > /dev/null

# --- runtime: the virtualenv only, run by an unprivileged user ---
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/vitrine/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VITRINE_HOST=0.0.0.0 \
    VITRINE_PORT=8000 \
    VITRINE_LOCAL_DIR=/var/lib/vitrine
RUN groupadd --system --gid 10001 vitrine \
    && useradd --system --uid 10001 --gid vitrine --home-dir /var/lib/vitrine --create-home \
        --shell /usr/sbin/nologin vitrine
COPY --from=build /opt/vitrine /opt/vitrine
USER vitrine
WORKDIR /var/lib/vitrine
EXPOSE 8000
# Liveness of the web app; a worker container replaces it (compose.yaml checks the worker's metrics port).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('VITRINE_PORT', '8000') + '/healthz', timeout=4)"]
CMD ["vitrine", "web"]

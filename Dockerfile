# syntax=docker/dockerfile:1
# Ingrain's API image. `deploy/docker-compose.yml` runs it with Postgres 16: `ingrain migrate` once,
# then `ingrain serve`.

# --- builder: the virtual environment, with every dependency and the package itself -------------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
# The dependencies first, from the runtime lock with every hash checked: a layer that changes only
# with the lock, whatever the code does.
COPY requirements/runtime.lock ./requirements/runtime.lock
RUN pip install --require-hashes --requirement requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY service ./service
COPY migrations ./migrations
# Installed in place, as in a checkout: `ingrain migrate` finds the Alembic scripts in
# /app/migrations beside the package, and the runtime stage copies /app and /opt/venv unchanged.
RUN pip install --no-deps --editable . && python -m compileall -q /app/service

# --- runtime: the same environment, without the build tools, as an unprivileged user ------------
FROM python:3.11-slim AS runtime

RUN groupadd --system --gid 10001 ingrain \
    && useradd --system --uid 10001 --gid ingrain --home-dir /app --shell /usr/sbin/nologin ingrain \
    && mkdir -p /var/lib/ingrain \
    && chown ingrain:ingrain /var/lib/ingrain

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

# INGRAIN_DATA_DIR keeps the service's token signing key (and the embedded Postgres, if the image is
# run without INGRAIN_DATABASE_URL); mount a volume there to keep it across restarts.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INGRAIN_HOST=0.0.0.0 \
    INGRAIN_PORT=8000 \
    INGRAIN_DATA_DIR=/var/lib/ingrain

WORKDIR /app
# Numeric, so that a runtime (Kubernetes' runAsNonRoot among them) can tell it is not root.
USER 10001:10001
EXPOSE 8000
VOLUME ["/var/lib/ingrain"]

# The slim image has no curl; Python's standard library asks /healthz instead.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["ingrain", "serve"]

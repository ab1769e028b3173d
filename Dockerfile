# mediabot: the kernel and every builtin plugin, built from uv.lock.
#
#   docker build -t mediabot:1.4.0 .
#   docker run --env-file .env -v mediabot-data:/data mediabot:1.4.0
#
# Secrets (MEDIABOT_API_ID, MEDIABOT_API_HASH, MEDIABOT_BOT_TOKEN,
# MEDIABOT_CALLBACK_SECRET, database URIs with passwords, MEDIABOT_OPS_TOKEN)
# come from the environment at run time (compose: env_file); none is baked in.
# Containers update by image (a new tag, then `docker compose up -d`), not with
# `mediabot ops update`: see docs/ops.md.

# -- build: resolve nothing, install exactly what uv.lock pins ------------------
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
COPY . .
# --frozen: uv.lock as it is, or fail; --no-dev: no test tools; --all-packages: the
# kernel and every workspace plugin; --no-editable: the venv stands alone without /src.
RUN uv sync --frozen --no-dev --all-packages --no-editable

# -- runtime: the virtual environment, a config, an unprivileged user ------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 mediabot \
 && useradd --system --uid 10001 --gid mediabot --home-dir /app --no-create-home mediabot \
 && mkdir -p /data /etc/mediabot \
 && chown mediabot:mediabot /data
COPY --from=build /app/.venv /app/.venv
COPY plugins.toml /etc/mediabot/plugins.toml
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MEDIABOT_CONFIG=/etc/mediabot/plugins.toml \
    MEDIABOT__RUNTIME__DATA_DIR=/data
# Plugin files, the Telegram session and ops' audit log live here: keep it across images.
VOLUME ["/data"]
USER mediabot
WORKDIR /data
# /healthz of the ops plugin (loopback inside the container); the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
# SIGTERM (the default stop signal) stops the bot gracefully: in-flight work drains first.
STOPSIGNAL SIGTERM
CMD ["mediabot", "run"]

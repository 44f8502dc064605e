# Cloud Run image: gunicorn with threads, since every open WebSocket holds one
# (2 x 128 threads: 200+ live dashboards per instance, see bench/live.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    AIKEY_ENV=production \
    FLASK_APP=wsgi \
    PORT=8080

WORKDIR /app
COPY requirements.txt .
# Every package pinned with its hashes (make lock): the image gets exactly what was tested.
RUN pip install --require-hashes -r requirements.txt

COPY webapp/ webapp/
COPY pipeline/ pipeline/
COPY templates/ templates/
COPY static/ static/
COPY migrations/ migrations/
COPY wsgi.py seed_data.py gunicorn.conf.py ./

RUN useradd --create-home --uid 10001 aikey && mkdir -p instance && chown aikey instance
USER aikey

EXPOSE 8080
# --worker-connections = --threads: a worker accepts only the sockets it has threads for and
# leaves the rest to the other worker, instead of queueing them behind endless WebSockets.
# No access log: Cloud Run logs every request itself, and gunicorn's would carry query strings.
# Probes: GET /health (liveness, no dependency) and /ready (database); see README "Deployment".
CMD exec gunicorn --bind ":${PORT}" --worker-class gthread --workers 2 --threads 128 \
    --worker-connections 128 --timeout 0 --graceful-timeout 20 --config gunicorn.conf.py wsgi:app

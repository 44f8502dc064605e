# Cloud Run image: gunicorn as gunicorn.conf.py says (gthread, 4 x 64 threads: one per open
# WebSocket or request in flight, one live sender per process; measured against gevent workers
# with bench/dashboard.py and bench/live.py --pages running together, README "Serving").
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
# The serving configuration lives in gunicorn.conf.py (measured; see README "Serving").
CMD exec gunicorn --config gunicorn.conf.py wsgi:app

"""gunicorn settings: the one serving configuration of the Dockerfile, `make serve` and bench/.

Chosen by measurement (bench/dashboard.py and bench/live.py --pages run together; README
"Serving"): gthread workers, where an open WebSocket parks one thread that waits without taking
the GIL and one sender thread per process writes all pushes. WEB_WORKER_CLASS=gevent switches to
gevent workers with psycopg2 made cooperative (psycogreen) for re-measuring; on the shared
2-core bench machine they served five of six doctor pages slower and pushed with a median
latency four times gthread's. 4 x 64 threads rather than 2 x 128: the same 256 sockets, but each
sender shares its process's GIL with half as many page threads (README "Serving" has the figures).
In production the same image runs twice: the page service with these defaults, and the live
service (the load balancer's /ws/ route) with WEB_CONCURRENCY=1 and WEB_THREADS=512, so that
pushes never wait for a page thread's GIL; WEB_NICE is for a host the two share.
"""

import gc
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# One thread per open WebSocket or request in flight: 200+ live dashboards per instance.
threads = int(os.environ.get("WEB_THREADS", "64"))
# = threads: a worker accepts only the connections it has threads for and leaves the rest to
# the other worker, instead of queueing them behind endless WebSockets. It also means no
# keep-alive (gunicorn warns so at start): each request comes on a connection of its own and
# goes to whichever worker accepts it. With 96 (32 kept alive per worker), kept-alive
# connections stayed with the worker that accepted them: bench/dashboard.py's bare app fell
# from 6,146 to 3,125 req/s and the chart's p99 rose from 160 to 304 ms, with socket errors.
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", str(threads)))
# No limit on a request's life: WebSockets stay open for hours.
timeout = 0
graceful_timeout = 20
# Cloud Run logs every request itself; a line per request here costs throughput for nothing.
accesslog = None
errorlog = "-"
# Should an operator turn the access log on (--access-logfile -), it names the path without its
# query string (%(U)s, not %(r)s) and leaves out the referrer: either may carry a patient's
# name, birth date or identifier (e.g. an old bookmark).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s "%(a)s"'


# Where the page service shares a host with the live service (README "Serving": sockets on a
# service of their own), WEB_NICE lowers the page workers' CPU priority so that pushes are not
# queued behind page renders. 0 (the default) leaves it alone; Cloud Run gives each service
# its own CPUs instead.
nice = int(os.environ.get("WEB_NICE", "0"))


def post_fork(server, worker):
    """Lower the worker's CPU priority by WEB_NICE; under gevent workers, make psycopg2 wait on
    gevent's hub instead of blocking the worker."""
    if nice > 0:
        os.nice(nice)
    if worker_class == "gevent":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()


def post_worker_init(worker):
    """Move everything loaded so far (the app, its templates, SQLAlchemy's mappings) out of
    the garbage collector's reach, so a full collection walks only what requests create."""
    gc.freeze()

"""gunicorn settings the Dockerfile and `make serve` load with --config."""

# The access log names the path without its query string (%(U)s, not %(r)s) and leaves out the
# referrer: either may carry a patient's name, birth date or identifier (e.g. an old bookmark).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s "%(a)s"'

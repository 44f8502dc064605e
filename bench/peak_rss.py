"""Run a command and report the peak RSS of it and its children (RUSAGE_CHILDREN) on stderr.

One process per measurement, so the figure of one run is not the maximum of all runs before it.
"""

import resource
import subprocess
import sys

if __name__ == "__main__":
    status = subprocess.call(sys.argv[1:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"peak_rss_mib={peak}", file=sys.stderr)
    sys.exit(status)

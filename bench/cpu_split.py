"""CPU seconds spent by each process group on this machine, read from /proc.

The dashboard bench uses it to say where a page's time goes (the app server, PostgreSQL, Redis,
wrk): on a 2-core machine every one of them shares the same cores.
"""

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> tuple[str, str, float] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # utime, stime, cutime, cstime: a group's exited children (PostgreSQL backends that
    # ended) count through their parent's cutime/cstime.
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    return name, title, (own + children) / TICK


def cpu_by_group(groups: dict[str, tuple[str, str]]) -> dict[str, float]:
    """CPU seconds used so far by each group: the processes whose name starts with the group's
    first string and whose command line (a PostgreSQL backend's title names its database)
    holds its second."""
    totals = dict.fromkeys(groups, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        found = _stat(pid)
        if found is None:
            continue
        name, title, seconds = found
        for group, (prefix, needle) in groups.items():
            if name.startswith(prefix) and needle in title:
                totals[group] += seconds
                break
    return totals


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each group used between two readings (never negative: a process that
    ended between them takes its own seconds with it)."""
    return {group: max(0.0, after[group] - before[group]) for group in before}

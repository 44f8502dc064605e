"""Wall-clock seconds per loader step, kept with the run so a slow step can be named."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class StepTimes(dict):
    """{step name: seconds}, in the order the steps ran."""

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block and add its seconds under `name`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self[name] = round(self.get(name, 0.0) + time.perf_counter() - started, 3)
            log.info("load step %s: %.3f s", name, self[name])

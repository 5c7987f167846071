"""The simulated clock: real time plus an adjustable offset, so tests can jump ahead."""

from __future__ import annotations

import threading
import time


class SimClock:
    """Every time-based rule in the simulator reads `now()` from here, never `time.time()`."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def now_int(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._offset += seconds
        return self.now()

    def set(self, unix: float) -> float:
        with self._lock:
            self._offset = unix - time.time()
        return self.now()

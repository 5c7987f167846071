"""Progress reporting for long work: a callback the CLI turns into a bar and tests ignore."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Protocol, TextIO


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None: ...
    def advance(self, done: int = 1, **counters: int) -> None: ...
    def finish(self) -> None: ...


class SilentProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, done: int = 1, **counters: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class BarProgress:
    """A one-line text bar on a terminal (rewritten in place), plain lines otherwise."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    width: int = 30
    name: str = ""
    total: int | None = None
    done: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _last_draw: float = 0.0

    def stage(self, name: str, total: int | None = None) -> None:
        self.finish()
        self.name, self.total, self.done = name, total, 0
        self.counters = {}
        self.started = time.monotonic()
        self._draw(force=True)

    def advance(self, done: int = 1, **counters: int) -> None:
        self.done += done
        for key, value in counters.items():
            self.counters[key] = self.counters.get(key, 0) + value
        self._draw()

    def finish(self) -> None:
        """Ends the stage's line (on a terminal) or writes its one summary line (in a log)."""
        if self.name:
            if self.stream.isatty():
                self._draw(force=True)
                self.stream.write("\n")
            else:
                self.stream.write(self._line() + "\n")
            self.stream.flush()
            self.name = ""

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.2:
            return
        self._last_draw = now
        if self.stream.isatty():
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        if self.total:
            filled = int(self.width * min(self.done, self.total) / self.total)
            bar = "#" * filled + "-" * (self.width - filled)
            head = f"{self.name:<12} [{bar}] {self.done}/{self.total}"
        else:
            head = f"{self.name:<12} {self.done}"
        extra = " ".join(f"{k}={v}" for k, v in self.counters.items())
        rates = " ".join(f"{k}/s={v / elapsed:.0f}" for k, v in self.counters.items())
        return f"{head} {extra} {rates} {elapsed:.1f}s".rstrip()

"""Progress of a batch for a log, where no terminal shows a progress bar (CI, a batch system):
a line every few submissions with the count, the rate and the time left."""

from __future__ import annotations

import time
from collections.abc import Callable


class ProgressLog:
    """Says how far a batch is, at most every ``every_seconds`` and at least every
    ``every_count`` submissions (and once at the end)."""

    def __init__(self, total: int, say: Callable[[str], None], every_count: int = 25,
                 every_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.say, self.clock = total, say, clock
        self.every_count = max(1, min(every_count, total // 10 or 1))
        self.every_seconds = every_seconds
        self.started = self.last_said = clock()
        self.done = 0

    def advance(self) -> None:
        self.done += 1
        now = self.clock()
        if (self.done == self.total or self.done % self.every_count == 0
                or now - self.last_said >= self.every_seconds):
            self.last_said = now
            self.say(self.line(now))

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        percent = 100 * self.done / self.total if self.total else 100
        eta = "done" if self.done >= self.total else f"about {_duration(left)} left"
        return (f"graded {self.done}/{self.total} ({percent:.0f}%) in {_duration(elapsed)}, "
                f"{rate:.2f} per second, {eta}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"

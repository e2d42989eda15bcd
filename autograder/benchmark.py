"""Measure grading speed: seconds per submission with fresh processes and with the warm start.

A benchmark, not a test: it prints figures for the README, taken on whatever machine runs it.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import resource
import time
from pathlib import Path

from .assignment import Assignment
from .grading import GradingOptions, grade_parallel
from .submission import Submission, discover


@dataclasses.dataclass
class BenchmarkFigures:
    """What one mode cost."""

    mode: str
    jobs: int
    submissions: int
    total_seconds: float
    layer: str
    cpu_seconds: float | None = None  # the whole machine's busy CPU time during the run

    @property
    def per_submission(self) -> float:
        return self.total_seconds / max(1, self.submissions)

    @property
    def cpu_per_submission(self) -> float | None:
        return None if self.cpu_seconds is None else self.cpu_seconds / max(1, self.submissions)


def replicate(submissions: list[Submission], copies: int) -> list[Submission]:
    """``copies`` renamed copies of every submission."""
    return [
        dataclasses.replace(s, name=f"{s.name}-{i}", problems=list(s.problems))
        for i in range(copies)
        for s in submissions
    ]


def run(assignment: Assignment, sample_dir: Path, copies: int, layer: str | None,
        modes: tuple[str, ...] = ("cold", "warm"), jobs: int = 1) -> list[BenchmarkFigures]:
    """Grade ``copies`` copies of the samples once per mode and time each run."""
    batch = replicate(discover([sample_dir], assignment), copies)
    figures = []
    for mode in modes:
        layers: list[str] = []

        def keep(result: dict, layers: list[str] = layers) -> None:
            layers.append(result["sandbox"]["layer"])

        options = GradingOptions(layer=layer, warm=mode == "warm")
        started, busy = time.perf_counter(), machine_busy_seconds()
        grade_parallel(assignment, batch, options, keep, jobs)
        elapsed = time.perf_counter() - started
        cpu = None if busy is None else (machine_busy_seconds() or busy) - busy
        figures.append(BenchmarkFigures(mode, jobs, len(batch), elapsed, layers[0] if layers else "?", cpu))
    return figures


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def machine_busy_seconds() -> float | None:
    """CPU seconds this machine has spent busy (user, nice, system, irq), from /proc/stat.

    It counts the sandboxed processes too, which the grader's own rusage cannot see (they are
    reaped inside their namespace), and it varies less than wall time when a shared machine
    runs slower for a while; anything else running meanwhile is counted as well.
    """
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _, _, irq, softirq = (int(v) for v in fields[:7])
    except (OSError, ValueError, IndexError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def peak_memory_mib() -> float:
    """Peak resident memory of the grader and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024

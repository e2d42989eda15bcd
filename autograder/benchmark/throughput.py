"""Measure grading speed and memory: seconds per submission with fresh processes and with the
warm start, and the grading processes' peak memory, on the samples or on a hostile mix.

A benchmark, not a test: it prints figures for the README, taken on whatever machine runs it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from ..assignment import Assignment
from ..batch import GradingOptions
from ..jobs import grade_parallel
from ..runtime.loader import MAX_JSON_ITEMS
from ..static import MAX_PARSE_CHARS
from ..submission import MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES, Submission, discover


@dataclasses.dataclass
class BenchmarkFigures:
    """What one mode cost."""

    mode: str
    jobs: int
    submissions: int
    total_seconds: float
    layer: str
    cpu_seconds: float | None = None  # the whole machine's busy CPU time during the run
    grader_peak_mib: float | None = None  # the largest peak of one grading process

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


def write_hostile_mix(reference: Path, assignment: Assignment, folder: Path) -> None:
    """Submissions made to cost the trusted side as much as its caps allow, each next to
    the reference's own code: dead code just under the static checks' parse cap (the
    costliest kind per character; in the notebook, and in every file and the notebook at
    once), a file of dead code far over it, a notebook just under the size cap, a notebook of small JSON
    values just under the count the reader accepts, one nested beyond any parser's depth,
    and the reference itself as a notebook. The sandbox's own cost is capped elsewhere."""
    code = {p.name: p.read_text() for p in sorted(reference.glob("*.py"))}

    def notebook(name: str, extra_code: str = "", metadata: object = None) -> None:
        cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                  "source": text} for text in [*code.values(), extra_code] if text]
        data = {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
        (folder / name).mkdir()
        (folder / name / assignment.notebook).write_text(json.dumps(data, ensure_ascii=False),
                                                         encoding="utf-8")

    room = MAX_PARSE_CHARS - sum(len(text) + 2 for text in code.values()) - 100
    notebook("dead_code_at_parse_cap", "if False:\n    _ = (" + "(a,b)," * (room // 6) + ")\n")
    everywhere = folder / "dead_code_at_parse_cap_in_every_file"  # every tree the checks keep
    everywhere.mkdir()
    for name, text in code.items():
        dead = "(a,b)," * ((MAX_PARSE_CHARS - len(text) - 100) // 6)
        (everywhere / name).write_text(f"{text}\nif False:\n    _ = ({dead})\n")
    (everywhere / assignment.notebook).write_bytes(
        (folder / "dead_code_at_parse_cap" / assignment.notebook).read_bytes())
    (folder / "dead_code_over_parse_cap").mkdir()
    largest = max(code, key=lambda name: len(code[name]))  # one file over the cap is enough
    for name, text in code.items():
        dead = "(a,b)," * ((MAX_SOURCE_BYTES - len(text)) // 7)
        padding = f"\n_ = ({dead})\n" if name == largest else ""
        (folder / "dead_code_over_parse_cap" / name).write_text(text + padding)
    notebook("json_values_at_cap", metadata={"x": [{"": 1}] * (MAX_JSON_ITEMS // 2 - 1000)})
    wide = "# " + "\U0001F600" * ((MAX_NOTEBOOK_BYTES - (1 << 20)) // 4) + "\n"  # 4 bytes each
    notebook("notebook_at_size_cap", wide)
    notebook("json_nested_deep", metadata="@@")
    deep = folder / "json_nested_deep" / assignment.notebook
    depth = min(MAX_NOTEBOOK_BYTES // 4, 200_000)
    deep.write_text(deep.read_text().replace('"@@"', "[" * depth + "]" * depth))
    notebook("reference_notebook")


def run(assignment: Assignment, sample_dir: Path, copies: int, layer: str | None,
        modes: tuple[str, ...] = ("cold", "warm"), jobs: int = 1,
        adversarial: bool = False) -> list[BenchmarkFigures]:
    """Grade ``copies`` copies of the samples (or, with ``adversarial``, of the hostile mix
    built from the samples' reference) once per mode, and time each run. Modes: ``cold``
    (a fresh worker per task), ``warm`` (forked from a warm worker, each task in namespaces of
    its own, as grading always runs), ``warm-shared`` (the same without the per-task
    namespaces: only to measure what that isolation costs)."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        if adversarial:
            write_hostile_mix(sample_dir / "reference", assignment, Path(scratch))
        batch = replicate(discover([Path(scratch) if adversarial else sample_dir], assignment), copies)
    figures = []
    for mode in modes:
        layers: list[str] = []

        def keep(result: dict, layers: list[str] = layers) -> None:
            layers.append(result["sandbox"]["layer"])

        options = GradingOptions(layer=layer, warm=mode != "cold", isolate_tasks=mode != "warm-shared")
        started, busy, peaks = time.perf_counter(), machine_busy_seconds(), []
        grade_parallel(assignment, batch, options, keep, jobs, peaks)
        elapsed = time.perf_counter() - started
        cpu = None if busy is None else (machine_busy_seconds() or busy) - busy
        figures.append(BenchmarkFigures(mode, jobs, len(batch), elapsed, layers[0] if layers else "?",
                                        cpu, max(peaks, default=None)))
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
    """Peak resident memory of this process and of its largest finished descendant
    (sandboxed workers included)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024

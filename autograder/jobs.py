"""Grade a batch in several processes, so that whatever kills or stops one (a crash in a
native library, the OOM killer, a check that never returns) costs one submission, not the
batch."""

from __future__ import annotations

import json
import multiprocessing
import queue as queue_module
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assignment import Assignment, load_from
from .batch import GradingError, GradingOptions, grade_batch
from .results import failure_result, result_skeleton
from .submission import Submission


def _grade_chunk(folder: Path, submissions: list[Submission], options: GradingOptions,
                 queue: multiprocessing.Queue) -> None:
    """One grading job: grade a share of the batch, saying which submission it starts and
    sending each result as JSON text, so the parent knows what a job that dies left undone."""
    try:
        def send(result: dict[str, Any]) -> None:
            queue.put(("result", json.dumps(result, allow_nan=False)))
            queue.put(("resident", str(own_memory_mib("VmRSS"))))

        grade_batch(load_from(folder), submissions, options, send)
    except Exception as exc:  # reported to the parent, which raises GradingError
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
    queue.put(("peak", str(own_memory_mib("VmHWM"))))


def own_memory_mib(field: str) -> float:
    """This process's resident memory in MiB: now (``VmRSS``) or at its peak (``VmHWM``).
    Both belong to the process's own memory map, so a job does not report its parent's size
    (Linux carries ``ru_maxrss`` across fork and exec); ``ru_maxrss`` where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# A job that sends nothing for this long beyond a submission's whole sandbox budget is stuck
# in the grader's own code (or stopped): it is ended like a job that died.
STALL_MARGIN_SECONDS = 120.0


@dataclass
class _Job:
    """One grading process, the names of its share, and when it last showed progress."""

    process: Any
    names: list[str]
    progress: float = field(default_factory=time.monotonic)
    stalled: bool = False


def grade_parallel(
    assignment: Assignment,
    submissions: list[Submission],
    options: GradingOptions,
    on_result: Callable[[dict[str, Any]], None],
    jobs: int,
    peaks: list[float] | None = None,
    stall_seconds: float | None = None,
    resident: list[float] | None = None,
    while_starting: Callable[[], None] | None = None,
) -> None:
    """Grade in ``jobs`` processes (one at least), each with its own warm sandbox worker, so
    that nothing that kills or stops a grading process (a crash in a native library, the
    kernel's OOM killer, a check that never returns) takes the batch with it.

    A job that dies, or sends no result for ``stall_seconds`` (default: the submission's
    time budget plus ``STALL_MARGIN_SECONDS``) and is ended, costs the submission it was
    grading (the first of its share without a result: a job grades its share in order),
    which gets a grader-failure result; the rest of its share goes to a new job. Results
    cross between the grader's own processes as JSON text (built by trusted code from
    sanitised data; nothing is pickled from a sandbox). Each job that finishes adds its own
    peak resident memory (MiB) to ``peaks``, and after each result its resident memory then to
    ``resident`` (so a benchmark can tell whether a job's memory grows over a batch).
    ``while_starting`` runs here once the jobs are started, before the first result: time to
    prepare what handling results needs while the jobs and their workers start.

    Jobs are forked, not spawned: a job starts at once with what the grader has imported
    (the kit, pytest, and torch once lint has read the suite) instead of a second of imports.
    The grader runs no tensor work of its own before that (design.md: a fork after threaded
    OpenMP work can deadlock), and a job never touches the grader's console.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    pending = {s.name: s for s in submissions}
    running: list[_Job] = []
    errors: list[str] = []
    if stall_seconds is None:
        stall_seconds = assignment.limits.submission_seconds + STALL_MARGIN_SECONDS

    def start(share: list[Submission]) -> None:
        process = context.Process(target=_grade_chunk, daemon=True,
                                  args=(assignment.folder, share, options, queue))
        process.start()
        running.append(_Job(process, [s.name for s in share]))

    def take(kind: str, payload: str) -> None:
        if kind == "result":
            result = json.loads(payload)
            name = result.get("submission")
            for job in running:
                if name in job.names:
                    job.progress = time.monotonic()
            if pending.pop(name, None) is not None:
                on_result(result)
        elif kind == "error":
            errors.append(payload)
        elif kind == "peak" and peaks is not None:
            peaks.append(float(payload))
        elif kind == "resident" and resident is not None:
            resident.append(float(payload))

    def fail(name: str, reason: str) -> None:
        take("result", json.dumps(failure_result(result_skeleton(assignment, name), reason)))

    jobs = max(1, min(jobs, len(submissions)))
    for number in range(jobs if submissions else 0):
        start(submissions[number::jobs])
    if while_starting is not None and submissions:
        while_starting()
    while running:
        try:
            take(*queue.get(timeout=0.5))
        except queue_module.Empty:
            pass
        for job in running:
            if job.process.is_alive() and time.monotonic() - job.progress > stall_seconds:
                job.stalled = True
                job.process.kill()
                job.process.join(10)
        for job in [j for j in running if not j.process.is_alive()]:
            while True:  # what it sent before it ended
                try:
                    take(*queue.get(timeout=0.2))
                except queue_module.Empty:
                    break
            running.remove(job)
            left = [name for name in job.names if name in pending]
            if left and not errors:
                fail(left[0], f"it gave no result in {stall_seconds:g} s, so its grading process "
                              "was ended" if job.stalled else
                              f"its grading process ended (exit code {job.process.exitcode}) "
                              "while grading it")
                if left[1:]:
                    start([pending[name] for name in left[1:]])
    for name in list(pending):
        fail(name, "its grading process ended before grading it")
    if errors:
        raise GradingError("; ".join(dict.fromkeys(errors)))

"""Grade a batch in several processes, so that whatever kills or stops one (a crash in a
native library, the OOM killer, a check that never returns) costs one submission, not the
batch."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .assignment import Assignment, load_from
from .batch import GradingError, GradingOptions, grade_batch
from .report.plots import drawn_elsewhere, warm_up, with_pictures
from .results import failure_result, result_skeleton
from .submission import Submission


def _grade_chunk(folder: Path, submissions: list[Submission], options: GradingOptions,
                 channel: Connection) -> None:
    """One grading job: grade a share of the batch, sending each result as JSON text as it
    is ready, so the parent knows what a job that dies left undone, with the pictures of its
    feedback, drawn here (``report.plots.with_pictures``)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the grader's handler, forked with it
    threading.Thread(target=_when_idle, args=(warm_up,), daemon=True).start()  # as the sandbox starts
    try:
        def send(result: dict[str, Any]) -> None:
            channel.send(("result", json.dumps(with_pictures(result), allow_nan=False)))
            channel.send(("resident", str(own_memory_mib("VmRSS"))))

        grade_batch(load_from(folder), submissions, options, send)
    except Exception as exc:  # reported to the parent, which raises GradingError
        channel.send(("error", f"{type(exc).__name__}: {exc}"))
    channel.send(("peak", str(own_memory_mib("VmHWM"))))
    channel.close()


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


def _when_idle(task: Callable[[], None]) -> None:
    """Run ``task`` in this thread at the lowest CPU priority, so that it takes only what the
    jobs and their workers leave free (Linux sets a thread's priority by its thread id)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    with contextlib.suppress(Exception):  # only a head start: the reports prepare themselves
        task()


# A job that sends nothing for this long beyond a submission's whole sandbox budget is stuck
# in the grader's own code (or stopped): it is ended like a job that died.
STALL_MARGIN_SECONDS = 120.0


@dataclass
class _Job:
    """One grading process, the names of its share, and when it last showed progress."""

    process: Any
    names: list[str]
    channel: Connection  # what the job sends; at its end, end of file
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
    ``while_starting`` runs once the jobs are started, in a thread at the lowest priority:
    it prepares what handling results needs with the CPU time the jobs leave free.

    Jobs are forked, not spawned: a job starts at once with what the grader has imported
    (the kit, pytest, and torch once lint has read the suite) instead of a second of imports.
    The grader runs no tensor work of its own before that (design.md: a fork after threaded
    OpenMP work can deadlock), and a job never touches the grader's console.
    """
    context = multiprocessing.get_context("fork")
    pending = {s.name: s for s in submissions}
    running: list[_Job] = []
    errors: list[str] = []
    if stall_seconds is None:
        stall_seconds = assignment.limits.submission_seconds + STALL_MARGIN_SECONDS
    preparing = None

    def start(share: list[Submission]) -> None:
        if preparing is not None:
            preparing.join()  # no fork while another thread may hold an import lock
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_grade_chunk, daemon=True,
                                  args=(assignment.folder, share, options, writer))
        process.start()
        writer.close()  # the job's copy is the only one: its end is this end's end of file
        running.append(_Job(process, [s.name for s in share], reader))

    def take(kind: str, payload: str) -> None:
        if kind == "result":
            sent = json.loads(payload)
            result = sent["result"]
            name = result.get("submission")
            for job in running:
                if name in job.names:
                    job.progress = time.monotonic()
            if pending.pop(name, None) is not None:
                with drawn_elsewhere(sent.get("plots")):
                    on_result(result)
        elif kind == "error":
            errors.append(payload)
        elif kind == "peak" and peaks is not None:
            peaks.append(float(payload))
        elif kind == "resident" and resident is not None:
            resident.append(float(payload))

    def read(job: _Job) -> bool:
        """Take everything ``job`` has sent so far; False once it has sent all it will."""
        try:
            while job.channel.poll():
                take(*job.channel.recv())
        except (EOFError, OSError):
            return False
        return True

    def fail(name: str, reason: str) -> None:
        take("result", json.dumps({"result": failure_result(result_skeleton(assignment, name), reason)}))

    jobs = max(1, min(jobs, len(submissions)))
    for number in range(jobs if submissions else 0):
        start(submissions[number::jobs])
    if while_starting is not None and submissions:
        preparing = threading.Thread(target=_when_idle, args=(while_starting,), daemon=True)
        preparing.start()
    try:
        while running:
            # Wakes at once when a job sends or ends, to hand on results as they come.
            wait([j.channel for j in running] + [j.process.sentinel for j in running], timeout=0.5)
            for job in list(running):
                if read(job) and job.process.is_alive():
                    if time.monotonic() - job.progress > stall_seconds:
                        job.stalled = True
                        job.process.kill()
                    continue
                job.process.join()
                read(job)
                job.channel.close()
                running.remove(job)
                left = [name for name in job.names if name in pending]
                if left and not errors:
                    fail(left[0], f"it gave no result in {stall_seconds:g} s, so its grading process "
                                  "was ended" if job.stalled else
                                  f"its grading process ended (exit code {job.process.exitcode}) "
                                  "while grading it")
                    if left[1:]:
                        start([pending[name] for name in left[1:]])
    finally:  # stopped (SIGTERM, Ctrl-C) or failed: no job outlives the batch, whose
        for job in running:  # command may end without running exit handlers (``cli.run``)
            job.process.kill()
            job.process.join()
    if preparing is not None:
        preparing.join()
    for name in list(pending):
        fail(name, "its grading process ended before grading it")
    if errors:
        raise GradingError("; ".join(dict.fromkeys(errors)))

"""What a check sees of a submission: probe calls into the sandbox within the submission's
time budget, its source text, and notes for the teacher."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from .assignment import Assignment
from .checks import CheckFailed
from .runtime.status import LoadStatus, ProbeStatus
from .sandbox import LoadResult, ProbeResult, Sandbox, TaskOutput
from .static import notebook_code
from .submission import Submission

# How a probe call that went wrong is worded for the student, by its status.
_STATUS_WORDS = {
    ProbeStatus.TIMEOUT: "did not finish in time (an endless loop, or far too slow?)",
    ProbeStatus.CRASHED: "stopped the process",
    ProbeStatus.BAD_ANSWER: "returned data the grader cannot read",
    ProbeStatus.ERROR: "could not be run",
}


class SubmissionUnderTest:
    """What a check sees of a submission: probe calls into the sandbox, and source text.

    Tasks are opened lazily, one at a time, in a fresh sandboxed child; opening another
    task closes the previous one and keeps what it printed. All loads and calls of one
    submission share a time budget (``submission_seconds``): code that is slow everywhere,
    each call just inside its own limit, still cannot hold up the batch.
    """

    def __init__(self, submission: Submission, assignment: Assignment, sandbox: Sandbox):
        self.submission = submission
        self.name = submission.name
        self.assignment = assignment
        self.sandbox = sandbox
        self.current_task: str | None = None
        self.loads: dict[str, LoadResult] = {}
        self.outputs: dict[str, TaskOutput] = {}
        self.entries: dict[str, str] = {}  # the file (or notebook) each task was graded from
        self.timed_out: set[str] = set()
        self.budget = sandbox.limits.submission_seconds
        self.sandbox_seconds = 0.0  # time spent waiting for this submission's code
        self.review: list[str] = []  # notes for the teacher: what a check could not rule out
        self.failures: list[str] = []  # where the grader itself failed on this submission

    @contextlib.contextmanager
    def _spending(self) -> Iterator[None]:
        """Count the time inside the block against this submission's budget."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.sandbox_seconds += time.monotonic() - started

    def _budget_left(self) -> float:
        return self.budget - self.sandbox_seconds

    def _budget_spent(self, what: str) -> str:
        return f"{what}: this submission used up its {self.budget:g} s of running time"

    def load(self, task: str) -> LoadResult:
        """Load ``task``'s code in a fresh child (once) and say whether it worked."""
        if task in self.loads and self.current_task == task:
            return self.loads[task]
        if task in self.loads and not self.loads[task].usable:
            return self.loads[task]
        self.close()
        spec = self.assignment.task(task)
        entry = self.submission.entry_for(spec.files, self.assignment.notebook)
        if entry is not None:
            self.entries[task] = entry
        if entry is None:
            result = LoadResult(LoadStatus.MISSING_FILE, error=f"{spec.files[0]} was not submitted")
        elif self._budget_left() <= 0:
            result = LoadResult(LoadStatus.TIMEOUT, error=self._budget_spent("not loaded"))
        else:
            files = dict(self.submission.files)
            left = self._budget_left()
            with self._spending():
                result = self.sandbox.open_task(files, entry, load_seconds=left, task=task,
                                                seed=self.assignment.seed)
            if result.status == LoadStatus.TIMEOUT and left < self.sandbox.limits.load_seconds:
                result.error = self._budget_spent("stopped")
            self.current_task = task
        self.loads[task] = result
        return result

    def begin_check(self) -> None:
        """A check starts: its calls run on a fresh copy of each task as loaded, so that no
        state kept from another check's calls can change its result (see ``Zygote``)."""
        self.sandbox.fresh_state()

    def close(self) -> None:
        if self.current_task is not None:
            output = self.sandbox.close_task()
            previous = self.outputs.get(self.current_task)
            if previous is not None:
                output = TaskOutput(
                    previous.stdout + output.stdout,
                    previous.stderr + output.stderr,
                    previous.truncated or output.truncated,
                    previous.load_stdout + output.load_stdout,
                    previous.load_stderr + output.load_stderr,
                )
            self.outputs[self.current_task] = output
            self.current_task = None

    def call(self, task: str, probe: str, *, timeout: float | None = None, **args: Any) -> ProbeResult:
        """Run a probe on ``task``'s code; any failure comes back as a status, never raised.

        After one call of a task times out, its remaining calls fail at once: a hanging
        function must not cost the batch a timeout per check.
        """
        if self._budget_left() <= 0:
            return ProbeResult(ProbeStatus.TIMEOUT, error=self._budget_spent("not run"))
        if task in self.timed_out:
            return ProbeResult(ProbeStatus.TIMEOUT, error="not run: an earlier call of this task timed out")
        loaded = self.load(task)
        if not loaded.usable:
            return ProbeResult(ProbeStatus.ERROR, error=f"the code did not load: {loaded.error}")
        if self.current_task != task:  # a crash closed it; reload once for the next check
            self.loads.pop(task, None)
            loaded = self.load(task)
            if not loaded.usable:
                return ProbeResult(ProbeStatus.ERROR, error=f"the code did not load: {loaded.error}")
        if self._budget_left() <= 0:
            return ProbeResult(ProbeStatus.TIMEOUT, error=self._budget_spent("not run"))
        own_limit = timeout or self.sandbox.limits.call_seconds
        limit = min(own_limit, self._budget_left())
        with self._spending():
            result = self.sandbox.call(probe, timeout=limit, **args)
        if result.status == ProbeStatus.TIMEOUT and limit < own_limit:
            result.error = self._budget_spent("stopped")
        if result.status == ProbeStatus.TIMEOUT:
            self.timed_out.add(task)
        if result.status in (ProbeStatus.CRASHED, ProbeStatus.TIMEOUT):
            self.close()
        return result

    def require(self, task: str, probe: str, *, what: str, timeout: float | None = None,
                **args: Any) -> Any:
        """Like ``call`` but returns the value, or fails the check with a readable message."""
        result = self.call(task, probe, timeout=timeout, **args)
        if result.ok:
            return result.value
        raise probe_failure(result, what)

    def source(self, task: str) -> str | None:
        """The task's source as text, for static checks (read here, never executed)."""
        spec = self.assignment.task(task)
        entry = self.submission.entry_for(spec.files, self.assignment.notebook)
        if entry is None:
            return None
        if entry.endswith(".ipynb"):
            return notebook_code(self.submission.files[entry])
        return self.submission.text(entry)

    def flag(self, note: str) -> None:
        """Ask a person to look at this submission (shown to the teacher, not the student):
        for what a check suspects but cannot prove, such as updates bit-identical to torch's."""
        if note not in self.review:
            self.review.append(note)

    def sources(self) -> dict[str, str]:
        """Every submitted file a task can reach, as text: each ``.py`` file by name and the
        notebook's code cells joined (one namespace), for static checks (read, never run)."""
        found: dict[str, str] = {}
        for name in sorted(self.submission.files):
            if name.endswith(".py"):
                found[name] = self.submission.text(name) or ""
            elif name == self.assignment.notebook:
                found[name] = notebook_code(self.submission.files[name]) or ""
        return found


def raised_message(what: str, result: ProbeResult) -> str:
    """``<what> raised <error>``, then where: the traceback cut to the student's own frames
    (file or notebook cell, line, source line), as the sandbox wrote it. It is in the message,
    not in ``actual``, so that hidden checks show it too: it quotes only the student's code."""
    lines = (result.error or "").strip().splitlines()
    last = lines[-1] if lines else ""
    where = "\n".join(lines[:-1])
    if not where.strip():
        where = "(no line of your files was running when it was raised)"
    return f"{what} raised {last or result.error_type}\n{where}"


def probe_failure(result: ProbeResult, what: str) -> CheckFailed:
    """Turn a failed probe call into a student-readable check failure."""
    if result.status == ProbeStatus.MISSING:
        return CheckFailed(result.error or f"{what}: a required name is missing", called=what)
    if result.status == ProbeStatus.RAISED:
        return CheckFailed(raised_message(what, result), called=what)
    words = _STATUS_WORDS.get(result.status, result.status)
    return CheckFailed(f"{what} {words}: {result.error}", called=what)

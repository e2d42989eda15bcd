"""Run an assignment's pytest checks over a batch of submissions and score them.

One pytest session grades the whole batch: the suite is collected once, every check is
parametrised over the submissions, and items run submission by submission, task by task, so
each task's code is loaded once in its own sandboxed child. A plugin turns pytest's reports
into ``CheckOutcome`` records; dependencies between checks become skips with the reason.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import platform
import queue as queue_module
import resource
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from . import __version__
from .assignment import Assignment, load_from
from .checks import DETAIL_FIELDS, CheckFailed, CheckSpec, Deviation
from .mistakes import Mistake, load_catalogue
from .reference import Reference
from .results import manual_pending
from .sandbox import LoadResult, ProbeResult, Sandbox, TaskOutput
from .sanitise import describe_error, plain, plain_text
from .static import notebook_code
from .submission import Submission, answers_text

GRADER_FAILED = "the grader failed on this submission"


@dataclass
class CheckOutcome:
    """The verdict of one check on one submission, with what the feedback needs."""

    id: str
    task: str
    title: str
    status: str
    score: float
    max_score: float
    message: str
    hint: str | None = None
    visibility: str = "visible"
    called: str | None = None
    expected: str | None = None
    actual: str | None = None
    deviation: dict[str, Any] | None = None
    mistakes: list[dict[str, str]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)
    show: tuple[str, ...] = ()

    def as_dict(self, reveal: bool, due_passed: bool) -> dict[str, Any]:
        """The outcome as ``result.json`` holds it: a check that is not yet revealed keeps
        only the detail fields its ``show`` allows, and lists what it withheld."""
        data = dict(self.__dict__)
        del data["show"]
        revealed = (reveal or self.visibility == "visible"
                    or (self.visibility == "after_due_date" and due_passed))
        withheld = []
        for name in () if revealed else DETAIL_FIELDS:
            if name not in self.show:
                if data[name]:
                    withheld.append(name)
                data[name] = [] if name == "series" else None
        data["withheld"] = withheld
        return data


_STATUS_WORDS = {
    "timeout": "did not finish in time (an endless loop, or far too slow?)",
    "crashed": "stopped the process",
    "bad_answer": "returned data the grader cannot read",
    "error": "could not be run",
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
        if task in self.loads and not self.loads[task].ok:
            return self.loads[task]
        self.close()
        spec = self.assignment.task(task)
        entry = self.submission.entry_for(spec.files, self.assignment.notebook)
        if entry is None:
            result = LoadResult("missing_file", error=f"{spec.files[0]} was not submitted")
        elif self._budget_left() <= 0:
            result = LoadResult("timeout", error=self._budget_spent("not loaded"))
        else:
            files = dict(self.submission.files)
            left = self._budget_left()
            with self._spending():
                result = self.sandbox.open_task(files, entry, load_seconds=left, task=task)
            if result.status == "timeout" and left < self.sandbox.limits.load_seconds:
                result.error = self._budget_spent("stopped")
            self.current_task = task
        self.loads[task] = result
        return result

    def close(self) -> None:
        if self.current_task is not None:
            output = self.sandbox.close_task()
            previous = self.outputs.get(self.current_task)
            if previous is not None:
                output = TaskOutput(
                    previous.stdout + output.stdout,
                    previous.stderr + output.stderr,
                    previous.truncated or output.truncated,
                )
            self.outputs[self.current_task] = output
            self.current_task = None

    def call(self, task: str, probe: str, *, timeout: float | None = None, **args: Any) -> ProbeResult:
        """Run a probe on ``task``'s code; any failure comes back as a status, never raised.

        After one call of a task times out, its remaining calls fail at once: a hanging
        function must not cost the batch a timeout per check.
        """
        if self._budget_left() <= 0:
            return ProbeResult("timeout", error=self._budget_spent("not run"))
        if task in self.timed_out:
            return ProbeResult("timeout", error="not run: an earlier call of this task timed out")
        loaded = self.load(task)
        if not loaded.ok:
            return ProbeResult("error", error=f"the code did not load: {loaded.error}")
        if self.current_task != task:  # a crash closed it; reload once for the next check
            self.loads.pop(task, None)
            loaded = self.load(task)
            if not loaded.ok:
                return ProbeResult("error", error=f"the code did not load: {loaded.error}")
        if self._budget_left() <= 0:
            return ProbeResult("timeout", error=self._budget_spent("not run"))
        own_limit = timeout or self.sandbox.limits.call_seconds
        limit = min(own_limit, self._budget_left())
        with self._spending():
            result = self.sandbox.call(probe, timeout=limit, **args)
        if result.status == "timeout" and limit < own_limit:
            result.error = self._budget_spent("stopped")
        if result.status == "timeout":
            self.timed_out.add(task)
        if result.status in ("crashed", "timeout"):
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


def probe_failure(result: ProbeResult, what: str) -> CheckFailed:
    """Turn a failed probe call into a student-readable check failure."""
    if result.status == "missing":
        return CheckFailed(result.error or f"{what}: a required name is missing", called=what)
    if result.status == "raised":
        first = (result.error or "").strip().splitlines()
        last = first[-1] if first else ""
        return CheckFailed(
            f"{what} raised {last or result.error_type}",
            called=what,
            actual=result.error,
        )
    words = _STATUS_WORDS.get(result.status, result.status)
    return CheckFailed(f"{what} {words}: {result.error}", called=what)


class GradingPlugin:
    """Feeds submissions to the checks and records every outcome."""

    def __init__(
        self,
        assignment: Assignment,
        submissions: list[Submission],
        sandbox: Sandbox,
        on_done: Callable[[Submission, SubmissionUnderTest, list[CheckOutcome], float], None],
    ) -> None:
        self.assignment = assignment
        self.submissions = submissions
        self.sandbox = sandbox
        self.on_done = on_done
        self.catalogue: dict[str, Mistake] = load_catalogue(assignment.mistakes)
        self.task_order = {t.id: i for i, t in enumerate(assignment.tasks)}
        self.outcomes: dict[int, dict[str, CheckOutcome]] = {}
        self.current: tuple[int, SubmissionUnderTest, float] | None = None
        self.collection_errors: list[str] = []
        self.failures: dict[int, list[str]] = {}  # by submission: where the grader failed
        self._reference: Reference | None = None

    # -- fixtures the checks use ------------------------------------------------------------
    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> SubmissionUnderTest:
        index = request.param
        if self.current is None or self.current[0] != index:
            self._finish_current()
            self.sandbox.ready()  # a worker the last submission broke is replaced on no one's time
            submission = self.submissions[index].loaded_again(self.assignment)
            under_test = SubmissionUnderTest(submission, self.assignment, self.sandbox)
            self.current = (index, under_test, time.monotonic())
        return self.current[1]

    @pytest.fixture
    def reference(self) -> Reference:
        if self._reference is None:
            self._reference = Reference(self.assignment)
        return self._reference

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        spec = _spec(request.node)
        return np.random.default_rng([self.assignment.seed, zlib.crc32(spec.name.encode())])

    # -- pytest hooks -----------------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "submission" in metafunc.fixturenames:
            ids = [s.name for s in self.submissions]
            metafunc.parametrize("submission", range(len(self.submissions)), ids=ids, indirect=True)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Order items submission by submission, task by task, and every check after the
        checks it depends on (then in file order)."""
        for item in items:
            if _spec(item, required=False) is None:
                raise pytest.UsageError(f"{item.nodeid} is not declared with @check")
        specs = {f"{_spec(i).task}.{_spec(i).name}": _spec(i) for i in items}
        depth: dict[str, int] = {}

        def level(check_id: str, seen: tuple[str, ...] = ()) -> int:
            if check_id not in depth:
                spec = specs.get(check_id)
                if spec is None or check_id in seen:
                    return 0
                depth[check_id] = 1 + max(
                    (level(d, (*seen, check_id)) for d in spec.depends), default=-1
                )
            return depth[check_id]

        def key(pair: tuple[int, pytest.Item]) -> tuple:
            position, item = pair
            spec = _spec(item)
            index = item.callspec.params.get("submission", 0) if hasattr(item, "callspec") else 0
            return (index, self.task_order.get(spec.task, 99), level(f"{spec.task}.{spec.name}"), position)

        items[:] = [item for _, item in sorted(enumerate(items), key=key)]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        spec = _spec(item)
        done = self.outcomes.get(item.callspec.params["submission"], {})
        for dependency in spec.depends:
            outcome = done.get(dependency)
            if outcome is None or outcome.status != "passed":
                pytest.skip(f"skipped because the check {dependency!r} did not pass")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
        report = _plain_report(item, call)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            try:
                outcome = self._outcome(item, call, report)
            except Exception as exc:  # the check's verdict could not be recorded
                outcome = self._grader_failed(item, f"recording this check's outcome: {describe_error(exc)}")
            index = item.callspec.params["submission"]
            self.outcomes.setdefault(index, {})[outcome.id] = outcome
        return report

    def pytest_sessionfinish(self) -> None:
        self._finish_current()

    # -- turning a pytest report into an outcome --------------------------------------------
    def _outcome(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> CheckOutcome:
        spec = _spec(item)
        doc = (item.function.__doc__ or spec.name).strip().splitlines()[0]  # type: ignore[attr-defined]
        outcome = CheckOutcome(
            id=f"{spec.task}.{spec.name}",
            task=spec.task,
            title=doc,
            status="passed",
            score=spec.points,
            max_score=spec.points,
            message="passed",
            visibility=spec.visibility,
            depends=list(spec.depends),
            show=spec.show,
        )
        if report.passed:
            return outcome
        outcome.score = 0.0
        if report.skipped:
            outcome.status = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            outcome.message = reason.removeprefix("Skipped: ")
            return outcome
        error = call.excinfo.value if call.excinfo is not None else None
        if report.when == "setup":  # fixtures are the grader's own code, not the student's
            return self._grader_failed(item, f"preparing this check: {describe_error(error)}")
        if isinstance(error, CheckFailed):
            outcome.status = "failed"
            outcome.message = error.message
            outcome.hint = error.hint
            outcome.called, outcome.expected, outcome.actual = (
                _text_or_none(error.called), _text_or_none(error.expected), _text_or_none(error.actual))
            outcome.deviation = plain(_deviation(error.deviation))
            outcome.mistakes = [self._mistake(m) for m in dict.fromkeys(error.mistakes)]
            outcome.series = plain(list(error.series))
            outcome.message, outcome.hint = plain_text(outcome.message), _text_or_none(outcome.hint)
        elif isinstance(error, AssertionError):
            outcome.status = "failed"
            outcome.message = plain_text(error).split("\nassert")[0][:2000] or "an assertion failed"
        else:
            outcome.status = "error"
            outcome.message = (
                f"the check could not judge this submission ({describe_error(error)}); "
                "this usually means the code returned something of an unexpected form"
            )
        return outcome

    def _grader_failed(self, item: pytest.Item, what: str) -> CheckOutcome:
        """An error outcome for a check the grader itself failed on, flagged for the teacher."""
        spec = _spec(item)
        note = f"{GRADER_FAILED} ({spec.task}.{spec.name}): {what}"
        self.failures.setdefault(item.callspec.params["submission"], []).append(note)
        return CheckOutcome(
            id=f"{spec.task}.{spec.name}", task=spec.task, title=spec.name, status="error",
            score=0.0, max_score=spec.points, message=note, visibility=spec.visibility,
            depends=list(spec.depends),
        )

    def _mistake(self, mistake_id: str) -> dict[str, str]:
        mistake = self.catalogue.get(mistake_id)
        if mistake is None:  # a suite bug; the kit's tests catch it, grading goes on
            return {"id": mistake_id, "title": mistake_id, "explanation": "", "fix": ""}
        return mistake.for_feedback()

    def _finish_current(self) -> None:
        """Hand the finished submission on; nothing it does may reach the next one."""
        if self.current is None:
            return
        index, under_test, started = self.current
        self.current = None
        try:
            under_test.close()
        except Exception as exc:
            under_test.failures.append(f"{GRADER_FAILED}: closing its sandbox task: {describe_error(exc)}")
        checks = list(self.outcomes.pop(index, {}).values())
        under_test.failures.extend(self.failures.pop(index, []))
        self.on_done(under_test.submission, under_test, checks, time.monotonic() - started)


def _plain_report(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """pytest's report without its traceback rendering, which re-parses the check's source
    for every failure (tens of milliseconds each); the outcome is built from the exception."""
    excinfo = call.excinfo
    longrepr: tuple[str, int, str] | str | None = None
    if excinfo is None:
        outcome = "passed"
    elif isinstance(excinfo.value, pytest.skip.Exception):
        outcome = "skipped"
        longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {excinfo.value.msg}")
    else:
        outcome = "failed"
        longrepr = f"{excinfo.typename}: {str(excinfo.value)[:2000]}"
    return pytest.TestReport(
        item.nodeid, item.location, dict.fromkeys(item.keywords, 1), outcome, longrepr,  # type: ignore[arg-type]
        call.when, duration=call.duration, start=call.start, stop=call.stop,
    )


def _spec(item: Any, required: bool = True) -> CheckSpec | None:
    marker = item.get_closest_marker("check") if hasattr(item, "get_closest_marker") else None
    if marker is None:
        if required:
            raise LookupError(f"{item} has no @check declaration")
        return None
    return marker.args[0]


def _deviation(deviation: Deviation | None) -> dict[str, Any] | None:
    return None if deviation is None else dict(deviation.__dict__)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else plain_text(value)


@dataclass
class GradingOptions:
    """How a batch is graded."""

    suites: tuple[str, ...] = ("public", "hidden")
    layer: str | None = None
    warm: bool = True
    reveal: bool = False
    isolate_tasks: bool = True  # False only for the benchmark's measure of what isolation costs


def suite_files(assignment: Assignment, suites: tuple[str, ...]) -> list[Path]:
    """The check files of the requested suites (``public`` and/or ``hidden``)."""
    files: list[Path] = []
    if "public" in suites:
        files += sorted(assignment.public_dir.glob("test_*.py"))
    if "hidden" in suites:
        files += sorted(assignment.hidden_dir.glob("test_*.py"))
    return files


def environment(sandbox: Sandbox) -> dict[str, str]:
    """Versions that graded a submission, for reproducibility."""
    import torch

    env = {
        "kit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
    env.update({f"sandbox_{k}": v for k, v in sandbox.versions.items()})
    return env


def build_result(
    assignment: Assignment,
    submission: Submission,
    under_test: SubmissionUnderTest | None,
    checks: list[CheckOutcome],
    sandbox: Sandbox,
    wall_seconds: float,
    reveal: bool,
    due_passed: bool = False,
) -> dict[str, Any]:
    """Assemble ``result.json`` for one submission from its check outcomes."""
    tasks = []
    for task in assignment.tasks:
        output = under_test.outputs.get(task.id) if under_test else None
        entry: dict[str, Any] = {
            "id": task.id,
            "title": task.title,
            "score": None if task.manual else sum(c.score for c in checks if c.task == task.id),
            "max_score": task.points,
            "manual": task.manual,
            "files": list(task.files),
        }
        if output is not None:
            entry["output"] = {
                "stdout": output.stdout, "stderr": output.stderr, "truncated": output.truncated
            }
        if task.manual:
            entry["answer"] = {"text": answers_text(submission, task, assignment), "comment": None}
        tasks.append(entry)
    automatic = sum(t["score"] or 0.0 for t in tasks)
    result = {
        "schema_version": 1,
        "kit_version": __version__,
        "assignment": assignment.name,
        "submission": submission.name,
        "score": round(automatic, 6),
        "max_score": assignment.max_score,
        "manual_pending": manual_pending({"tasks": tasks}),
        "problems": list(submission.problems),
        "review": list(under_test.review) if under_test else [],
        "tasks": tasks,
        "checks": [c.as_dict(reveal, due_passed) for c in checks],
        "disclosure": {
            "due": assignment.due.isoformat() if assignment.due else None,
            "due_passed": due_passed,
            "reveal": reveal,
        },
        "sandbox": {"layer": sandbox.layer or "none", "detail": sandbox.detail, "warm": sandbox.warm,
                    "cgroup": sandbox.cgroup_note, "isolation": sandbox.isolation},
        "seeds": {"assignment": assignment.seed},
        "environment": environment(sandbox),
        "timing": {
            "wall_s": round(wall_seconds, 4),
            "sandbox_s": round(under_test.sandbox_seconds, 4) if under_test else 0.0,
        },
    }
    if under_test is not None and under_test.failures:
        result["grader_failure"] = "; ".join(under_test.failures)
    return plain(result)


def result_skeleton(assignment: Assignment, name: str, sandbox: Sandbox | None = None) -> dict[str, Any]:
    """What a result says before any check ran: who, which tasks, which sandbox."""
    return {
        "assignment": assignment.name,
        "submission": name,
        "max_score": assignment.max_score,
        "tasks": [{"id": t.id, "title": t.title, "max_score": t.points, "manual": t.manual,
                   "files": list(t.files)} for t in assignment.tasks],
        "sandbox": {"layer": (sandbox.layer or "none") if sandbox else "unknown",
                    "detail": sandbox.detail if sandbox else ""},
        "seeds": {"assignment": assignment.seed},
    }


def failure_result(base: dict[str, Any], reason: str) -> dict[str, Any]:
    """The result of a submission the grader failed on: no points, every automatic task
    at 0, and ``grader_failure`` saying why, for the teacher to re-grade or look into.

    ``base`` is a result (or ``result_skeleton``); only its identity, tasks and sandbox are
    kept, each checked for shape, since whatever broke may have broken them too.
    """
    def text(value: Any, default: str) -> str:
        return value if isinstance(value, str) else default

    tasks = []
    for task in base.get("tasks") if isinstance(base.get("tasks"), list) else []:
        if isinstance(task, dict) and isinstance(task.get("max_score"), int | float):
            manual = task.get("manual") is True
            entry = {"id": text(task.get("id"), "?"), "title": text(task.get("title"), ""),
                     "score": None if manual else 0.0, "max_score": task["max_score"], "manual": manual}
            if manual:
                entry["answer"] = {"text": None, "comment": None}
            tasks.append(entry)
    sandbox = base.get("sandbox") if isinstance(base.get("sandbox"), dict) else {}
    layer = sandbox.get("layer")
    note = reason if reason.startswith(GRADER_FAILED) else f"{GRADER_FAILED}: {reason}"
    max_score = base.get("max_score")
    return plain({
        "schema_version": 1,
        "kit_version": __version__,
        "assignment": text(base.get("assignment"), "?"),
        "submission": text(base.get("submission"), "?"),
        "score": 0.0,
        "max_score": max_score if isinstance(max_score, int | float) else 0.0,
        "manual_pending": manual_pending({"tasks": tasks}),
        "problems": [note],
        "review": [],
        "grader_failure": note,
        "tasks": tasks,
        "checks": [],
        "sandbox": {"layer": layer if layer in ("bwrap", "unshare", "rlimits", "none") else "unknown",
                    "detail": text(sandbox.get("detail"), "")},
        "seeds": base.get("seeds") if isinstance(base.get("seeds"), dict) else {},
        "environment": {},
        "timing": {"wall_s": 0.0, "sandbox_s": 0.0},
    })


class GradingError(Exception):
    """The grader itself could not run (not a problem with a submission)."""


def grade_batch(
    assignment: Assignment,
    submissions: list[Submission],
    options: GradingOptions,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Grade every submission, calling ``on_result`` with each result as soon as it is ready."""
    import torch

    torch.set_num_threads(1)  # reference computations are tiny; threads only add overhead
    files = suite_files(assignment, options.suites)
    if not files:
        raise GradingError(f"no check files found for {assignment.name} ({', '.join(options.suites)})")
    sandbox = Sandbox(assignment.probes, assignment.limits, layer=options.layer, warm=options.warm,
                      isolate_tasks=options.isolate_tasks)
    try:
        sandbox.start()
    except Exception as exc:
        raise GradingError(str(exc)) from exc

    due_passed = assignment.due is not None and datetime.now(UTC) >= assignment.due

    reported: set[str] = set()  # by name: what reaches ``done`` is the submission read again

    def report(sub: Submission, result: dict[str, Any]) -> None:
        reported.add(sub.name)
        try:
            on_result(result)
        except Exception as exc:  # a result that cannot be passed on becomes a failure
            on_result(failure_result(result, f"handing on its result: {describe_error(exc)}"))

    def done(sub: Submission, under_test: SubmissionUnderTest, checks: list[CheckOutcome],
             seconds: float) -> None:
        try:
            result = build_result(assignment, sub, under_test, checks, sandbox, seconds,
                                  options.reveal, due_passed)
        except Exception as exc:
            result = failure_result(result_skeleton(assignment, sub.name, sandbox),
                                    f"building its result: {describe_error(exc)}")
        report(sub, result)

    plugin = GradingPlugin(assignment, submissions, sandbox, done)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            ini = Path(scratch) / "pytest.ini"
            ini.write_text("[pytest]\n")
            # Plugins a grading session has no use for are off: log capture and the
            # end-of-session garbage hunts cost more than some checks.
            quiet = ["no:cacheprovider", "no:terminal", "no:logging", "no:unraisableexception",
                     "no:threadexception", "no:stepwise", "no:junitxml"]
            args = [
                "-c", str(ini), "--rootdir", str(assignment.folder),
                *[arg for plugin in quiet for arg in ("-p", plugin)],
                "--import-mode=importlib", "-W", "ignore::DeprecationWarning", *map(str, files),
            ]
            code = pytest.main(args, plugins=[plugin])
    finally:
        sandbox.shutdown()
    if plugin.collection_errors:
        raise GradingError("the check suite could not be collected:\n" + "\n".join(plugin.collection_errors))
    if code == pytest.ExitCode.USAGE_ERROR:
        raise GradingError("pytest refused the check suite (exit code 4): see the message above")
    for index, sub in enumerate(submissions):  # no check reached it: it still gets a result
        if sub.name not in reported:
            reason = "; ".join(plugin.failures.get(index, [])) or (
                f"the grading session ended before it (pytest exit code {int(code)})")
            report(sub, failure_result(result_skeleton(assignment, sub.name, sandbox), reason))


def _grade_chunk(folder: Path, submissions: list[Submission], options: GradingOptions,
                 queue: multiprocessing.Queue) -> None:
    """One grading job: grade a share of the batch, saying which submission it starts and
    sending each result as JSON text, so the parent knows what a job that dies left undone."""
    try:
        def send(result: dict[str, Any]) -> None:
            queue.put(("result", json.dumps(result, allow_nan=False)))

        grade_batch(load_from(folder), submissions, options, send)
    except Exception as exc:  # reported to the parent, which raises GradingError
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
    queue.put(("peak", str(own_peak_mib())))


def own_peak_mib() -> float:
    """This process's peak resident memory in MiB. ``VmHWM`` belongs to the process's own
    memory map, so a job spawned from a large parent does not inherit the parent's size (Linux
    carries ``ru_maxrss`` across fork and exec); ``ru_maxrss`` where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
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
    peak resident memory (MiB) to ``peaks``.
    """
    context = multiprocessing.get_context("spawn")
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

    def fail(name: str, reason: str) -> None:
        take("result", json.dumps(failure_result(result_skeleton(assignment, name), reason)))

    jobs = max(1, min(jobs, len(submissions)))
    for number in range(jobs if submissions else 0):
        start(submissions[number::jobs])
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

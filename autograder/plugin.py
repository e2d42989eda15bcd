"""The pytest plugin of a grading session: it feeds submissions to the checks, orders them,
and turns pytest's reports into ``CheckOutcome`` records; dependencies between checks become
skips with the reason."""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from .assignment import Assignment
from .checks import CheckFailed, CheckSpec, Deviation
from .mistakes import Mistake, load_catalogue
from .outcomes import GRADER_FAILED, CheckOutcome, CheckStatus
from .reference import Reference
from .runtime.status import LoadStatus
from .sandbox import Sandbox
from .sanitise import describe_error, plain, plain_text
from .submission import Submission
from .under_test import SubmissionUnderTest


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
        self.current[1].begin_check()  # each check judges the code as loaded, not as left
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
            if outcome is None or outcome.status != CheckStatus.PASSED:
                if self._partly_loaded(dependency):
                    continue
                why = self._load_failure(dependency)
                pytest.skip(f"skipped because the check {dependency!r} did not pass{why}")

    def _load_failure(self, dependency: str) -> str:
        """For a skip because a task's code did not load: what went wrong and where, so that
        every skipped check points at the line to fix (empty for any other dependency)."""
        task, _, name = dependency.partition(".")
        if name != "loads" or self.current is None:
            return ""
        under_test = self.current[1]
        loaded = under_test.loads.get(task)
        if loaded is None or loaded.usable or not loaded.error:
            return ""
        lines = loaded.error.strip().splitlines()
        places = _PLACE.findall(loaded.error)
        where = f" at {places[-1][0]} line {places[-1][1]}" if places else ""
        entry = under_test.entries.get(task, "the code")
        return f" ({entry} did not load: {lines[-1][:300]}{where})"

    def _partly_loaded(self, dependency: str) -> bool:
        """Whether ``dependency`` is a task's loading check that failed only because some
        notebook cells raised: the checks then judge what the other cells defined (a broken
        demo cell must not cost every point), and the loading check says which cells."""
        task, _, name = dependency.partition(".")
        if name != "loads" or self.current is None:
            return False
        loaded = self.current[1].loads.get(task)
        return loaded is not None and loaded.status == LoadStatus.CELLS_FAILED

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
            status=CheckStatus.PASSED,
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
            outcome.status = CheckStatus.SKIPPED
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            outcome.message = reason.removeprefix("Skipped: ")
            return outcome
        error = call.excinfo.value if call.excinfo is not None else None
        if report.when == "setup":  # fixtures are the grader's own code, not the student's
            return self._grader_failed(item, f"preparing this check: {describe_error(error)}")
        if isinstance(error, CheckFailed):
            outcome.status = CheckStatus.FAILED
            outcome.message = self._loads_message(spec, error.message)
            outcome.hint = error.hint
            outcome.called, outcome.expected, outcome.actual = (
                _text_or_none(error.called), _text_or_none(error.expected), _text_or_none(error.actual))
            outcome.deviation = plain(_deviation(error.deviation))
            outcome.mistakes = [self._mistake(m) for m in dict.fromkeys(error.mistakes)]
            outcome.series = plain(list(error.series))
            outcome.message, outcome.hint = plain_text(outcome.message), _text_or_none(outcome.hint)
        elif isinstance(error, AssertionError):
            outcome.status = CheckStatus.FAILED
            outcome.message = plain_text(error).split("\nassert")[0][:2000] or "an assertion failed"
        else:
            outcome.status = CheckStatus.ERROR
            outcome.message = (
                f"the check could not judge this submission ({describe_error(error)}); "
                "this usually means the code returned something of an unexpected form"
            )
        return outcome

    def _loads_message(self, spec: CheckSpec, message: str) -> str:
        """A task's loading check that failed says where: the file and line of the error, or,
        when notebook cells raised, which cells (the check's own words are for a file that
        did not load at all). Any other check's message is kept as it is."""
        if spec.name != "loads" or self.current is None:
            return message
        under_test = self.current[1]
        loaded = under_test.loads.get(spec.task)
        if loaded is None or not loaded.error:
            return message
        if loaded.status != LoadStatus.CELLS_FAILED:
            places = _PLACE.findall(loaded.error)
            return f"{message} (at {places[-1][0]} line {places[-1][1]})" if places else message
        task = self.assignment.task(spec.task)
        entry = under_test.submission.entry_for(task.files, self.assignment.notebook)
        lines = (loaded.error or "").strip().splitlines()
        return f"{entry} ran, but not all of it: {lines[-1] if lines else 'some cells raised'}"

    def _grader_failed(self, item: pytest.Item, what: str) -> CheckOutcome:
        """An error outcome for a check the grader itself failed on, flagged for the teacher."""
        spec = _spec(item)
        note = f"{GRADER_FAILED} ({spec.task}.{spec.name}): {what}"
        self.failures.setdefault(item.callspec.params["submission"], []).append(note)
        return CheckOutcome(
            id=f"{spec.task}.{spec.name}", task=spec.task, title=spec.name, status=CheckStatus.ERROR,
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


_PLACE = re.compile(r'File "([^"\n]{1,200})", line (\d{1,9})')


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

"""Grade a batch of submissions in pytest sessions, in this process, with one sandbox.

In each session the suite is collected once, every check is parametrised over the session's
submissions, and items run submission by submission, task by task, so each task's code is
loaded once in its own sandboxed child. A session takes at most ``SESSION_SUBMISSIONS``: pytest
holds an item per check and submission, so a grading process's memory stays the same however
large the class.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .assignment import Assignment
from .outcomes import CheckOutcome
from .plugin import GradingPlugin
from .reference import cache_runs
from .results import build_result, failure_result, result_skeleton
from .sandbox import Sandbox, SandboxError
from .sanitise import describe_error
from .submission import Submission
from .under_test import SubmissionUnderTest


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


SESSION_SUBMISSIONS = 50


class GradingError(Exception):
    """The grader itself could not run (not a problem with a submission)."""


def grade_batch(
    assignment: Assignment,
    submissions: list[Submission],
    options: GradingOptions,
    on_result: Callable[[dict[str, Any]], None],
    sandbox: Sandbox | None = None,
) -> None:
    """Grade every submission, calling ``on_result`` with each result as soon as it is ready;
    a problem with the suite or the sandbox (not with a submission) raises ``GradingError``.

    ``sandbox``: one already started, which the caller keeps (a cluster worker reuses its
    warm sandbox across batches); by default the batch starts its own and stops it."""
    files = suite_files(assignment, options.suites)
    if not files:
        raise GradingError(f"no check files found for {assignment.name} ({', '.join(options.suites)})")
    owned = sandbox is None
    if sandbox is None:
        sandbox = Sandbox(assignment.probes, assignment.limits, layer=options.layer, warm=options.warm,
                          isolate_tasks=options.isolate_tasks)
        try:
            sandbox.start(wait=False)  # it warms up while the suite is collected
        except Exception as exc:
            raise GradingError(str(exc)) from exc
    started = _SandboxStarted(sandbox)
    import torch  # after the launch: the worker imports its own meanwhile

    torch.set_num_threads(1)  # reference computations are tiny; threads only add overhead

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

    try:
        # An empty batch still reads the suite: its problems are the grader's to report.
        for first in range(0, max(len(submissions), 1), SESSION_SUBMISSIONS):
            share = submissions[first:first + SESSION_SUBMISSIONS]
            code, plugin = _session(assignment, files, share, sandbox, started, done)
            if started.error:
                raise GradingError(started.error)
            if plugin.collection_errors:
                raise GradingError("the check suite could not be collected:\n"
                                   + "\n".join(plugin.collection_errors))
            if code == pytest.ExitCode.USAGE_ERROR:
                raise GradingError("pytest refused the check suite (exit code 4): see the message above")
            for index, sub in enumerate(share):  # no check reached it: it still gets a result
                if sub.name not in reported:
                    reason = "; ".join(plugin.failures.get(index, [])) or (
                        f"the grading session ended before it (pytest exit code {int(code)})")
                    report(sub, failure_result(result_skeleton(assignment, sub.name, sandbox), reason))
    finally:
        if owned:
            sandbox.shutdown()


def _session(assignment: Assignment, files: list[Path], submissions: list[Submission], sandbox: Sandbox,
             started: _SandboxStarted, done: Callable[..., None]) -> tuple[int, GradingPlugin]:
    """One pytest session over ``submissions``: its exit code and its plugin's record."""
    plugin = GradingPlugin(assignment, submissions, sandbox, done)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            ini = Path(scratch) / "pytest.ini"
            ini.write_text("[pytest]\n")
            # Plugins a grading session has no use for are off: log capture and the
            # end-of-session garbage hunts cost more than some checks. No installed plugin is
            # loaded either: one could change how checks run (reorder, retry, time out), and
            # finding and importing them cost a tenth of a second per process.
            quiet = ["no:cacheprovider", "no:terminal", "no:logging", "no:unraisableexception",
                     "no:threadexception", "no:stepwise", "no:junitxml"]
            args = [
                "-c", str(ini), "--rootdir", str(assignment.folder), "--disable-plugin-autoload",
                *[arg for plugin in quiet for arg in ("-p", plugin)],
                "--import-mode=importlib", "-W", "ignore::DeprecationWarning", *map(str, files),
            ]
            forget_suite_modules(files)
            with cache_runs(assignment):
                code = pytest.main(args, plugins=[started, plugin])
    finally:
        forget_suite_modules(files)
    return code, plugin


class _SandboxStarted:
    """Waits, once the suite is collected and before any check runs, for the worker that
    ``grade_batch`` launched; if no layer can start one, no check runs."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.error: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        try:
            self.sandbox.wait_started()
        except SandboxError as exc:
            self.error = str(exc)
            return True  # the loop is done: nothing runs
        return None


def forget_suite_modules(files: list[Path]) -> None:
    """Drop the check files pytest imported from ``sys.modules``. pytest names them after
    their path under the assignment's folder (``public.test_public``), the same for every
    assignment, and would reuse one it finds there: a second assignment graded in the same
    process would run the first one's checks."""
    paths = {str(path.resolve()) for path in files}
    names = {path.name for path in files}  # resolving every module's file would cost 0.1 s
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and os.path.basename(file) in names and str(Path(file).resolve()) in paths:
            del sys.modules[name]

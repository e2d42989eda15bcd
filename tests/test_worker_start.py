"""The sandbox worker is launched first and waited for only when a task needs it, so it warms
up while the grader reads the suite; a worker that cannot start still stops grading cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ECHO_PROBES, FAST_LIMITS
from course import COURSE, HW1_SAMPLES

from autograder import assignment as assignments
from autograder.batch import GradingError, GradingOptions, grade_batch
from autograder.runtime.status import LoadStatus
from autograder.sandbox import Sandbox, SandboxError
from autograder.submission import discover


def test_a_launched_worker_is_waited_for_by_its_first_task():
    sandbox = Sandbox(ECHO_PROBES, FAST_LIMITS, layer="none")
    try:
        sandbox.start(wait=False)
        assert sandbox.layer is None  # launched, not yet known to work
        loaded = sandbox.open_task({"main.py": b"x = 1\n"}, "main.py")
        assert loaded.status == LoadStatus.LOADED and sandbox.layer == "none"
    finally:
        sandbox.shutdown()


def test_a_worker_that_never_replies_is_an_error_when_waited_for(tmp_path: Path):
    broken = tmp_path / "probes.py"
    broken.write_text("raise SystemExit('these probes cannot load')\n", encoding="utf-8")
    sandbox = Sandbox(broken, FAST_LIMITS, layer="none")
    try:
        sandbox.start(wait=False)  # launching works: the failure shows when waited for
        with pytest.raises(SandboxError, match="no sandbox layer could start the worker"):
            sandbox.wait_started()
    finally:
        sandbox.shutdown()


def test_grading_with_a_worker_that_cannot_start_is_a_grading_error(tmp_path: Path):
    course = tmp_path / "course"
    shutil.copytree(COURSE / "assignments" / "hw1", course / "assignments" / "hw1",
                    ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copytree(COURSE / "solutions" / "hw1", course / "solutions" / "hw1")
    (course / "assignments" / "hw1" / "probes.py").write_text(
        "raise SystemExit('these probes cannot load')\n", encoding="utf-8")
    spec = assignments.load("hw1", course)
    results: list[dict] = []
    with pytest.raises(GradingError, match="no sandbox layer could start the worker"):
        grade_batch(spec, discover([HW1_SAMPLES / "reference"], spec), GradingOptions(layer="none"),
                    results.append)
    assert results == []  # no check ran, so nothing was graded

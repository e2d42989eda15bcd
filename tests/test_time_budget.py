"""A submission whose code is slow everywhere, every call just inside its own limit, is
stopped by the per-submission time budget and cannot hold up the batch."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from course import COURSE, HW1_SAMPLES

from autograder import assignment
from autograder.batch import GradingOptions, grade_batch
from autograder.submission import discover

SAMPLES = HW1_SAMPLES
SLOW_ROOTS = '''
import time


def gradient_descent(grad, x0, lr, tol=1e-10, max_iter=100_000):
    time.sleep(1.5)
    return 0.0


def find_roots(a, b, c):
    time.sleep(1.5)
    return []


def solve(x0, optimizer_cls, max_iter=10_000, **optimizer_kwargs):
    time.sleep(1.5)
    return 0.0
'''


def test_slow_code_is_stopped_by_the_submission_budget(tmp_path: Path) -> None:
    hw1 = assignment.load("hw1", COURSE)
    budget, call = 4.0, 2.0
    limits = dataclasses.replace(hw1.limits, call_seconds=call, submission_seconds=budget)
    tight = dataclasses.replace(hw1, limits=limits)
    for name in ("slow", "reference"):
        shutil.copytree(SAMPLES / "reference", tmp_path / name)
    (tmp_path / "slow" / "roots.py").write_text(SLOW_ROOTS)
    results: dict[str, dict[str, Any]] = {}
    grade_batch(tight, discover([tmp_path], tight), GradingOptions(),
                lambda r: results.setdefault(r["submission"], r))

    slow, honest = results["slow"], results["reference"]
    # The budget covers the slow submission's loads and calls; one call may start just before
    # it runs out and take up to its own limit.
    assert slow["timing"]["sandbox_s"] <= budget + call + 1.0
    roots = [c for c in slow["checks"] if c["task"] == "roots" and c["status"] != "skipped"]
    spent = [c for c in roots if "used up its 4 s of running time" in c["message"]]
    assert spent, [c["message"] for c in roots]
    # What ran before the budget was spent still counts, and the next submission is unaffected.
    assert next(t for t in slow["tasks"] if t["id"] == "deep_net")["score"] == 25
    assert honest["score"] == 90
    assert honest["timing"]["sandbox_s"] < budget

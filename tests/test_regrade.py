"""Re-grades are identical and checks independent: state a submission keeps between calls (a
module-level dict keyed by ``id(p)`` here) does not carry from one check into the next, because
each check runs on a fresh copy of the task as it was loaded; and the random generators and
string hashing are fixed in the sandbox, as the result records."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTS_DIR, start_sandbox
from course import COURSE, HW1_SAMPLES

from autograder import assignment
from autograder.batch import GradingOptions, grade_batch
from autograder.sandbox import LAYERS
from autograder.submission import discover

CLASS_STATE = TESTS_DIR / "fixtures" / "regrade" / "class_state_by_id_optimizer.py"
COPIES = ("first", "second", "third")


def verdicts(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a re-grade must repeat exactly: every check's status, score and what it says."""
    return [(c["id"], c["status"], c["score"], c["message"], c.get("actual"), c.get("expected"))
            for c in result["checks"]]


def grade(hw1: assignment.Assignment, folder: Path) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    grade_batch(hw1, discover([folder], hw1), GradingOptions(),
                lambda r: results.setdefault(r["submission"], r))
    return results


def test_state_kept_by_id_between_checks_does_not_change_a_regrade(tmp_path: Path) -> None:
    hw1 = assignment.load("hw1", COURSE)
    for name in COPIES:
        shutil.copytree(HW1_SAMPLES / "reference", tmp_path / "batch" / name)
        shutil.copy(CLASS_STATE, tmp_path / "batch" / name / "optimizer.py")
    (tmp_path / "batch" / COPIES[0] / "expected.toml").unlink()
    shutil.copytree(tmp_path / "batch" / COPIES[0], tmp_path / "alone" / "again")
    # Three copies one after another in one worker (each meets the worker as the last left
    # it), then one more in a worker of its own.
    batch = grade(hw1, tmp_path / "batch")
    alone = grade(hw1, tmp_path / "alone")
    runs = [batch[name] for name in COPIES] + [alone["again"]]
    first = verdicts(runs[0])
    for run in runs[1:]:
        assert verdicts(run) == first
    assert len({run["score"] for run in runs}) == 1
    # Its update rules are right; only keeping the state outside self.state (lost by
    # state_dict) fails, the same on every run.
    failed = {c["id"] for c in runs[0]["checks"] if c["status"] != "passed"}
    assert failed == {"optimizer.state_dict_roundtrip"}, [
        (c["id"], c["message"][:200]) for c in runs[0]["checks"] if c["status"] != "passed"]
    regrade = runs[0]["regrade"]
    assert regrade["fresh_copy_per_check"] is True and regrade["seed"] == hw1.seed
    assert regrade["hash_seed"] == "0" and regrade["stable_ids"] is True


SEEN = """
import random
import numpy as np
import torch

LOADED = (random.random(), float(np.random.rand()), float(torch.rand(1)))
KEPT = []


def f():
    KEPT.append(len(KEPT))
    ids = [id(torch.zeros(1)) for _ in range(3)]  # each freed at once: its address is free again
    return {"loaded": list(LOADED), "calls": len(KEPT), "order": list({"b", "a", "c", "weight", "bias"}),
            "ids": ids}
"""


@pytest.mark.parametrize("layer", LAYERS)
def test_each_check_gets_the_task_as_loaded_with_the_same_seeds(layer: str) -> None:
    sandbox = start_sandbox(layer)
    try:
        answers = []
        for _ in range(2):  # two loads: the same seeds and string order each time
            loaded = sandbox.open_task({"student.py": SEEN.encode()}, "student.py", seed=7)
            assert loaded.ok and loaded.determinism["seed"] == 7
            assert loaded.determinism["hash_seed"] == "0"
            same_check = [sandbox.call("call_f").value for _ in range(2)]
            sandbox.fresh_state()
            next_check = sandbox.call("call_f").value
            sandbox.close_task()
            # Calls of one check share their state; the next check starts from the load.
            assert [v["calls"] for v in same_check] == [1, 2] and next_check["calls"] == 1
            # id() never hands out a freed object's number again, and numbers the same way
            # in every copy: a dict keyed by id(p) cannot meet a dead tensor's entry.
            assert len(set(next_check["ids"])) == 3 and next_check["ids"] == same_check[0]["ids"]
            answers.append((same_check[0]["loaded"], same_check[0]["order"], next_check["ids"]))
        assert answers[0] == answers[1]
    finally:
        sandbox.shutdown()

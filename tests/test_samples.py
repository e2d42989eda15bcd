"""Grade every sample submission end to end and hold each to its expected.toml: per-task
outcome (full, partial, zero) and exactly the named mistakes it must trigger."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from autograder import assignment
from autograder.grading import GradingOptions, grade_parallel
from autograder.submission import discover

SAMPLES = Path(__file__).resolve().parent / "submissions"
SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "autograder" / "schemas" / "result.schema.json").read_text()
)
HW1 = assignment.load("hw1")
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "expected.toml").is_file())


@pytest.fixture(scope="module")
def graded() -> dict[str, dict]:
    results: dict[str, dict] = {}
    grade_parallel(HW1, discover([SAMPLES], HW1), GradingOptions(),
                   lambda r: results.setdefault(r["submission"], r), jobs=2)
    return results


def expected(name: str) -> dict:
    return tomllib.loads((SAMPLES / name / "expected.toml").read_text())


def named_mistakes(result: dict) -> set[str]:
    return {m["id"] for check in result["checks"] for m in check["mistakes"]}


def describe_failures(result: dict, task: str) -> str:
    return "; ".join(
        f"{c['id']} {c['status']}: {c['message'][:160]}"
        for c in result["checks"] if c["task"] == task and c["status"] != "passed"
    )


def test_every_sample_was_graded(graded):
    assert sorted(graded) == sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_outcome(graded, name):
    result = graded[name]
    jsonschema.validate(result, SCHEMA)
    want = expected(name)
    for task in HW1.automatic_tasks:
        outcome = want["outcome"][task.id]
        score = next(t["score"] for t in result["tasks"] if t["id"] == task.id)
        failures = describe_failures(result, task.id)
        if outcome == "full":
            assert score == task.points, f"{task.id}: {score}/{task.points}: {failures}"
        elif outcome == "zero":
            assert score == 0, f"{task.id}: {score}/{task.points}"
        else:
            assert 0 < score < task.points, f"{task.id}: {score}/{task.points}: {failures}"
    assert named_mistakes(result) == set(want["outcome"].get("mistakes", []))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_review_flags(graded, name):
    """A sample is flagged for the teacher's review exactly where its expected.toml says: honest
    code is not, unless it really cannot be told from a disguise (updates bit-identical to
    torch's own optimizer where the reference's are not)."""
    flags = graded[name]["review"]
    want = expected(name).get("review", [])
    assert len(flags) == len(want), flags
    assert all(any(w in f for f in flags) for w in want), flags


def test_reference_gets_every_automatic_point_and_names_nothing(graded):
    result = graded["reference"]
    assert all(c["status"] == "passed" for c in result["checks"]), describe_failures(result, "optimizer")
    assert result["score"] == sum(t.points for t in HW1.automatic_tasks)
    assert result["manual_pending"] is True


def test_stubs_say_not_implemented(graded):
    result = graded["stubs"]
    failed = [c for c in result["checks"] if c["status"] == "failed"]
    assert failed and all(c["score"] == 0 for c in result["checks"])
    assert any("NotImplementedError" in c["message"] for c in failed)


def test_catalogue_detection_rate(graded, capsys):
    """How many catalogued mistakes the samples trigger exactly (printed for the record)."""
    from autograder.mistakes import load_catalogue

    catalogue = load_catalogue(HW1.suite_dir / "mistakes.toml")
    detected = set().union(*(named_mistakes(r) for r in graded.values()))
    with capsys.disabled():
        print(f"\ncatalogue: {len(detected & set(catalogue))}/{len(catalogue)} mistakes "
              f"recognised in the sample submissions; missing: {sorted(set(catalogue) - detected)}")
    assert detected <= set(catalogue)

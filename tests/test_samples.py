"""Grade every assignment's sample submissions end to end and hold each to its expected.toml:
per-task outcome (full, partial, zero) and exactly the named mistakes it must trigger. A new
assignment folder with samples is covered here without any change."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from course import ASSIGNMENTS

from autograder.assignment import Assignment
from autograder.batch import GradingOptions
from autograder.jobs import grade_parallel
from autograder.mistakes import load_catalogue
from autograder.submission import discover

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "autograder" / "schemas" / "result.schema.json").read_text()
)
BY_NAME = {a.name: a for a in ASSIGNMENTS}
CASES = [(a.name, p.name) for a in ASSIGNMENTS
         for p in sorted(a.samples_dir.iterdir()) if (p / "expected.toml").is_file()]
_GRADED: dict[str, dict[str, dict]] = {}


def graded(assignment: Assignment) -> dict[str, dict]:
    """Every sample of ``assignment``, graded once per test session."""
    if assignment.name not in _GRADED:
        results: dict[str, dict] = {}
        grade_parallel(assignment, discover([assignment.samples_dir], assignment), GradingOptions(),
                       lambda r: results.setdefault(r["submission"], r), jobs=2)
        _GRADED[assignment.name] = results
    return _GRADED[assignment.name]


def expected(assignment: Assignment, name: str) -> dict:
    return tomllib.loads((assignment.samples_dir / name / "expected.toml").read_text())


def named_mistakes(result: dict) -> set[str]:
    return {m["id"] for check in result["checks"] for m in check["mistakes"]}


def describe_failures(result: dict, task: str) -> str:
    return "; ".join(
        f"{c['id']} {c['status']}: {c['message'][:160]}"
        for c in result["checks"] if c["task"] == task and c["status"] != "passed"
    )


def test_every_assignment_has_samples() -> None:
    for assignment in ASSIGNMENTS:
        names = {name for a, name in CASES if a == assignment.name}
        assert {"reference", "stubs"} <= names, f"{assignment.name}: samples/reference and samples/stubs"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_sample_was_graded(name: str) -> None:
    assignment = BY_NAME[name]
    folders = sorted(p.name for p in assignment.samples_dir.iterdir() if p.is_dir())
    assert sorted(graded(assignment)) == folders


@pytest.mark.parametrize(("assignment_name", "name"), CASES)
def test_sample_outcome(assignment_name: str, name: str) -> None:
    assignment = BY_NAME[assignment_name]
    result = graded(assignment)[name]
    jsonschema.validate(result, SCHEMA)
    want = expected(assignment, name)
    for task in assignment.automatic_tasks:
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


@pytest.mark.parametrize(("assignment_name", "name"), CASES)
def test_review_flags(assignment_name: str, name: str) -> None:
    """A sample is flagged for the teacher's review exactly where its expected.toml says: honest
    code is not, unless it really cannot be told from a disguise (updates bit-identical to
    torch's own optimizer where the reference's are not)."""
    assignment = BY_NAME[assignment_name]
    flags = graded(assignment)[name]["review"]
    want = expected(assignment, name).get("review", [])
    assert len(flags) == len(want), flags
    assert all(any(w in f for f in flags) for w in want), flags


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_reference_gets_every_automatic_point_and_names_nothing(name: str) -> None:
    assignment = BY_NAME[name]
    result = graded(assignment)["reference"]
    assert all(c["status"] == "passed" for c in result["checks"]), [
        describe_failures(result, t.id) for t in assignment.automatic_tasks]
    assert result["score"] == sum(t.points for t in assignment.automatic_tasks)
    assert result["manual_pending"] is bool(assignment.manual_tasks)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_stubs_say_not_implemented(name: str) -> None:
    result = graded(BY_NAME[name])["stubs"]
    failed = [c for c in result["checks"] if c["status"] == "failed"]
    assert failed and all(c["score"] == 0 for c in result["checks"])
    assert any("NotImplementedError" in c["message"] for c in failed)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_catalogue_detection_rate(name: str, capsys: pytest.CaptureFixture) -> None:
    """How many catalogued mistakes the samples trigger exactly (printed for the record)."""
    assignment = BY_NAME[name]
    catalogue = load_catalogue(assignment.mistakes)
    detected = set().union(*(named_mistakes(r) for r in graded(assignment).values()))
    with capsys.disabled():
        print(f"\n{name} catalogue: {len(detected & set(catalogue))}/{len(catalogue)} mistakes "
              f"recognised in the sample submissions; missing: {sorted(set(catalogue) - detected)}")
    assert detected <= set(catalogue)

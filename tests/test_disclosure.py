"""Per-check visibility: public checks show everything, hidden ones only what the teacher's
``show`` allows, ``after_due_date`` ones everything once the due date has passed; feedback
says what was kept back and until when."""

from __future__ import annotations

from pathlib import Path

import pytest
from course import COURSE
from result_factory import check, make_result, validate

from autograder import assignment
from autograder.checks import check as declare_check
from autograder.outcomes import CheckOutcome
from autograder.report import feedback

FULL = {"called": "Adam(params) for 15 steps", "expected": "[1.0, 2.0]", "actual": "[1.0, 2.5]",
        "deviation": {"where": "index (1,)", "expected": 2.0, "actual": 2.5, "abs_error": 0.5,
                      "rel_error": 0.25},
        "series": [{"title": "deviation", "lines": []}]}


def outcome(visibility: str, show: tuple[str, ...] = ()) -> CheckOutcome:
    return CheckOutcome(id="optimizer.adam", task="optimizer", title="Adam.", status="failed",
                        score=0.0, max_score=4.0, message="Adam leaves the reference at step 2",
                        visibility=visibility, show=show, **FULL)


def shown(data: dict) -> set[str]:
    return {name for name in FULL if data[name]}


def test_visible_checks_show_everything() -> None:
    data = outcome("visible").as_dict(reveal=False, due_passed=False)
    assert shown(data) == set(FULL) and data["withheld"] == []


def test_hidden_checks_show_only_what_their_declaration_allows() -> None:
    data = outcome("hidden", show=("deviation", "series")).as_dict(reveal=False, due_passed=True)
    assert shown(data) == {"deviation", "series"}
    assert data["withheld"] == ["called", "expected", "actual"]
    assert data["message"] and "show" not in data
    revealed = outcome("hidden").as_dict(reveal=True, due_passed=False)
    assert shown(revealed) == set(FULL) and revealed["withheld"] == []


def test_after_due_date_checks_open_up_when_the_due_date_has_passed() -> None:
    before = outcome("after_due_date", show=("series",)).as_dict(reveal=False, due_passed=False)
    assert shown(before) == {"series"}
    after = outcome("after_due_date", show=("series",)).as_dict(reveal=False, due_passed=True)
    assert shown(after) == set(FULL) and after["withheld"] == []


def test_feedback_says_what_was_kept_back_and_until_when(tmp_path: Path) -> None:
    withheld = ["called", "expected", "actual"]
    result = validate(make_result(
        checks=[check("optimizer.adam", "failed", visibility="after_due_date", withheld=withheld),
                check("roots.solve_adam", "failed", visibility="hidden", withheld=["series"])],
        disclosure={"due": "2026-12-14T23:59:00+03:00", "due_passed": False, "reveal": False},
    ))
    feedback.render_feedback(result, tmp_path)
    page = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "feedback.md").read_text(encoding="utf-8")
    for text in (page, markdown):
        assert ("does not show the exact call, the expected value or your code&#39;s value" in text
                or "does not show the exact call, the expected value or your code's value" in text)
        assert "shown after the due date (2026-12-14T23:59:00+03:00)" in text
        assert "This hidden check does not show its plots." in text


def test_show_lists_only_detail_fields_and_due_needs_an_offset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="show"):
        declare_check("optimizer", points=1, visibility="hidden", show=("message",))
    hw1 = assignment.load("hw1", COURSE)
    assert hw1.due is not None and hw1.due.utcoffset() is not None
    with pytest.raises(ValueError, match="offset"):
        assignment._due(__import__("datetime").datetime(2026, 12, 14, 23, 59), tmp_path / "a.toml")

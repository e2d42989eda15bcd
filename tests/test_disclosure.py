"""Per-check visibility: public checks show everything, hidden ones only what the teacher's
``show`` allows, ``after_due_date`` ones everything once the due date has passed; feedback
says what was kept back and until when."""

from __future__ import annotations

from pathlib import Path

import pytest
from course import COURSE
from result_factory import check, make_result, series, validate

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
        assert ("does not show the exact call, the full expected value or the full value your "
                "code returned. It shows everything after the due date (2026-12-14T23:59:00+03:00)."
                in text)
        assert "This hidden check does not show its plots." in text


def test_show_lists_only_detail_fields_and_due_needs_an_offset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="show"):
        declare_check("optimizer", points=1, visibility="hidden", show=("message",))
    hw1 = assignment.load("hw1", COURSE)
    assert hw1.due is not None and hw1.due.utcoffset() is not None
    with pytest.raises(ValueError, match="offset"):
        assignment._due(__import__("datetime").datetime(2026, 12, 14, 23, 59), tmp_path / "a.toml")


def test_a_value_the_message_quotes_is_not_called_withheld() -> None:
    quoting = CheckOutcome(
        id="roots.order", task="roots", title="Order.", status="failed", score=0.0, max_score=1.0,
        message="find_roots(1, -6, 4) returned [5.236067977, 0.7639320225]: not ascending",
        visibility="hidden", called="find_roots(1, -6, 4)",
        expected="[0.7639320225, 5.236067977]", actual="[5.236067977,\n 0.7639320225]",
    ).as_dict(reveal=False, due_passed=False)
    assert quoting["withheld"] == ["expected"]
    assert quoting["called"] is None and quoting["actual"] is None and quoting["expected"] is None
    note = feedback.withheld_note(quoting, {})
    assert note == "This hidden check does not show the full expected value."


@pytest.mark.parametrize("where", ["index (1,)", "the value"])
def test_note_says_what_a_shown_largest_difference_already_shows(where: str) -> None:
    deviation = {**FULL["deviation"], "where": where}
    data = CheckOutcome(
        id="deep_net.forward", task="deep_net", title="Forward.", status="failed", score=0.0,
        max_score=2.0, message="the forward pass differs from the expected values",
        visibility="hidden", show=("deviation",), **{**FULL, "deviation": deviation},
    ).as_dict(reveal=False, due_passed=False)
    note = feedback.withheld_note(data, {})
    if where == "the value":  # the largest difference of one number shows both numbers
        assert note == "This hidden check does not show the exact call or its plots."
    else:
        assert note == ("This hidden check does not show the exact call, the full expected value, "
                        "the full value your code returned or its plots. Of the values, it shows "
                        "only the entry where they differ most.")


NOTE_PHRASES = {"called": "the exact call", "expected": "the full expected value",
                "actual": "the full value your code returned",
                "deviation": "where the values differ most", "series": "its plots"}


@pytest.mark.parametrize("message", ["leaves the reference at step 2",
                                     "gave 2.5 at step 2",  # part of the value, in other words
                                     "gave [1.0, 2.5] at step 2"])  # the whole value, word for word
@pytest.mark.parametrize("visibility", ["hidden", "after_due_date"])
def test_note_names_exactly_what_the_page_leaves_out(visibility: str, message: str) -> None:
    """Every combination of what a check's ``show`` lets through: the note names a detail if
    and only if the page leaves it out and the message does not quote it word for word."""
    from itertools import combinations

    from autograder.checks import DETAIL_FIELDS

    for size in range(len(DETAIL_FIELDS) + 1):
        for show in combinations(DETAIL_FIELDS, size):
            data = CheckOutcome(
                id="optimizer.adam", task="optimizer", title="Adam.", status="failed", score=0.0,
                max_score=4.0, message=message, visibility=visibility, show=show,
                **{**FULL, "series": [series("deviation", {"yours": [1.0, 2.5]})]},
            ).as_dict(reveal=False, due_passed=False)
            result = validate(make_result(checks=[data], disclosure={
                "due": "2026-12-14T23:59:00+03:00", "due_passed": False, "reveal": False}))
            view = feedback.feedback_context(result, feedback.HTML_CAPS, plots=False)
            shown_check = view["tasks"][1]["checks"][0]
            note = shown_check["withheld_note"] or ""
            for name in DETAIL_FIELDS:
                on_page = bool(data[name])
                quoted = isinstance(FULL[name], str) and FULL[name] in message
                assert (NOTE_PHRASES[name] in note) == (not on_page and not quoted), (show, note)
            assert ("it shows only the entry where they differ most" in note) == (
                "deviation" in show and any(NOTE_PHRASES[n] in note for n in ("expected", "actual")))
            assert ("It shows everything after the due date" in note) == (
                visibility == "after_due_date" and bool(note))

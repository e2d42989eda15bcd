"""How reports present what a check found: numbers with the digits that tell them apart, a
disclosure note that is true, plots that show something, answers rendered as Markdown, a
class overview that counts every problem, and a self-check header a student can read."""

from __future__ import annotations

import numpy as np
import pytest
from result_factory import check, make_result

from autograder.checks import CheckFailed, describe, describe_pair, expect, expect_close
from autograder.report import feedback, terminal
from autograder.report.text import deviation_line, fmt_pair

# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("expected", "actual", "shown"),
    [
        (-1.587821234, -1.587824999, ("-1.587821", "-1.587825")),
        (-1.5878200001, -1.5878200002, ("-1.5878200001", "-1.5878200002")),
        (1.0, 1.0000000000000002, ("1.0", "1.0000000000000002")),
        (0.3, 0.30000000000000004, ("0.3", "0.30000000000000004")),
        (1.5, 1.95, ("1.5", "1.95")),  # already different: stays short
        (2.0, 2.0, ("2", "2")),
        ("inf", 3.0, ("inf", "3")),
    ],
)
def test_fmt_pair_shows_the_digits_that_differ(expected, actual, shown) -> None:
    assert fmt_pair(expected, actual) == shown


def test_deviation_line_never_shows_two_equal_numbers_for_different_values() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        want = float(rng.normal())
        got = want * (1 + float(rng.choice([1e-6, 1e-9, 1e-12, 1e-15])) * float(rng.normal()))
        if got == want:
            continue
        line = deviation_line({"where": "index (0,)", "expected": want, "actual": got,
                               "abs_error": abs(got - want), "rel_error": None})
        assert line is not None
        said = line.split(": expected ", 1)[1].split(", absolute error")[0]
        shown_want, shown_got = said.split(", got ")
        assert shown_want != shown_got, line
        assert float(shown_want) != float(shown_got)


def test_expect_close_shows_arrays_that_differ_as_different() -> None:
    want = np.array([0.25, -1.587821234, 3.0])
    got = want + np.array([0.0, 2e-9, 0.0])
    with pytest.raises(CheckFailed) as failure:
        expect_close(got, want, what="p", rtol=0, atol=1e-12)
    error = failure.value
    assert error.expected != error.actual
    assert describe(want) == describe(got), "the usual 6 decimals would hide the difference"
    assert "-1.587821234" in error.expected and "-1.587821232" in error.actual


def test_describe_pair_keeps_short_values_short_and_scalars_distinct() -> None:
    assert describe_pair(np.array([1.0, 1.5]), np.array([1.0, 1.95])) == (
        describe(np.array([1.0, 1.5])), describe(np.array([1.0, 1.95])))
    assert describe_pair(0.30000000000000004, 0.3) == ("0.30000000000000004", "0.3")
    assert describe_pair(np.float32(0.5), 0.25) == ("0.5", "0.25")
    with pytest.raises(CheckFailed) as failure:
        expect(False, "x is wrong", expected=[0.1, 0.2], actual=[0.1, 0.2 + 1e-13])
    assert failure.value.expected == "[0.1, 0.2]"
    assert failure.value.actual == "[0.1, 0.2000000000001]"


def test_report_shows_distinct_expected_and_actual(tmp_path) -> None:
    failed = check("optimizer.adam", "failed", message="p differs from the expected values",
                   deviation={"where": "index (3,)", "expected": -1.5878212, "actual": -1.5878249,
                              "abs_error": 3.7e-6, "rel_error": 2.3e-6})
    feedback.render_feedback(make_result(checks=[failed]), tmp_path)
    for name in ("feedback.html", "feedback.md"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "expected -1.587821, got -1.587825" in text
    assert "expected -1.587821, got -1.587825" in terminal.render_check_report(
        make_result(checks=[failed]))

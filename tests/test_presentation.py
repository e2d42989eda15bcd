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


# --------------------------------------------------------------------------- plots


def _colour_pixels(figure, colour: str) -> int:
    """How many pixels of the rendered figure have ``colour`` (within rounding)."""
    import base64
    import io

    import matplotlib.colors
    import matplotlib.image

    from autograder.report.plots import _png_data_uri

    data = base64.b64decode(_png_data_uri(figure).split(",", 1)[1])
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")[..., :3]
    target = np.array(matplotlib.colors.to_rgb(colour))
    return int((np.abs(pixels - target).max(axis=-1) < 0.03).sum())


def _path_series(title: str, mine: list[float], theirs: list[float]) -> dict:
    return {"title": title, "xlabel": "step", "ylabel": "x", "log_y": False,
            "lines": [{"label": "your Adam", "x": list(range(len(mine))), "y": mine},
                      {"label": "reference Adam", "x": list(range(len(theirs))), "y": theirs},
                      {"label": "the root", "kind": "guide", "x": [0, 5], "y": [1.0, 1.0]}]}


def test_a_one_step_series_is_not_drawn(tmp_path) -> None:
    from autograder.report.plots import draw_series, drawable, plot_series

    one_step = _path_series("x after one step", [0.5], [0.75])
    assert not drawable(one_step) and draw_series(one_step) is None and plot_series(one_step) is None
    assert drawable(_path_series("two steps", [0.5, 0.6], [0.75]))
    assert not drawable(_path_series("gaps", [0.5, None, float("nan")], [None]))
    failed = check("optimizer.adam", "failed", series=[one_step])
    feedback.render_feedback(make_result(checks=[failed]), tmp_path)
    page = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    md = (tmp_path / "feedback.md").read_text(encoding="utf-8")
    assert "<img" not in page
    assert "Not plotted: “x after one step” has fewer than two points." in page
    assert "in the HTML report" not in md


@pytest.mark.parametrize("title", [
    "x during the minimisation of (x² − 6x + 4)² with RMSprop from x0 = 7, lr = 0.05, "
    "alpha = 0.99, eps = 1e-08, at most 400 steps, against the reference and the root",
    "a_title_without_any_space_" * 6,
    "short",
])
def test_plot_titles_fit_inside_the_image(title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from autograder.report.plots import draw_series

    figure = draw_series(_path_series(title, [7.0, 6.0, 5.5], [7.0, 5.8, 5.3]))
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw_without_rendering()
    shown = figure.axes[0].title
    box = shown.get_window_extent(renderer=renderer)
    assert box.x0 >= 0 and box.x1 <= figure.bbox.width and box.y1 <= figure.bbox.height, box
    assert shown.get_text().replace("\n", "").replace(" ", "") == title.replace(" ", "")
    axes_box = figure.axes[0].get_window_extent(renderer=renderer)
    assert axes_box.height > 0.4 * figure.bbox.height, "the title squeezed the plot away"


def test_the_students_path_stays_visible_over_the_references() -> None:
    from autograder.report.plots import STUDENT_COLOURS, draw_series

    same = [7.0, 6.1, 5.6, 5.4, 5.3, 5.25]
    figure = draw_series(_path_series("identical paths", same, same))
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    student, reference = lines["your Adam"], lines["reference Adam"]
    assert student.get_zorder() > reference.get_zorder() > lines["the root"].get_zorder()
    assert student.get_linewidth() < reference.get_linewidth()
    assert _colour_pixels(figure, STUDENT_COLOURS[0]) > 150
    # listed first or last, the student's line is drawn on top all the same
    flipped = _path_series("reference first", same, same)
    flipped["lines"] = flipped["lines"][::-1]
    assert _colour_pixels(draw_series(flipped), STUDENT_COLOURS[0]) > 150


def test_a_single_point_of_the_student_is_marked() -> None:
    from autograder.report.plots import STUDENT_COLOURS, draw_series

    figure = draw_series(_path_series("one point of yours", [5.0, None, None], [7.0, 6.0, 5.5]))
    assert _colour_pixels(figure, STUDENT_COLOURS[0]) > 5


# --------------------------------------------------------------------------- answers


def test_answers_render_as_markdown_with_raw_html_as_text(tmp_path) -> None:
    from autograder.report.markdown import answer_html

    text = "## Q1\n\n*Adam* wins.\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n"
    rendered = str(answer_html(text))
    assert "<h2>Q1</h2>" in rendered and "<em>Adam</em>" in rendered
    assert "<script" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    link = str(answer_html("[x](https://example.org) [y](javascript:alert(1))"))
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">x</a>' in link
    assert "<a href=\"javascript" not in link and "[y](javascript:alert(1))" in link
    feedback.render_feedback(make_result(answer={"text": text, "comment": None}), tmp_path)
    page = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    assert "<h2>Q1</h2>" in page and "<script>" not in page


def test_an_answer_too_long_to_render_is_shown_as_written(tmp_path) -> None:
    from autograder.report.markdown import ANSWER_RENDER_CAP, answer_html

    long = "[" * (ANSWER_RENDER_CAP + 1)  # the input markdown-it takes quadratic time on
    assert answer_html(long) is None
    feedback.render_feedback(make_result(answer={"text": long, "comment": None}), tmp_path)
    page = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    assert f"a text over {ANSWER_RENDER_CAP:,} characters is not rendered" in page
    assert f'<pre class="handed-in">{long}</pre>' in page
    huge = "x" * (feedback.HTML_CAPS["handed_in"] + 10)  # the size cap on the page still holds
    feedback.render_feedback(make_result(answer={"text": huge, "comment": None}), tmp_path)
    assert "10 more characters are not shown here." in (tmp_path / "feedback.html").read_text(
        encoding="utf-8")


# --------------------------------------------------------------------------- class overview


def test_summary_counts_load_failures_and_grader_failures_as_problems(tmp_path) -> None:
    import re

    from result_factory import passing_checks, validate

    from autograder.report import summary
    from autograder.results import failure_result

    clean = make_result("clean", checks=passing_checks())
    broken = [c if c["id"] != "deep_net.loads" else check(
        "deep_net.loads", "failed", points=0, message="deep_net.py could not be loaded: SyntaxError")
        for c in passing_checks()]
    did_not_load = make_result("did_not_load", checks=broken)
    grader_note = make_result("grader_note", checks=passing_checks(),
                              grader_failure="the grader failed on this submission: KeyError")
    failed = validate(failure_result(make_result("failed"), "RuntimeError: boom"))
    results = [clean, did_not_load, grader_note, failed]
    assert not any(r["problems"] for r in results[:3])

    context = summary.summary_context(results)
    assert [r["name"] for r in context["trouble"]] == ["did_not_load", "failed", "grader_note"]
    summary.render_summary(results, tmp_path)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert re.search(r'id="trouble-count">3<', page)
    problems = page[page.index("<h2>Problems and errors</h2>"):]
    assert "deep_net.loads</span> (did not load): deep_net.py could not be loaded: SyntaxError" in problems
    assert "Grader failure:</strong> the grader failed on this submission: KeyError" in problems
    assert problems.count("RuntimeError: boom") == 1  # listed once, though also a problem
    assert "1 did not load" in page


# --------------------------------------------------------------------------- the self-check


def _public_run(passed: bool = True) -> dict:
    """What ``autograder check`` gets: only the public checks, worth 6 of the 90 points."""
    checks = [check("deep_net.loads", points=0), check("deep_net.public_forward_shape", points=2),
              check("optimizer.loads", points=0),
              check("optimizer.public_adam_first_step", "passed" if passed else "failed", points=2),
              check("roots.loads", points=0), check("roots.public_find_roots_seed", points=2)]
    return make_result("alice", checks=checks)


def test_check_header_reports_public_checks_not_a_total_out_of_100() -> None:
    text = terminal.render_check_report(_public_run())
    head = text.split("sandbox:")[0]
    assert head.startswith("hw1 · alice — public checks: 6 of 6 passed\n")
    flat = " ".join(head.split())
    assert "They are worth 6 of the 90 automatic points, and you earned all 6." in flat
    assert "Your grade comes from the hidden checks" in flat
    assert "10 more points are graded by hand." in flat
    assert "/ 100" not in text and "6 / 100" not in text
    assert "optimizer — Adaptive optimizers: Adam, SGD with momentum, AdaGrad, RMSprop: 2 of 2 " \
           "public points (the task is worth 40)" in text


def test_check_header_after_a_failure_and_without_checks() -> None:
    flat = " ".join(terminal.render_check_report(_public_run(passed=False)).split())
    assert flat.startswith("hw1 · alice — public checks: 5 of 6 passed")
    assert "They are worth 6 of the 90 automatic points, and you earned 4 of those 6." in flat
    everything = [check(c["id"], points=c["max_score"]) for c in make_result()["checks"]]
    full = " ".join(terminal.render_check_report(make_result(checks=everything)).split())
    assert "They are worth all 90 automatic points, and you earned all 90." in full
    assert "hidden checks" not in full  # nothing is left for hidden checks to decide
    empty = terminal.render_check_report(make_result(checks=[]))
    assert empty.startswith("hw1 · alice: no public check ran.\n")


def test_values_rendered_alike_by_a_suite_are_said_to_differ(tmp_path) -> None:
    """A suite that renders expected and actual one at a time can round their difference
    away; the report says so instead of showing two equal values without a word."""
    want, got = np.array([0.25, -1.587821234]), np.array([0.25, -1.587821236])
    alike = check("optimizer.adam", "failed", expected=describe(want), actual=describe(got))
    assert alike["expected"] == alike["actual"]
    distinct = check("optimizer.sgd", "failed", **dict(zip(("expected", "actual"),
                                                             describe_pair(want, got), strict=True)))
    result = make_result(checks=[alike, distinct])
    feedback.render_feedback(result, tmp_path)
    for name in ("feedback.html", "feedback.md"):
        assert (tmp_path / name).read_text(encoding="utf-8").count(feedback.LOOK_ALIKE) == 1
    assert " ".join(terminal.render_check_report(result).split()).count(feedback.LOOK_ALIKE) == 1

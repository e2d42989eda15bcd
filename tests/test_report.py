"""Reports render what a result holds, stay safe with hostile student text, and stay small."""

from __future__ import annotations

import base64
import copy
import csv
import html
import io
import re
from pathlib import Path

import matplotlib.image
import pytest
from result_factory import ADAM_MISTAKE, check, make_result, passing_checks, series, validate

from autograder.report import feedback, markdown, summary, terminal

HOSTILE_ANSWERS = (
    "<script>alert('x')</script>\n"
    "{{ 7*7 }} {% raw %}\n"
    "# Not a heading\n"
    "| a | b |\n"
    "````\n"
    "::error file=x::pwned\n"
    "  ::set-output name=a::b\n"
    "##[warning]old style\n"
    "</pre><b>bold</b>\n"
)
PNG_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def render(result: dict, tmp_path: Path) -> tuple[str, str]:
    feedback.render_feedback(result, tmp_path)
    return (
        (tmp_path / "feedback.html").read_text(encoding="utf-8"),
        (tmp_path / "feedback.md").read_text(encoding="utf-8"),
    )


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(fence, body) of every fenced block, parsed the way CommonMark closes them."""
    blocks, lines, i = [], markdown.split("\n"), 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})[^`]*$", lines[i])
        if not opening:
            i += 1
            continue
        fence, body, i = opening.group(1), [], i + 1
        while i < len(lines) and not re.fullmatch(rf"`{{{len(fence)},}}\s*", lines[i]):
            body.append(lines[i])
            i += 1
        blocks.append((fence, "\n".join(body)))
        i += 1
    return blocks


def decode_png(encoded: str):
    data = base64.b64decode(encoded, validate=True)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return matplotlib.image.imread(io.BytesIO(data), format="png")


# --------------------------------------------------------------------------- feedback


def test_factory_results_follow_the_schema() -> None:
    validate(make_result())
    validate(make_result(checks=passing_checks(), manual_score=9.0))


def test_feedback_shows_score_per_task_and_sandbox(tmp_path: Path) -> None:
    page, md = render(make_result(), tmp_path)
    assert '<span class="big" id="total-score">41</span><span class="of">/ 100</span>' in page
    assert "manual grading pending" in page
    assert "25 / 25" in page and "16 / 40" in page and "0 / 25" in page
    assert "sandbox: bwrap" in page
    assert "**Score: 41 / 100**" in md
    assert "| Deep network and its forward pass | 25 / 25 |" in md
    assert "Sandbox: **bwrap**" in md
    assert "awaiting manual grading" in md


def test_feedback_explains_a_failure_with_its_named_mistake(tmp_path: Path) -> None:
    page, md = render(make_result(), tmp_path)
    for text in (page, md):
        assert "Recognised mistake: Adam without bias correction" in text
        assert "How to fix:" in text
        assert "Compare your first step with the formula" in text
        assert "[0.975, -0.025, 1.95]" in text
    assert "Largest difference at index (2,): expected 1.5, got 1.95" in page
    assert "relative error 30%" in page
    assert "Skipped because the check &#39;roots.loads&#39; did not pass" in page
    assert "Skipped because the check 'roots\\.loads' did not pass" not in md  # '.' is literal
    assert "Skipped because the check 'roots.loads' did not pass" in md
    assert "plots are in the HTML report" in md


def test_hostile_answers_stay_literal_text(tmp_path: Path) -> None:
    result = make_result(answer={"text": HOSTILE_ANSWERS, "comment": None})
    page, md = render(result, tmp_path)

    assert "<script>" not in page and "<b>bold</b>" not in page
    source = re.search(r'<pre class="handed-in-source">(.*?)</pre>', page, re.S)
    assert source is not None
    assert html.unescape(source.group(1)) == HOSTILE_ANSWERS
    rendered = re.search(r'<div class="handed-in answer">(.*?)</div>', page, re.S)
    assert rendered is not None and "&lt;script&gt;alert(" in rendered.group(1)
    assert "<h1>Not a heading</h1>" in rendered.group(1)  # Markdown, rendered; HTML stays text
    assert "{{ 7*7 }}" in page and "{% raw %}" in page

    blocks = [(fence, body) for fence, body in fenced_blocks(md) if "7*7" in body]
    assert len(blocks) == 1
    fence, body = blocks[0]
    assert len(fence) > 4  # longer than the student's own ```` line
    assert "{{ 7*7 }} {% raw %}" in body and "<script>alert('x')</script>" in body
    assert not re.search(r"(?m)^\s*::", body), "a workflow command survived"
    assert "##[" not in body
    assert not re.search(r"(?m)^\s*::", md)


def test_hostile_name_message_and_output_are_escaped(tmp_path: Path) -> None:
    name = "<img src=x onerror=alert(1)>|`x`"
    bad = check(
        "optimizer.adam_matches_reference", status="failed", points=12,
        message="got <b>bold</b> | # heading `code` [link](http://x) ::warning::x",
        expected="```\n<script>", actual="$x$ @someone",
    )
    result = make_result(name, checks=[bad])
    result["tasks"][1]["output"] = {"stdout": "\x1b[31mred\x1b[0m ::error::x\n</pre><i>i</i>",
                                    "stderr": "boom\n", "truncated": True}
    page, md = render(validate(result), tmp_path)

    assert "<img src=x" not in page and "<b>bold</b>" not in page and "<i>i</i>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\x1b" not in page and "\x1b" not in md
    assert "<details>" in page and "red ::error::x" in page

    assert not re.search(r"(?<!\\)<(img|b|/b)\b", md)
    assert "\\<img src=x onerror=alert(1)\\>\\|\\`x\\`" in md
    assert "got \\<b\\>bold\\</b\\> \\| \\# heading \\`code\\` \\[link\\](http://x) :\\:warning:\\:x" in md
    assert not re.search(r"(?m)^\s*::", md)


def test_multiline_message_goes_into_a_fence(tmp_path: Path) -> None:
    bad = check("deep_net.loads", status="error", points=5,
                message="load failed\n## Injected heading\n<script>x</script>")
    _, md = render(make_result(checks=[bad]), tmp_path)
    assert "\n## Injected heading" in md
    assert any("## Injected heading" in body for _, body in fenced_blocks(md))


def test_unsandboxed_run_is_announced_loudly(tmp_path: Path) -> None:
    result = make_result(sandbox={"layer": "none", "detail": "bwrap: no user namespaces"})
    page, md = render(result, tmp_path)
    assert 'class="alarm"' in page and "run WITHOUT a sandbox" in page
    assert "WARNING: this submission was run WITHOUT a sandbox." in md
    assert "WITHOUT any sandbox" in terminal.render_check_report(result)
    safe_page, _ = render(make_result(), tmp_path)
    assert "WITHOUT a sandbox" not in safe_page


def test_plots_are_embedded_as_decodable_pngs(tmp_path: Path) -> None:
    result = make_result()
    page, md = render(result, tmp_path)
    titles = [s["title"] for c in result["checks"] for s in c.get("series", [])]
    images = PNG_URI.findall(page)
    assert len(images) == len(titles) == 2
    for encoded in images:
        pixels = decode_png(encoded)
        assert pixels.shape[:2] == (300, 500)
        assert pixels.std() > 0.01
    for title in titles:
        assert f'alt="{html.escape(title)}"' in page
    assert "data:image" not in md
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_plots_drawn_where_a_result_was_graded_are_not_drawn_again(tmp_path: Path, monkeypatch) -> None:
    """A grading job or dask worker sends its result's pictures with it (``draw_all``): the
    page shows those, and only data URIs of PNGs are taken from it."""
    import json

    from autograder.report import plots

    result = make_result()
    drawn = json.loads(json.dumps(plots.draw_all(result)))  # as it crosses between processes
    assert len(drawn) == 2 and all(uri.startswith("data:image/png;base64,") for uri in drawn.values())
    local, _ = render(result, tmp_path / "local")

    def not_here(series):
        raise AssertionError("drawn again")

    monkeypatch.setattr(plots, "draw_series", not_here)
    with plots.drawn_elsewhere(drawn):
        page, _ = render(json.loads(json.dumps(result)), tmp_path / "sent")
    assert page == local
    forged = dict.fromkeys(drawn, 'data:image/png;base64,AAAA" onerror="alert(1)')
    with plots.drawn_elsewhere(forged):
        page, _ = render(result, tmp_path / "forged")
    assert not PNG_URI.findall(page) and "onerror" not in page  # drawn here, which fails here
    assert not plots._DRAWN  # nothing kept past its block


def test_broken_series_do_not_break_the_page(tmp_path: Path) -> None:
    odd = series("Costs in $ and $$", {"with nan": [1.0, None, 0.0, -2.0, 3.0, 0.5]}, log_y=True)
    empty = {"title": "nothing", "xlabel": "", "ylabel": "", "lines": []}
    item = check("roots.loads", "failed", points=5, series=[odd, empty])
    page, _ = render(make_result(checks=[item]), tmp_path)
    assert len(PNG_URI.findall(page)) == 1
    assert "Not plotted: “nothing” has fewer than two points." in page


def test_feedback_is_deterministic(tmp_path: Path) -> None:
    first, first_md = render(make_result(), tmp_path / "a")
    second, second_md = render(make_result(), tmp_path / "b")
    assert first == second and first_md == second_md


def test_markdown_stays_under_1_mib_with_huge_output(tmp_path: Path) -> None:
    result = make_result(answer={"text": "A" * 3_000_000, "comment": None})
    result["tasks"][0]["output"] = {"stdout": "x" * 5_000_000 + "\nLAST LINE",
                                    "stderr": "`" * 10_000, "truncated": False}
    page, md = render(validate(result), tmp_path)
    assert len(md.encode("utf-8")) < 1024 * 1024
    assert "characters cut here" in md and "LAST LINE" in md
    assert "more characters are in feedback.html" in md
    assert len(page) < 2_000_000 and "LAST LINE" in page


def test_markdown_stays_under_1_mib_with_many_checks(tmp_path: Path) -> None:
    many = [
        check(f"optimizer.case_{i}", status="failed", points=1, message="m" * 5_000,
              expected="e" * 5_000, actual="a\n" * 2_500, hint="h" * 5_000)
        for i in range(600)
    ]
    result = make_result(checks=many)
    _, md = render(result, tmp_path)
    assert len(md.encode("utf-8")) < 1024 * 1024
    assert md.count("```") % 2 == 0


def test_minimal_result_without_optional_fields_renders(tmp_path: Path) -> None:
    result = make_result(checks=[])
    for key in ("manual_pending", "problems"):
        del result[key]
    result["tasks"] = [{k: v for k, v in t.items() if k != "output"} for t in result["tasks"]]
    result["tasks"][-1]["answer"] = {"text": None, "comment": None}
    result["tasks"][-1]["files"] = ["answers.md"]
    result["sandbox"] = {"layer": "rlimits", "detail": ""}
    page, md = render(validate(result), tmp_path)
    said = "Nothing was handed in for this part (answers.md)."
    assert said in page and said in md
    assert "sandbox: rlimits" in page


def test_manual_score_and_comment_are_shown(tmp_path: Path) -> None:
    result = make_result(manual_score=7.5)
    result["tasks"][-1]["answer"]["comment"] = "Good, but <see> question 3."
    page, md = render(validate(result), tmp_path)
    assert "Score: 7.5 / 10" in page and "**Score: 7.5 / 10**" in md
    assert "Good, but &lt;see&gt; question 3." in page
    assert "Good, but \\<see\\> question 3." in md


# --------------------------------------------------------------------------- markdown helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a\\|b"),
        ("# title", "\\# title"),
        ("- item", "\\- item"),
        ("1. item", "1\\. item"),
        ("<b>&amp;", "\\<b\\>\\&amp;"),
        ("::error::x", ":\\:error:\\:x"),
        ("two\nlines", "two lines"),
        ("**x** _y_ `z` [a](b) ~s~ $m$ @u", "\\*\\*x\\*\\* \\_y\\_ \\`z\\` \\[a\\](b) \\~s\\~ \\$m\\$ \\@u"),
    ],
)
def test_md_inline_escapes_markup(text: str, expected: str) -> None:
    assert markdown.md_inline(text) == expected


def test_md_fence_outlasts_backticks_and_defuses_commands() -> None:
    block = markdown.md_fence("a\n`````\n::stop-commands::x\nb ##[x]")
    assert block.startswith("``````text\n") and block.endswith("\n``````")
    assert "\n:\u200b:stop-commands" in block and "#\u200b#[x]" in block


def test_md_code_survives_backticks() -> None:
    assert markdown.md_code("a`b") == "``a`b``"
    assert markdown.md_code("`x`") == "`` `x` ``"


# --------------------------------------------------------------------------- summary


def summary_results() -> list[dict]:
    clean = make_result("carol", checks=passing_checks(), manual_score=10.0,
                        timing={"wall_s": 3.0})
    formula = make_result("=HYPERLINK(\"http://x\")", problems=["+1 file missing", "@SUM"],
                          timing={"wall_s": 99.5})
    spaced = make_result("dave smith#1", sandbox={"layer": "none", "detail": "no bwrap"})
    return [make_result("alice"), clean, formula, spaced]


def test_summary_counts_mistakes_and_links_submissions(tmp_path: Path) -> None:
    summary.render_summary(summary_results(), tmp_path)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "4 submissions" in page
    assert 'href="dave%20smith%231/feedback.html"' in page
    assert 'href="%3DHYPERLINK%28%22http%3A%2F%2Fx%22%29/feedback.html"' in page
    assert "Adam without bias correction" in page
    assert "1 submission was run WITHOUT a sandbox" in page
    assert len(PNG_URI.findall(page)) == 1
    decode_png(PNG_URI.findall(page)[0])

    rows = list(csv.DictReader((tmp_path / "mistakes.csv").open(encoding="utf-8")))
    assert rows == [{
        "mistake_id": ADAM_MISTAKE["id"], "title": ADAM_MISTAKE["title"], "count": "3",
        "submissions": "'=HYPERLINK(\"http://x\");alice;dave smith#1",
    }]


def test_a_summary_of_one_submission_draws_no_distribution(tmp_path: Path) -> None:
    summary.render_summary([make_result("alice")], tmp_path)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "1 submission" in page and not PNG_URI.findall(page)


def test_summary_mentions_slowest_problems_and_layers(tmp_path: Path) -> None:
    summary.render_summary(summary_results(), tmp_path)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    slowest = page[page.index("Slowest submissions"):]
    assert slowest.index("=HYPERLINK") < slowest.index("alice")
    assert "99.5 s" in slowest
    assert "+1 file missing" in page and "optimizer.rmsprop_matches_reference" in page
    assert "bwrap: 3" in page and "none: 1" in page
    context = summary.summary_context(summary_results())
    assert context["median"] == pytest.approx(41.0)
    assert [c["id"] for c in context["checks"]][0] == "deep_net.loads"
    adam = next(c for c in context["checks"] if c["id"] == "optimizer.adam_matches_reference")
    assert (adam["passed"], adam["failed"], adam["rate"]) == (1, 3, 25)


def test_grades_csv_columns_and_formula_guard(tmp_path: Path) -> None:
    summary.render_summary(summary_results(), tmp_path)
    with (tmp_path / "grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["submission", "score", "max_score", "deep_net", "optimizer", "roots",
                       "answers", "manual_pending", "problems", "grader_failure", "review"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["alice"] == ["alice", "41", "100", "25", "16", "0", "", "true", "", "", ""]
    assert by_name["carol"][1:8] == ["100", "100", "25", "40", "25", "10", "false"]
    formula = by_name["'=HYPERLINK(\"http://x\")"]
    assert formula[-3] == "'+1 file missing; @SUM"
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@"))


def test_grades_csv_task_columns_follow_the_results(tmp_path: Path) -> None:
    result = make_result("eve")
    result["tasks"].insert(1, {"id": "bonus", "title": "Bonus", "score": 2.0, "max_score": 5.0,
                               "manual": False})
    other = make_result("frank")
    other["tasks"] = other["tasks"][:2]
    summary.render_summary([validate(result), validate(other)], tmp_path)
    rows = list(csv.reader((tmp_path / "grades.csv").open(encoding="utf-8")))
    assert rows[0][3:8] == ["deep_net", "bonus", "optimizer", "roots", "answers"]
    assert rows[1][3:8] == ["25", "2", "16", "0", ""]
    assert rows[2][3:8] == ["25", "", "16", "", ""]


def test_summary_of_no_submissions(tmp_path: Path) -> None:
    summary.render_summary([], tmp_path)
    assert "No submissions." in (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert (tmp_path / "grades.csv").read_text(encoding="utf-8").count("\n") == 1
    assert (tmp_path / "mistakes.csv").read_text(encoding="utf-8") == (
        "mistake_id,title,count,submissions\n")


def test_csv_text_cell_guards_only_formula_starts() -> None:
    assert summary.csv_text_cell("-2+3") == "'-2+3"
    assert summary.csv_text_cell("@cmd") == "'@cmd"
    assert summary.csv_text_cell("alice") == "alice"
    assert summary.csv_text_cell("a=b") == "a=b"


# --------------------------------------------------------------------------- terminal


def test_check_report_lists_checks_and_failures() -> None:
    text = terminal.render_check_report(make_result())
    assert text.startswith("hw1 · alice — public checks: 4 of 8 passed\n")
    assert "  ✓     5/5  deep_net.py imports and defines DeepNet.  [deep_net.loads]" in text
    assert "✗    0/12  Adam follows the update rule" in text
    assert "–    0/20  Gradient descent finds both roots" in text
    assert ("optimizer — Adaptive optimizers: Adam, SGD with momentum, AdaGrad, RMSprop: 16 of 40 "
            "public points (the task is worth 40)") in text
    assert "expected: array(shape=(3,), dtype=float64) [0.75, -0.25, 1.5]" in text
    assert "recognised mistake: Adam without bias correction" in text
    assert "Skipped because the check 'roots.loads' did not pass" in text
    assert "answers — Four questions about convergence (graded by hand): 10 points, graded by hand" in text
    assert "4 passed, 2 failed, 1 could not be checked, 1 skipped" in text


def test_check_report_strips_terminal_escapes() -> None:
    result = make_result("\x1b]0;title\x07mallory\x1b[2J")
    result["checks"] = copy.deepcopy(result["checks"])
    result["checks"][3]["message"] = "bad \x1b[31mred\x1b[0m\x07"
    text = terminal.render_check_report(validate(result))
    assert "\x1b" not in text and "\x07" not in text
    assert "hw1 · mallory — public checks" in text and "bad red" in text

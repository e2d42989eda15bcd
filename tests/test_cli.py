"""The command line as a teacher and a student use it: grade, fail-under, manual scores,
check, doctor; and grading is reproducible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from course import HW1_SAMPLES

from autograder.cli import main
from autograder.results import failure_result, result_skeleton

SAMPLES = HW1_SAMPLES


@pytest.fixture(scope="module")
def graded_twice(tmp_path_factory) -> tuple[Path, Path]:
    batch = tmp_path_factory.mktemp("batch")
    for name in ("seed", "syntax_error", "empty"):
        shutil.copytree(SAMPLES / name, batch / name)
    outs = []
    for run in ("first", "second"):
        out = tmp_path_factory.mktemp(run)
        result = CliRunner().invoke(main, ["grade", str(batch), "--out", str(out), "--jobs", "1"])
        assert result.exit_code == 0, result.output
        outs.append(out)
    return outs[0], outs[1]


def test_grade_writes_every_report_and_exits_zero_whatever_the_scores(graded_twice):
    out, _ = graded_twice
    for name in ("seed", "syntax_error", "empty"):
        for file_name in ("result.json", "feedback.html", "feedback.md"):
            assert (out / name / file_name).is_file()
    assert (out / "grades.csv").read_text().splitlines()[0].startswith("submission,score,max_score")
    assert (out / "summary.html").is_file()
    syntax = json.loads((out / "syntax_error" / "result.json").read_text())
    load = next(c for c in syntax["checks"] if c["id"] == "optimizer.loads")
    assert load["status"] == "failed" and "SyntaxError" in load["message"]


def test_grading_is_reproducible_apart_from_timing(graded_twice):
    first, second = graded_twice
    for name in ("seed", "syntax_error", "empty"):
        a = json.loads((first / name / "result.json").read_text())
        b = json.loads((second / name / "result.json").read_text())
        a.pop("timing"), b.pop("timing")
        assert a == b
        assert (first / name / "feedback.html").read_bytes() == (second / name / "feedback.html").read_bytes()
    assert a["seeds"] and {"kit", "python", "torch", "numpy"} <= set(a["environment"])


def test_manual_scores_are_merged_from_a_csv(graded_twice, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded_twice[0], out)
    scores = tmp_path / "scores.csv"
    scores.write_text("submission,score,comment\nseed,6,Vieta is not descent\nnobody,3,\nempty,99,\n")
    result = CliRunner().invoke(main, ["merge-manual", str(out), str(scores)])
    assert result.exit_code == 1, result.output  # bad rows are named, and CI sees them
    assert "no graded submission named 'nobody'" in result.output
    assert "outside 0..10" in result.output
    assert "2 row(s) were not merged" in result.output
    seed = json.loads((out / "seed" / "result.json").read_text())
    answers = next(t for t in seed["tasks"] if t["id"] == "answers")
    assert answers["score"] == 6 and answers["answer"]["comment"] == "Vieta is not descent"
    assert seed["manual_pending"] is False
    assert seed["score"] == sum(t["score"] for t in seed["tasks"])
    assert "Vieta is not descent" in (out / "seed" / "feedback.html").read_text()


def test_fail_under_makes_ci_fail_and_check_prints_a_report(tmp_path):
    result = CliRunner().invoke(
        main, ["grade", str(SAMPLES / "syntax_error"), "--out", str(tmp_path), "--fail-under", "90"]
    )
    assert result.exit_code == 1
    assert "1 submission(s) under 90% of the automatic points: syntax_error (56%)" in result.output
    assert "graded 1/1 (100%)" in result.output  # no terminal: progress goes to the log
    check = CliRunner().invoke(main, ["check", str(SAMPLES / "reference")])
    assert check.exit_code == 0, check.output
    assert "✓" in check.output and "✗" not in check.output


def test_missing_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.mark.parametrize("args", [
    ["grade", "{samples}/reference", "--out", "{file}"],
    ["grade", "{samples}/reference", "--out", "{file}/below"],
    ["grade", "{samples}/reference", "--out", "{tmp}", "--jobs", "0"],
    ["benchmark", "--copies", "0"],
    ["benchmark", "--samples", "{tmp}", "--adversarial"],
])
def test_a_bad_command_line_gets_one_clear_line(tmp_path, args):
    (tmp_path / "file").write_text("not a folder")
    filled = [a.format(samples=SAMPLES, file=tmp_path / "file", tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, filled)
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


def test_the_summary_is_written_when_the_batch_fails(tmp_path, monkeypatch):
    from autograder import cli

    def broken(assignment, submissions, options, on_result, jobs, **_):
        on_result(failure_result(result_skeleton(assignment, submissions[0].name), "no reason"))
        raise cli.GradingError("the sandbox could not start")

    monkeypatch.setattr(cli, "grade_parallel", broken)
    result = CliRunner().invoke(main, ["grade", str(SAMPLES / "reference"), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "the sandbox could not start" in result.output
    assert "reference" in (tmp_path / "grades.csv").read_text()
    assert (tmp_path / "summary.html").is_file() and (tmp_path / "mistakes.csv").is_file()


def test_doctor_names_the_layer_it_will_use():
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "grading will use:" in result.output


def test_benchmark_prints_its_figures(tmp_path):
    """The benchmark is a command, not a timed test: it must run and print its figures."""
    for name in ("reference", "stubs"):
        shutil.copytree(SAMPLES / name, tmp_path / name)
    result = CliRunner().invoke(main, ["benchmark", "--samples", str(tmp_path), "--copies", "2",
                                       "--warm-only", "--isolation-cost"], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells for cells in (
        [c.strip() for c in line.strip("│ ").split("│")]
        for line in result.output.splitlines() if "warm" in line)}
    for mode in ("warm", "warm-shared"):  # isolated tasks, and the same without, for its cost
        cells = rows[mode]
        assert cells[:3] == [mode, "1", "4"] and float(cells[4]) > 0 and float(cells[5]) > 0
    assert "peak resident memory" in result.output
    assert "grader peak memory per grading process" in result.output


def test_benchmark_grades_a_hostile_mix(tmp_path):
    shutil.copytree(SAMPLES / "reference", tmp_path / "reference")
    result = CliRunner().invoke(main, ["benchmark", "--samples", str(tmp_path), "--copies", "1",
                                       "--warm-only", "--adversarial"], terminal_width=200)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "warm" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")][:3] == ["warm", "1", "7"]
    peak = float(result.output.split("grader peak memory per grading process:")[1].split()[0])
    assert 0 < peak < 1024


def test_merge_manual_names_what_it_cannot_read(graded_twice, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded_twice[0], out)
    (out / "empty" / "result.json").write_text("{broken")
    scores = tmp_path / "scores.csv"
    scores.write_text("submission,score\nseed,5\n")
    result = CliRunner().invoke(main, ["merge-manual", str(out), str(scores)])
    assert result.exit_code == 1, result.output
    assert "empty/result.json left out" in result.output
    scores.write_bytes(b"\xff\xfe\x00 not text")
    result = CliRunner().invoke(main, ["merge-manual", str(out), str(scores)])
    assert result.exit_code == 1 and "not a readable UTF-8 CSV" in result.output
    assert "Traceback" not in result.output


def test_summarize_rewrites_the_batch_files_from_the_results(graded_twice, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded_twice[0], out)
    for name in ("summary.html", "grades.csv", "mistakes.csv"):
        (out / name).unlink()
    result = CliRunner().invoke(main, ["summarize", str(out)])
    assert result.exit_code == 0, result.output
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == ["empty", "seed", "syntax_error"]
    assert (out / "summary.html").is_file() and (out / "mistakes.csv").is_file()

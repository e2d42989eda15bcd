"""A course of several assignments: which assignment a command means, a teacher's bad command
line, a new assignment from `autograder new`, and tasks graded by hand in any number."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from course import ASSIGNMENTS, COURSE

from autograder import assignment as assignments
from autograder.cli import main
from autograder.lint import lint
from autograder.release import release_assignment

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")


def invoke(*args: str, cwd: Path = COURSE, course: Path | None = COURSE):
    """Run the command line as a user would: in ``cwd``, with ``course`` as the course (None:
    whatever is found from ``cwd``)."""
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, list(args), env={assignments.COURSE_ENV: str(course or "")},
                                  catch_exceptions=False)


def one_line_error(result) -> str:
    """The command failed with one clear line, not a traceback."""
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_every_assignment_of_the_course_is_clean(assignment) -> None:
    assert [str(p) for p in lint(assignment)] == []


# -- which assignment -------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_the_files_say_which_assignment(assignment, tmp_path: Path, monkeypatch) -> None:
    """Without --assignment, a folder of one assignment's files is graded as that assignment,
    whichever comes first in the course."""
    picked = []
    monkeypatch.setattr("autograder.cli.grade_batch", lambda spec, *a, **k: picked.append(spec.name))
    work = tmp_path / "work"
    shutil.copytree(assignment.samples_dir / "reference", work)
    result = invoke("check", str(work))
    assert result.exit_code == 0, result.output
    assert picked == [assignment.name]


def test_a_bundle_says_which_assignment_without_the_course(tmp_path: Path, monkeypatch) -> None:
    """In a released bundle, outside any course, check runs that bundle's public checks."""
    for assignment in ASSIGNMENTS:
        bundle = tmp_path / assignment.name
        release_assignment(assignment, bundle)
        picked = []
        monkeypatch.setattr("autograder.cli.grade_batch",
                            lambda spec, subs, options, *a, picked=picked, **k: picked.append(
                                (spec, options.suites)))
        result = invoke("check", ".", cwd=bundle, course=None)
        assert result.exit_code == 0, result.output
        ((spec, suites),) = picked
        assert spec.name == assignment.name and suites == ("public",)
        assert spec.folder == (bundle / assignments.BUNDLE_MARKER).resolve() and not spec.has_hidden_suite


def test_files_of_no_assignment_are_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    line = one_line_error(invoke("check", str(tmp_path)))
    assert "none of the files there belong to an assignment" in line and "hw1" in line


def test_files_of_two_assignments_are_refused_with_a_reason(tmp_path: Path) -> None:
    for assignment in ASSIGNMENTS[:2]:
        for name in assignment.submission_files:
            (tmp_path / name).write_text("")
    line = one_line_error(invoke("grade", str(tmp_path), "--out", str(tmp_path / "out")))
    assert "fit several assignments" in line and "--assignment" in line


def test_no_course_and_no_bundle_is_one_line(tmp_path: Path) -> None:
    line = one_line_error(invoke("check", ".", cwd=tmp_path, course=None))
    assert "neither a course" in line


# -- a teacher's bad command line -------------------------------------------------------------


def test_unknown_assignment_is_one_line(tmp_path: Path) -> None:
    for command in (["release", "hw9", "--out", str(tmp_path / "out")], ["lint", "hw9"],
                    ["grade", str(tmp_path), "--out", str(tmp_path / "o"), "-a", "hw9"]):
        line = one_line_error(invoke(*command))
        assert "no assignment 'hw9'" in line and "known: " in line


def test_release_into_a_folder_of_other_files_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    line = one_line_error(invoke("release", "hw1", "--out", str(out)))
    assert "mine.txt" in line
    assert (out / "mine.txt").read_text() == "keep me"


def test_out_pointing_at_a_file_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert "is a file" in one_line_error(invoke("release", "hw1", "--out", str(target)))
    sample = ASSIGNMENTS[0].samples_dir / "reference"
    assert "is a file" in one_line_error(invoke("grade", str(sample), "--out", str(target)))


# -- a new assignment ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def new_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("course")
    result = invoke("new", "week3", "--course", str(course), course=None)
    assert result.exit_code == 0, result.output
    return course


def test_a_new_assignment_is_clean_and_grades_its_reference_in_full(new_course: Path) -> None:
    spec = assignments.load("week3", new_course)
    assert [str(p) for p in lint(spec)] == []
    out = new_course / "out"
    result = invoke("grade", str(spec.samples_dir), "--out", str(out), course=new_course)
    assert result.exit_code == 0, result.output
    reference = json.loads((out / "reference" / "result.json").read_text())
    assert reference["score"] == reference["max_score"] > 0
    wrong = json.loads((out / "no_mean" / "result.json").read_text())
    assert wrong["score"] == 0
    assert {m["id"] for c in wrong["checks"] for m in c["mistakes"]} == {"no_mean"}


def test_a_new_assignment_releases_and_its_bundle_checks(new_course: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert invoke("release", "week3", "--out", str(bundle), course=new_course).exit_code == 0
    result = invoke("check", ".", cwd=bundle, course=None)
    assert result.exit_code == 0, result.output
    assert "NotImplementedError" in result.output


def test_new_refuses_a_bad_name_or_an_existing_folder(new_course: Path) -> None:
    assert "not a usable assignment name" in one_line_error(
        invoke("new", "../x", "--course", str(new_course), course=None))
    existing = invoke("new", "week3", "--course", str(new_course), course=None)
    assert "already exists" in one_line_error(existing)


# -- tasks graded by hand ----------------------------------------------------------------------


def test_several_tasks_graded_by_hand(new_course: Path, tmp_path: Path) -> None:
    """Two manual tasks: each keeps what was handed in, merge-manual scores each by its id, and
    the total waits until both are scored."""
    course = tmp_path / "course"
    shutil.copytree(new_course / "assignments" / "week3", course / "assignments" / "week3",
                    ignore=shutil.ignore_patterns("samples"))
    shutil.copytree(new_course / "solutions" / "week3", course / "solutions" / "week3")
    folder = course / "assignments" / "week3"
    with (folder / "assignment.toml").open("a") as toml:
        for task in ("why", "how"):
            toml.write(f'\n[[tasks]]\nid = "{task}"\ntitle = "{task.title()}?"\nfiles = ["{task}.md"]\n'
                       "points = 5\nmanual = true\n")
    statement = folder / "statement.md.j2"
    statement.write_text(statement.read_text() + "{% block task_why %}Why?{% endblock %}\n"
                         "{% block task_how %}How?{% endblock %}\n")
    for task in ("why", "how"):
        (course / "solutions" / "week3" / f"{task}.md").write_text(
            f"<!-- BEGIN SOLUTION -->\nBecause {task}.\n<!-- END SOLUTION -->\n")
    spec = assignments.load("week3", course)
    assert [str(p) for p in lint(spec)] == []
    work = tmp_path / "subs" / "ann"
    work.mkdir(parents=True)
    shutil.copy(new_course / "assignments" / "week3" / "samples" / "reference" / "mse.py", work)
    (work / "why.md").write_text("Because the mean is what we want.")
    out = tmp_path / "out"
    assert invoke("grade", str(work.parent), "--out", str(out), course=course).exit_code == 0
    result = json.loads((out / "ann" / "result.json").read_text())
    handed_in = {t["id"]: t["answer"]["text"] for t in result["tasks"] if t["manual"]}
    assert handed_in == {"why": "Because the mean is what we want.", "how": None}
    assert result["manual_pending"] is True
    scores = tmp_path / "scores.csv"
    scores.write_text("submission,task,score,comment\nann,why,4,clear\nann,who,1,\n")
    merged = invoke("merge-manual", str(out), str(scores), course=course)
    assert "no task 'who' graded by hand (known: why, how)" in merged.output
    result = json.loads((out / "ann" / "result.json").read_text())
    assert result["manual_pending"] is True and result["score"] == 14
    (tmp_path / "how.csv").write_text("submission,score\nann,2\n")
    assert invoke("merge-manual", str(out), str(tmp_path / "how.csv"), "--task", "how",
                  course=course).exit_code == 0
    result = json.loads((out / "ann" / "result.json").read_text())
    assert result["manual_pending"] is False and result["score"] == 16
    feedback = (out / "ann" / "feedback.html").read_text()
    assert "Because the mean is what we want." in feedback and "clear" in feedback


def test_every_integration_is_on_the_command_line() -> None:
    export = main.commands["export"]
    assert {"canvas", "moodle", "gradescope"} <= set(export.commands)
    assert {"nbgrader", "classroom", "new", "lint", "release", "check", "grade"} <= set(main.commands)

"""An nbgrader course graded by the kit, against the real nbgrader: release, generate_assignment,
validate, autograde into the gradebook, a manual score through nbgrader's API, export, feedback.

Three students: a correct notebook, one with a named mistake, one that does not load."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from course import ASSIGNMENTS, COURSE, HW1
from nbgrader.api import Grade, Gradebook

from autograder.assignment import COURSE_ENV
from autograder.benchmark.versus_nbgrader import solved
from autograder.cli import main
from autograder.release import release_assignment

TIMESTAMP = "2026-12-01 10:00:00.000000 UTC"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real nbgrader command line, in the course folder."""
    return subprocess.run(["nbgrader", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)


def autograder(*args: str) -> object:
    result = CliRunner().invoke(main, list(args), env={COURSE_ENV: str(COURSE)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def released_course(root: Path, name: str) -> Path:
    """A course folder with the kit's source notebook of ``name``, released by nbgrader."""
    autograder("nbgrader", "release", name, str(root))
    done = nbgrader("generate_assignment", name, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def hand_in(root: Path, student: str, name: str, notebook: str, content: nbformat.NotebookNode | str) -> None:
    folder = root / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        (folder / notebook).write_text(content, encoding="utf-8")
    else:
        nbformat.write(content, folder / notebook)
    (folder / "timestamp.txt").write_text(TIMESTAMP, encoding="utf-8")
    (folder / "submission_secret.txt").write_text(f"secret-of-{student}", encoding="utf-8")


@pytest.fixture(scope="module")
def hw1_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hw1 released through nbgrader, handed in by three students, autograded by the kit."""
    root = released_course(tmp_path_factory.mktemp("nbgrader") / "course", "hw1")
    hand_in(root, "alice", "hw1", HW1.notebook, solved(root, "hw1", HW1.notebook))
    mistaken = solved(root, "hw1", HW1.notebook)
    for cell in mistaken.cells:
        if cell.id == "optimizer-Adam":  # Adam without bias correction
            cell.source = cell.source.replace("m_hat = m / (1 - beta1**t)", "m_hat = m")
            cell.source = cell.source.replace("v_hat = v / (1 - beta2**t)", "v_hat = v")
    hand_in(root, "bob", "hw1", HW1.notebook, mistaken)
    hand_in(root, "carol", "hw1", HW1.notebook, '{"cells": [ not a notebook')
    autograder("nbgrader", "autograde", "hw1", str(root))
    return root


def kit_result(root: Path, student: str) -> dict:
    return json.loads((root / "autograder" / "hw1" / student / "result.json").read_text())


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_nbgrader_releases_exactly_the_kits_student_notebook(assignment, tmp_path: Path) -> None:
    root = released_course(tmp_path / "course", assignment.name)
    theirs = nbformat.read(root / "release" / assignment.name / assignment.notebook, as_version=4)
    release_assignment(assignment, tmp_path / "bundle")
    ours = nbformat.read(tmp_path / "bundle" / assignment.notebook, as_version=4)
    assert theirs.metadata == ours.metadata
    assert [c.id for c in theirs.cells] == [c.id for c in ours.cells]
    for their, our in zip(theirs.cells, ours.cells, strict=True):
        added = ("checksum", "cell_type")  # what nbgrader adds to every cell it tracks
        meta = {k: v for k, v in their.metadata.get("nbgrader", {}).items() if k not in added}
        assert (their.cell_type, their.source, meta) == (our.cell_type, our.source,
                                                         our.metadata.get("nbgrader", {})), their.id
    bundle, released = tmp_path / "bundle", root / "release" / assignment.name
    public = sorted(p.relative_to(bundle) for p in (bundle / ".autograder").rglob("*.*"))
    assert sorted(p.relative_to(released) for p in (released / ".autograder").rglob("*.*")) == public


def test_validate_fails_on_the_release_and_passes_when_solved(hw1_course: Path, tmp_path: Path) -> None:
    untouched = nbgrader("validate", str(hw1_course / "release" / "hw1" / HW1.notebook), cwd=hw1_course)
    assert "VALIDATION FAILED" in untouched.stdout, untouched.stdout[-2000:]
    assert "not written yet: MyModelNN" in untouched.stdout
    nbformat.write(solved(hw1_course, "hw1", HW1.notebook), tmp_path / HW1.notebook)
    done = nbgrader("validate", str(tmp_path / HW1.notebook), cwd=hw1_course)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout[-3000:]


def test_the_gradebook_holds_each_results_scores(hw1_course: Path) -> None:
    with Gradebook(f"sqlite:///{hw1_course / 'gradebook.db'}") as gradebook:
        for student in ("alice", "bob", "carol"):
            result = kit_result(hw1_course, student)
            submission = gradebook.find_submission("hw1", student)
            assert submission.timestamp.isoformat(sep=" ").startswith("2026-12-01 10:00:00")
            for task in result["tasks"]:
                grade = gradebook.find_grade(task["id"], "hw1", "hw1", student)
                if task["manual"]:
                    assert grade.needs_manual_grade and grade.manual_score is None
                else:
                    assert grade.auto_score == task["score"] and not grade.needs_manual_grade
    assert [kit_result(hw1_course, s)["score"] for s in ("alice", "bob", "carol")] == [90, 83.5, 0]
    bob = kit_result(hw1_course, "bob")
    assert {m["id"] for c in bob["checks"] for m in c["mistakes"]} == {"adam_no_bias_correction"}
    carol = kit_result(hw1_course, "carol")
    assert any("not a readable notebook" in p for p in carol["problems"])


def test_autograded_notebooks_show_the_kits_summary(hw1_course: Path) -> None:
    notebook = nbformat.read(hw1_course / "autograded" / "bob" / "hw1" / HW1.notebook, as_version=4)
    cell = next(c for c in notebook.cells if c.id == "optimizer")
    assert cell.outputs[0]["text"].startswith("Autograded: 33.5 / 40 points.")
    assert (hw1_course / "autograded" / "bob" / "hw1" / "timestamp.txt").read_text() == TIMESTAMP


def test_running_autograde_again_updates_without_duplicates(hw1_course: Path) -> None:
    db = f"sqlite:///{hw1_course / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        before = (len(gradebook.find_assignment("hw1").submissions), gradebook.db.query(Grade).count())
    autograder("nbgrader", "autograde", "hw1", str(hw1_course))
    with Gradebook(db) as gradebook:
        after = (len(gradebook.find_assignment("hw1").submissions), gradebook.db.query(Grade).count())
    assert before == after == (3, 12)


def test_manual_score_export_and_feedback(hw1_course: Path) -> None:
    with Gradebook(f"sqlite:///{hw1_course / 'gradebook.db'}") as gradebook:  # what formgrader does
        gradebook.find_grade("answers", "hw1", "hw1", "alice").manual_score = 8
        gradebook.find_comment("answers", "hw1", "hw1", "alice").manual_comment = "Question 3 is brief."
        gradebook.db.commit()
    exported = nbgrader("export", cwd=hw1_course)
    assert exported.returncode == 0, exported.stderr[-2000:]
    with (hw1_course / "grades.csv").open() as handle:
        totals = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert totals == {"alice": 98.0, "bob": 83.5, "carol": 0.0}
    autograder("nbgrader", "feedback", "hw1", str(hw1_course))
    folder = hw1_course / "feedback" / "alice" / "hw1"
    page = (folder / "hw1.html").read_text()
    assert "Score: 8 / 10" in page and "Question 3 is brief." in page
    assert (folder / "timestamp.txt").read_text() == TIMESTAMP
    assert (folder / "submission_secret.txt").read_text() == "secret-of-alice"
    assert {p.parent.parent.name for p in (hw1_course / "feedback").glob("*/hw1/hw1.html")} == {
        "alice", "bob", "carol"}
    (hw1_course / "exchange").mkdir()
    released = nbgrader("release_feedback", "hw1", "--Exchange.root=" + str(hw1_course / "exchange"),
                        "--CourseDirectory.course_id=course", cwd=hw1_course)
    assert released.returncode == 0, released.stderr[-2000:]
    assert len(list((hw1_course / "exchange" / "course" / "feedback").glob("*.html"))) == 3


def test_plain_grade_reads_the_submitted_layout(hw1_course: Path, tmp_path: Path) -> None:
    autograder("grade", str(hw1_course / "submitted"), "--out", str(tmp_path / "out"))
    graded = sorted(p.parent.name for p in (tmp_path / "out").glob("*/result.json"))
    assert graded == ["alice", "bob", "carol"]


def test_autograde_before_generate_assignment_is_one_line(tmp_path: Path) -> None:
    autograder("nbgrader", "release", "hw1", str(tmp_path))
    result = CliRunner().invoke(main, ["nbgrader", "autograde", "hw1", str(tmp_path)],
                                env={COURSE_ENV: str(COURSE)})
    assert result.exit_code == 1
    assert "run `nbgrader generate_assignment hw1` first" in result.output
    assert "Traceback" not in result.output


def test_a_linked_notebook_is_neither_read_nor_copied(tmp_path: Path) -> None:
    """The trusted side reads a submitted notebook only as a plain file within the caps: one
    that links elsewhere (here to the course's own solutions) reaches no autograded folder, and
    a linked nbgrader file is not copied next to the feedback."""
    root = released_course(tmp_path / "course", "hw1")
    folder = root / "submitted" / "dave" / "hw1"
    folder.mkdir(parents=True)
    (folder / HW1.notebook).symlink_to(COURSE / "solutions" / "hw1" / "optimizer.py")
    (folder / "timestamp.txt").write_text(TIMESTAMP, encoding="utf-8")
    (folder / "submission_secret.txt").symlink_to(COURSE / "solutions" / "hw1" / "roots.py")
    autograder("nbgrader", "autograde", "hw1", str(root))
    assert kit_result(root, "dave")["score"] == 0
    assert not (root / "autograded" / "dave" / "hw1" / HW1.notebook).exists()
    autograder("nbgrader", "feedback", "hw1", str(root))
    feedback = root / "feedback" / "dave" / "hw1"
    assert (feedback / "hw1.html").is_file() and not (feedback / "submission_secret.txt").exists()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        assert gradebook.find_grade("deep_net", "hw1", "hw1", "dave").auto_score == 0


def test_the_benchmark_runs_nbgrader_and_the_kit_side_by_side() -> None:
    """Both graders on the same handed-in notebooks (a figure, not a timed test)."""
    result = CliRunner().invoke(main, ["benchmark", "--assignment", "hw1", "--versus-nbgrader", "2"],
                                env={COURSE_ENV: str(COURSE)}, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "nbgrader autograde" in result.output and "as fast" in result.output


def test_the_kits_nbgrader_commands_skip_jsonschemas_iri_grammars() -> None:
    """rfc3987_syntax (installed with nbgrader's dependencies) builds its grammars as it is
    imported, over a second of every command; notebooks are still validated without it."""
    probe = ("import sys, autograder.nbgrader_course.autograde, nbformat\n"
             "notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
             "nbformat.validate(notebook)\n"
             "notebook.cells[0]['cell_type'] = 'no such cell type'\n"
             "try:\n    nbformat.validate(notebook)\nexcept nbformat.ValidationError:\n    print('invalid')\n"
             "print(sys.modules.get('rfc3987_syntax'))\n")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["invalid", "None"]

"""``autograder nbgrader autograde``: grade every ``submitted/<student>/<name>/`` in the sandbox and
record the scores in nbgrader's gradebook through nbgrader's own API, as ``nbgrader autograde``
would, without running any student code in nbgrader's kernel.

Each automatic task's score goes to its autograder cell (``grade_id`` the task's id), with a
short comment on the task's first answer cell; a task graded by hand is left to formgrader (0
when its cell was not touched, as nbgrader does). ``autograded/<student>/<name>/`` gets the
student's notebook with each autograder cell's output saying what the kit found, for
formgrader to show. Running it again updates the same rows.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbformat import NotebookNode, reads, writes
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import compute_checksum
from sqlalchemy.exc import SAWarning

from ..assignment import Assignment
from ..batch import GradingOptions
from ..jobs import grade_parallel
from ..output import write_submission
from ..report.rendering import prepare
from ..report.summary import render_summary
from ..runtime.loader import check_json_cost
from ..sanitise import describe_error
from ..submission import MAX_NOTEBOOK_BYTES, read_submission
from .coursedir import StudentSubmission, by_kit_name, step_folder, submissions

COMMENT_CHARS = 600  # a gradebook comment is a short summary; the feedback has the rest


class NotInGradebook(LookupError):
    """The assignment is not in nbgrader's gradebook: ``nbgrader generate_assignment`` first."""


def results_folder(coursedir: CourseDirectory, assignment: Assignment) -> Path:
    """Where the kit keeps its own results of an nbgrader course: ``autograder/<name>/``,
    one folder per student as ``autograder grade --out`` writes them."""
    return Path(coursedir.root) / "autograder" / assignment.name


def autograde(assignment: Assignment, coursedir: CourseDirectory, options: GradingOptions, jobs: int,
              on_result: Callable[[dict[str, Any]], None] | None = None
              ) -> tuple[list[dict[str, Any]], list[str]]:
    """Grade every submission of ``assignment`` and record the scores; the results, and the
    students whose scores or autograded notebook could not be written (and why)."""
    notebook_id = Path(assignment.notebook).stem
    with Gradebook(coursedir.db_url) as gradebook:
        try:
            gradebook.find_notebook(notebook_id, assignment.name)
        except MissingEntry:
            raise NotInGradebook(f"{assignment.name}/{assignment.notebook} is not in the gradebook "
                                 f"({coursedir.db_url}): run `nbgrader generate_assignment "
                                 f"{assignment.name}` first") from None
    found = submissions(coursedir, assignment)
    by_name = by_kit_name(found)
    out = results_folder(coursedir, assignment)
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []

    def keep(result: dict[str, Any]) -> None:
        result = write_submission(out, result)
        results.append(result)
        if on_result is not None:
            on_result(result)

    graded = [read_submission(s.folder, assignment, name=name).unloaded() for name, s in by_name.items()]
    grade_parallel(assignment, graded, options, keep, jobs, while_starting=prepare)
    results.sort(key=lambda r: r["submission"])
    render_summary(results, out)
    problems = record_scores(assignment, coursedir, [(by_name[r["submission"]], r) for r in results])
    for result in results:
        submission = by_name[result["submission"]]
        try:
            write_autograded(assignment, coursedir, submission, result)
        except (OSError, ValueError) as exc:  # one student's notebook never stops the others
            problems.append(f"{submission.student}: autograded notebook not written ({describe_error(exc)})")
    return results, problems


def record_scores(assignment: Assignment, coursedir: CourseDirectory,
                  graded: list[tuple[StudentSubmission, dict[str, Any]]]) -> list[str]:
    """Write each submission's automatic scores into the gradebook, as nbgrader's
    ``SaveAutoGrades`` does: a score a grader already overrode stays, and is flagged for review.
    A student whose scores cannot be written is one problem returned; the others are written."""
    notebook_id = Path(assignment.notebook).stem
    problems = []
    with warnings.catch_warnings(), Gradebook(coursedir.db_url) as gradebook:
        # nbgrader's own update_or_create_submission trips SQLAlchemy's autoflush warnings
        warnings.simplefilter("ignore", SAWarning)
        answer_cells = [c.name for c in gradebook.find_notebook(notebook_id, assignment.name).solution_cells]
        for submission, result in graded:
            try:
                _record(gradebook, assignment, notebook_id, answer_cells, submission, result)
                gradebook.db.commit()
            except Exception as exc:  # nbgrader's or the database's error, for this student only
                gradebook.db.rollback()
                problems.append(f"{submission.student}: scores not recorded ({describe_error(exc)})")
    return problems


def _record(gradebook: Gradebook, assignment: Assignment, notebook_id: str, answer_cells: list[str],
            submission: StudentSubmission, result: dict[str, Any]) -> None:
    """One student's submission, scores and comments in the gradebook."""
    gradebook.update_or_create_student(submission.student)
    extra = {"timestamp": submission.timestamp} if submission.timestamp else {}
    gradebook.update_or_create_submission(assignment.name, submission.student, **extra)
    tasks = {t["id"]: t for t in result.get("tasks", [])}
    cells = _submitted_cells(submission.folder / assignment.notebook)
    for task in assignment.tasks:
        grade = gradebook.find_grade(task.id, notebook_id, assignment.name, submission.student)
        if task.manual:  # 0 for an answer left as released, else formgrader's to give
            grade.auto_score = 0.0 if _untouched(cells.get(task.id)) else None
        else:
            grade.auto_score = float(tasks.get(task.id, {}).get("score") or 0.0)
            comment_cell = _first_answer_cell(task.files, answer_cells)
            if comment_cell is not None:
                comment = gradebook.find_comment(comment_cell, notebook_id, assignment.name,
                                                 submission.student)
                comment.auto_comment = task_summary(result, task.id)[:COMMENT_CHARS]
        grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None


def _untouched(cell: NotebookNode | None) -> bool:
    """Whether an answer cell is still as released (nbgrader's checksum of it matches)."""
    if cell is None:
        return False
    released = cell.get("metadata", {}).get("nbgrader", {}).get("checksum")
    return released is not None and released == compute_checksum(cell)


def _first_answer_cell(files: tuple[str, ...], answer_cells: list[str]) -> str | None:
    stems = tuple(f"{Path(name).stem}-" for name in files)
    return next((cell for cell in answer_cells if cell.startswith(stems)), None)


def read_notebook(path: Path) -> NotebookNode | None:
    """A submitted notebook, parsed here only within the kit's caps on size and JSON values, and
    never through a link; None when it cannot be read so."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        raw = path.read_bytes()
        check_json_cost(raw, MAX_NOTEBOOK_BYTES)
        return reads(raw.decode("utf-8"), as_version=4)
    except Exception:  # missing, too large, broken: no cells to read
        return None


def _submitted_cells(path: Path) -> dict[str, NotebookNode]:
    """The graded cells of a submitted notebook by ``grade_id`` (none if it is unreadable)."""
    notebook = read_notebook(path)
    if notebook is None:
        return {}
    cells = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if isinstance(grade_id, str):
            cells[grade_id] = cell
    return cells


def task_summary(result: dict[str, Any], task_id: str) -> str:
    """What the kit found for one task, in a few lines: score, then each check not passed."""
    task = next((t for t in result.get("tasks", []) if t["id"] == task_id), {})
    lines = [f"Autograded: {task.get('score', 0):g} / {task.get('max_score', 0):g} points."]
    if result.get("grader_failure"):
        lines.append(f"The grader failed on this submission: {result['grader_failure']}")
    for check in result.get("checks", []):
        if check.get("task") == task_id and check.get("status") != "passed":
            lines.append(f"{check.get('status')}: {check.get('title') or check.get('id')}")
    return "\n".join(lines)


def write_autograded(assignment: Assignment, coursedir: CourseDirectory, submission: StudentSubmission,
                     result: dict[str, Any]) -> None:
    """``autograded/<student>/<name>/``: the submitted notebook (never run), each autograder cell
    showing the kit's summary of its task, and nbgrader's timestamp."""
    folder = step_folder(coursedir, coursedir.autograded_directory, submission.student, assignment.name)
    folder.mkdir(parents=True, exist_ok=True)
    source = submission.folder / assignment.notebook
    notebook = read_notebook(source)
    if notebook is None:  # unreadable: formgrader shows what was handed in, if it is a plain file
        if source.is_file() and not source.is_symlink() and source.stat().st_size <= MAX_NOTEBOOK_BYTES:
            shutil.copyfile(source, folder / assignment.notebook)
    else:
        automatic = {t.id for t in assignment.automatic_tasks}
        for cell in notebook.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "code" and grade_id in automatic:
                summary = task_summary(result, grade_id) + "\n"
                cell.outputs = [new_output("stream", name="stdout", text=summary)]
                cell.execution_count = None
        (folder / assignment.notebook).write_text(writes(notebook), encoding="utf-8")
    if submission.timestamp:
        (folder / "timestamp.txt").write_text(submission.timestamp, encoding="utf-8")

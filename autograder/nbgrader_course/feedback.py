"""``autograder nbgrader feedback``: each student's feedback page where nbgrader's own feedback
goes (``feedback/<student>/<name>/<notebook>.html``, beside the submission's ``timestamp.txt``
and ``submission_secret.txt``), so ``nbgrader release_feedback`` and ``fetch_feedback`` deliver
it. The scores and comments a grader gave in formgrader are merged in from the gradebook."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory

from ..assignment import Assignment
from ..output import load_results, write_submission
from ..report.feedback import render_feedback_html
from ..report.rendering import write_text
from ..results import manual_pending, total_score
from .autograde import results_folder
from .coursedir import by_kit_name, step_folder, submissions

COPIED = ("timestamp.txt", "submission_secret.txt")  # what release_feedback reads beside the page
COPIED_BYTES = 4096


def write_feedback(assignment: Assignment, coursedir: CourseDirectory) -> tuple[list[Path], list[str]]:
    """The feedback pages written, and problems (a result without a gradebook entry, say)."""
    out = results_folder(coursedir, assignment)
    problems: list[str] = []
    results = {r["submission"]: r for r in load_results(out, problems)} if out.is_dir() else {}
    students = by_kit_name(submissions(coursedir, assignment))
    notebook_id = Path(assignment.notebook).stem
    written = []
    with Gradebook(coursedir.db_url) as gradebook:
        for name, result in sorted(results.items()):
            submission = students.get(name)
            if submission is None:
                problems.append(f"{name}: no submitted/{name}/{assignment.name}/ any more; left out")
                continue
            try:
                merge_gradebook(gradebook, assignment, submission.student, notebook_id, result)
            except MissingEntry:
                problems.append(f"{submission.student}: not in the gradebook; run autograde first")
                continue
            result = write_submission(out, result)
            folder = step_folder(coursedir, coursedir.feedback_directory, submission.student, assignment.name)
            folder.mkdir(parents=True, exist_ok=True)
            page = folder / f"{notebook_id}.html"
            write_text(page, render_feedback_html(result))
            for copied in COPIED:
                source = submission.folder / copied
                # nbgrader's own small text files; a link or anything larger is not copied out
                if source.is_file() and not source.is_symlink() and source.stat().st_size <= COPIED_BYTES:
                    shutil.copyfile(source, folder / copied)
            written.append(page)
    return written, problems


def merge_gradebook(gradebook: Gradebook, assignment: Assignment, student: str, notebook_id: str,
                    result: dict[str, Any]) -> None:
    """Each task's score as the gradebook has it now (a grader's score over the kit's), and the
    grader's comment on a task graded by hand."""
    for task in result.get("tasks", []):
        grade = gradebook.find_grade(task["id"], notebook_id, assignment.name, student)
        if task.get("manual"):
            given = grade.manual_score is not None or grade.auto_score is not None
            task["score"] = grade.score if given else None
            comment = gradebook.find_comment(task["id"], notebook_id, assignment.name, student)
            answer = task.setdefault("answer", {"text": None, "comment": None})
            answer["comment"] = comment.comment
        elif grade.manual_score is not None:
            task["score"] = grade.score
    result["score"] = total_score(result)
    result["manual_pending"] = manual_pending(result)

"""``autograder nbgrader release``: the assignment as an nbgrader source notebook, whose
``nbgrader generate_assignment`` is the kit's own student notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory

from ..assignment import Assignment
from ..notebook import assignment_notebook, notebook_text
from ..release import public_files, reference_files
from ..statement import render_statement, statement_context
from .coursedir import step_folder


def source_notebook(assignment: Assignment) -> nbformat.NotebookNode:
    """The notebook built from the reference files, solution regions and all: nbgrader's
    ``ClearSolutions`` turns each region into the same stub the kit's release writes."""
    _, blocks = render_statement(assignment.statement, statement_context(assignment),
                                 [assignment.course_templates])
    texts = {name: path.read_text(encoding="utf-8") for name, path in reference_files(assignment).items()}
    return assignment_notebook(assignment, blocks, texts)


def write_source(assignment: Assignment, coursedir: CourseDirectory) -> list[Path]:
    """``source/<name>/<notebook>`` and, beside it, ``.autograder/`` (the description, probes
    and public checks a student's ``autograder check`` needs, which nbgrader releases with the
    notebook). Returns the files written."""
    folder = step_folder(coursedir, coursedir.source_directory, ".", assignment.name)
    written = [folder / assignment.notebook]
    folder.mkdir(parents=True, exist_ok=True)
    written[0].write_text(notebook_text(source_notebook(assignment)), encoding="utf-8")
    for relative, path in public_files(assignment).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        written.append(target)
    return written

"""The assignment as one notebook, usable as it is or as an nbgrader source: statement cells
read-only, stubs (or solution regions) as answer cells, one autograder cell per automatic task
whose points the kit records, and a manually graded cell per task graded by hand."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .assignment import Assignment
from .regions import MARKERS, kind_of
from .statement import number

NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


@dataclass(frozen=True)
class NotebookSection:
    """One task in the notebook: its statement and the released text of each of its files."""

    id: str
    statement: str
    files: tuple[tuple[str, str], ...]  # (file name, released text)
    points: float
    manual: bool = False


def _module_docstring_end(tree: ast.Module) -> int:
    """Line (1-based) where the module docstring ends, or 0 when there is none."""
    if tree.body and isinstance(tree.body[0], ast.Expr):
        value = tree.body[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return tree.body[0].end_lineno or 0
    return 0


def split_code_cells(source: str) -> list[tuple[str, str]]:
    """A Python file as notebook cells: ``(name, code)`` per top-level definition.

    Each class or function is a cell named after it; the statements between them (imports,
    constants) form cells named ``setup``. The module docstring is left out: the statement cell
    above the code says the same to the reader. Comments right above a definition stay with it.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    skip = _module_docstring_end(tree)
    starts: list[tuple[int, str]] = []  # (0-based first line, name)
    previous_was_definition = True
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in tree.body:
        if node.lineno <= skip:
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        if isinstance(node, definitions):
            while first > skip and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            starts.append((first, node.name))
            previous_was_definition = True
        elif previous_was_definition:
            starts.append((first, "setup"))
            previous_was_definition = False
    cells = []
    for (first, name), (following, _) in zip(starts, starts[1:] + [(len(lines), "")], strict=True):
        code = "\n".join(lines[first:following]).strip("\n")
        if code.strip():
            cells.append((name, code))
    return cells


def _cell_id(wanted: str, taken: set[str]) -> str:
    """A valid, unique cell id (also used as nbgrader's grade_id)."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", wanted)[:60] or "cell"
    candidate, counter = base, 2
    while candidate in taken:
        candidate, counter = f"{base}-{counter}", counter + 1
    taken.add(candidate)
    return candidate


def _nbgrader(
    cell_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None
) -> dict[str, Any]:
    """nbgrader's per-cell metadata (schema 3); nbgrader rejects any other key in it."""
    meta: dict[str, Any] = {"grade": grade, "solution": solution, "locked": locked}
    meta["grade_id"] = cell_id
    if points is not None:
        meta["points"] = number(points)
    meta["schema_version"] = 3
    return {"nbgrader": meta}


STUB_LINE = MARKERS["python"][2].splitlines()[-1]  # what every released code stub raises
AUTOGRADER_CELL = """\
# {task}: {points} points, given by the course's grader, which runs hidden checks on this part.
# Validating the notebook runs this cell: it fails while a function above is still a stub.
import inspect


def _is_stub(value):
    functions = vars(value).values() if isinstance(value, type) else [value]
    return any(inspect.isfunction(f) and {stub!r} in inspect.getsource(f)
               for f in functions)


_left = [name for name, value in {{{names}}}.items() if _is_stub(value)]
assert not _left, "not written yet: " + ", ".join(_left)"""


def autograder_cell_source(task: str, points: float, names: Sequence[str]) -> str:
    """The cell that carries an automatic task's points in nbgrader's gradebook. The kit
    records its score there and never runs it; ``nbgrader validate`` runs it in the student's
    own kernel, where it fails while one of the task's definitions is still a stub."""
    listed = ", ".join(f"{name!r}: {name}" for name in names)
    return AUTOGRADER_CELL.format(task=task, points=number(points), stub=STUB_LINE, names=listed)


def build_notebook(intro: str, sections: Sequence[NotebookSection], outro: str = "") -> nbformat.NotebookNode:
    """One notebook holding the whole homework, usable as it is or as an nbgrader source.

    Statement cells are read-only. A code cell holding a stub (or a solution region) is an
    autograded answer cell, and each automatic task ends with a read-only autograder cell,
    ``grade_id`` the task's id, worth the task's points: the kit records its score there. A
    task graded by hand has its first answer cell manually graded, ``grade_id`` the task's id,
    worth the task's points. Cell ids come from task and definition names, so the same input
    always gives the same notebook.
    """
    taken: set[str] = set()
    cells = []

    def text_cell(cell_id: str, text: str) -> None:
        cell_id = _cell_id(cell_id, taken)
        meta = _nbgrader(cell_id, grade=False, solution=False, locked=True, points=None)
        cells.append(new_markdown_cell(text, id=cell_id, metadata=meta))

    def answer_meta(cell_id: str, section: NotebookSection) -> dict[str, Any]:
        graded = section.manual and section.id not in taken
        cell_id = _cell_id(section.id if graded else cell_id, taken)
        return _nbgrader(cell_id, grade=graded, solution=True, locked=False,
                         points=section.points if graded else None)

    text_cell("intro", intro)
    for section in sections:
        text_cell(f"{section.id}-statement", section.statement)
        names: list[str] = []
        for file_name, text in section.files:
            stem = Path(file_name).stem
            if kind_of(file_name) == "markdown":
                meta = answer_meta(f"{section.id}-{stem}", section)
                cells.append(new_markdown_cell(text.strip(), id=meta["nbgrader"]["grade_id"], metadata=meta))
                continue
            for name, code in split_code_cells(text):
                names += [] if name == "setup" else [name]
                is_answer = MARKERS["python"][0] in code or STUB_LINE in code
                if is_answer:
                    meta = answer_meta(f"{stem}-{name}", section)
                    cells.append(new_code_cell(code, id=meta["nbgrader"]["grade_id"], metadata=meta))
                else:
                    cells.append(new_code_cell(code, id=_cell_id(f"{stem}-{name}", taken), metadata={}))
        if not section.manual:
            cell_id = _cell_id(section.id, taken)
            meta = _nbgrader(cell_id, grade=True, solution=False, locked=True, points=section.points)
            source = autograder_cell_source(section.id, section.points, names)
            cells.append(new_code_cell(source, id=cell_id, metadata=meta))
    if outro.strip():
        text_cell("outro", outro)
    notebook = new_notebook(cells=cells, metadata=json.loads(json.dumps(NOTEBOOK_METADATA)))
    nbformat.validate(notebook)
    return notebook


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as stable JSON text (sorted keys, one-space indent, final newline)."""
    return nbformat.writes(notebook, version=4).rstrip("\n") + "\n"


def assignment_notebook(
    assignment: Assignment, blocks: Mapping[str, str], texts: Mapping[str, str]
) -> nbformat.NotebookNode:
    """The assignment's notebook from the statement's blocks and a text per submission file.

    Given the stubs it is the students' notebook; given the reference files (markers and all)
    it is an nbgrader source notebook whose release is the same stubs.
    """
    missing = [f"task_{t.id}" for t in assignment.tasks if f"task_{t.id}" not in blocks]
    if "intro" not in blocks or missing:
        raise ValueError(
            "the statement template needs a block 'intro' and one 'task_<id>' per task; "
            f"missing: {', '.join((['intro'] if 'intro' not in blocks else []) + missing)}"
        )
    sections = [
        NotebookSection(
            id=task.id,
            statement=blocks[f"task_{task.id}"],
            files=tuple((name, texts[name]) for name in task.files),
            points=task.points,
            manual=task.manual,
        )
        for task in assignment.tasks
    ]
    return build_notebook(blocks["intro"], sections, blocks.get("outro", ""))

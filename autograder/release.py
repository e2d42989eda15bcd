"""Turn an assignment's reference solutions into the bundle students receive.

The release is a short pipeline of single-purpose steps, so each can be tested alone:

1. ``strip_solution_regions`` cuts the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions out
   of the reference files (Markdown uses ``<!-- BEGIN SOLUTION -->`` / ``<!-- END SOLUTION -->``).
2. ``render_statement`` renders the statement template with the assignment's points.
3. ``build_notebook`` puts the statement and the stubs into one notebook with nbgrader metadata,
   for students who prefer to hand in ``<name>.ipynb``.
4. ``find_leaks`` looks for every non-trivial line of a solution region or of a hidden suite
   file in the bundle; ``release_assignment`` refuses to publish a bundle that has any.

Everything here reads the assignment's folder (``assignments/<name>/``) and its solutions
(``solutions/<name>/``), so a second homework needs new content, not new code. The output is
deterministic (fixed cell ids, no timestamps, sorted JSON keys), so regenerating an unchanged
assignment rewrites identical bytes and the committed bundle can be checked against a fresh one.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .assignment import BUNDLE_MARKER, CONFIG_NAME, Assignment

Kind = Literal["python", "markdown"]

MARKERS: dict[str, tuple[str, str, str]] = {
    # kind: (begin marker, end marker, what the region becomes in the release)
    "python": ("### BEGIN SOLUTION", "### END SOLUTION", "raise NotImplementedError"),
    "markdown": ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->", "_Your answer here._"),
}
# Marker text that must never reach a student, whatever file it is in.
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_SECRET_CHARS = 12
IMPORT_LINE = re.compile(r"^(from\s+\S+\s+)?import\s+\S")
QUOTES_ONLY = re.compile(r"^[rRbBuUfF]*(\"\"\"|''')$")
# Left behind by running the public checks in a bundle; never part of a release.
CACHE_NAMES = frozenset({"__pycache__", ".pytest_cache", ".ipynb_checkpoints"})
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


class ReleaseLeakError(Exception):
    """The bundle would show students part of a solution or of a hidden check."""

    def __init__(self, leaks: Sequence[Leak]) -> None:
        self.leaks = list(leaks)
        listing = "\n".join(f"  {leak}" for leak in self.leaks)
        super().__init__(f"the release would leak {len(self.leaks)} secret line(s):\n{listing}")


@dataclass(frozen=True)
class Leak:
    """One bundle line that repeats a secret line (or carries a solution marker)."""

    file: str  # bundle-relative path; notebook cells read "<notebook>.ipynb (cell 3)"
    line: int  # 1-based, within the file or the cell
    secret: str  # where the secret comes from, "path:line", or "solution marker"
    text: str  # the secret line, whitespace collapsed

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text!r} (from {self.secret})"


@dataclass(frozen=True)
class NotebookSection:
    """One task in the notebook: its statement and the released text of each of its files."""

    id: str
    statement: str
    files: tuple[tuple[str, str], ...]  # (file name, released text)
    points: float
    manual: bool = False


@dataclass(frozen=True)
class ReleaseReport:
    """What a release wrote, and how much secret text it was checked against."""

    name: str
    out: Path
    files: tuple[str, ...]  # bundle-relative POSIX paths, sorted
    secret_lines: int


# --- 1. solution regions ---------------------------------------------------------------------


def kind_of(path: str | Path) -> Kind:
    """Which marker syntax a file uses, from its suffix."""
    suffix = Path(path).suffix
    if suffix == ".py":
        return "python"
    if suffix == ".md":
        return "markdown"
    raise ValueError(f"{path}: no solution-marker syntax for {suffix or 'files without suffix'}")


def _region_spans(text: str, kind: Kind, source: str) -> list[tuple[int, int]]:
    """(begin, end) 0-based line indexes of each region's markers; malformed markers raise."""
    begin, end, _ = MARKERS[kind]
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for index, line in enumerate(text.splitlines()):
        stripped = line.strip()
        where = f"{source}:{index + 1}"
        if stripped == begin:
            if opened is not None:
                raise ValueError(
                    f"{where}: {begin!r} inside the region opened on line {opened + 1} (regions cannot nest)"
                )
            opened = index
        elif stripped == end:
            if opened is None:
                raise ValueError(f"{where}: {end!r} without a {begin!r} before it")
            spans.append((opened, index))
            opened = None
        elif any(marker in line for marker in FORBIDDEN_MARKERS):
            raise ValueError(
                f"{where}: marker text that is not {begin!r} or {end!r} alone on its line "
                f"(the {kind} form, which must stand alone)"
            )
    if opened is not None:
        raise ValueError(f"{source}:{opened + 1}: {begin!r} is never closed by {end!r}")
    return spans


def strip_solution_regions(text: str, kind: Kind, *, source: str = "<text>") -> str:
    """The student's version of a reference file: each region replaced by a placeholder line.

    Python regions become ``raise NotImplementedError`` at the indentation of the region's
    ``### BEGIN SOLUTION`` line, so the stub still parses and fails loudly when called; Markdown
    regions become ``_Your answer here._``. ``source`` names the file in error messages.
    """
    spans = _region_spans(text, kind, source)
    lines = text.splitlines(keepends=True)
    placeholder = MARKERS[kind][2]
    for first, last in reversed(spans):
        marker = lines[first]
        indent = marker[: len(marker) - len(marker.lstrip())]
        closing = lines[last]  # its line ending, or none at the end of the text
        ending = closing[len(closing.rstrip("\r\n")) :]
        lines[first : last + 1] = [f"{indent}{placeholder}{ending}"]
    return "".join(lines)


def solution_text(text: str, kind: Kind, *, source: str = "<text>") -> str:
    """Only the inside of the solution regions; every other line blanked, numbering kept.

    This is the secret part of a reference file, laid out so that a line number in it is the
    line number in the reference file.
    """
    lines = text.splitlines()
    inside = {i for first, last in _region_spans(text, kind, source) for i in range(first + 1, last)}
    return "\n".join(line if i in inside else "" for i, line in enumerate(lines)) + "\n"


# --- 2. the statement ------------------------------------------------------------------------


def _number(value: float) -> int | float:
    """10.0 reads better as 10 in a statement and in notebook metadata."""
    return int(value) if float(value).is_integer() else value


def statement_context(assignment: Assignment) -> dict[str, Any]:
    """The variables the statement template sees."""
    return {
        "name": assignment.name,
        "title": assignment.title,
        "notebook": assignment.notebook,
        "tasks": assignment.tasks,
        "points": {task.id: _number(task.points) for task in assignment.tasks},
        "total": _number(assignment.max_score),
        "limits": assignment.limits,
        "files": assignment.submission_files,
        "due": assignment.due.strftime("%Y-%m-%d %H:%M UTC%z") if assignment.due else None,
    }


def render_statement(
    template: Path, context: Mapping[str, Any], shared: Sequence[Path] = ()
) -> tuple[str, dict[str, str]]:
    """The whole statement, and each ``{% block %}`` of it on its own (the notebook's cells).
    ``shared`` are folders of templates it may include or extend (the course's ``templates/``)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([template.parent, *[p for p in shared if p.is_dir()]]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    compiled = environment.get_template(template.name)
    whole = compiled.render(context)
    blocks = {
        name: "".join(render(compiled.new_context(dict(context)))).strip()
        for name, render in compiled.blocks.items()
    }
    return _tidy(whole), blocks


def _tidy(text: str) -> str:
    """At most one blank line in a row and one final newline, whatever the template's tags left."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- 3. the notebook -------------------------------------------------------------------------


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
        meta["points"] = _number(points)
    meta["schema_version"] = 3
    return {"nbgrader": meta}


def build_notebook(intro: str, sections: Sequence[NotebookSection], outro: str = "") -> nbformat.NotebookNode:
    """One notebook holding the whole homework, usable as it is or as an nbgrader source.

    Statement cells are read-only; a code cell holding a stub is an autograded answer cell
    (the hidden checks give the points); a task graded by hand becomes a manually graded answer
    cell worth the task's points. Cell ids are derived from task and definition names, so the
    same input always gives the same notebook.
    """
    taken: set[str] = set()
    cells = []

    def text_cell(cell_id: str, text: str) -> None:
        cell_id = _cell_id(cell_id, taken)
        meta = _nbgrader(cell_id, grade=False, solution=False, locked=True, points=None)
        cells.append(new_markdown_cell(text, id=cell_id, metadata=meta))

    text_cell("intro", intro)
    for section in sections:
        text_cell(f"{section.id}-statement", section.statement)
        for file_name, text in section.files:
            stem = Path(file_name).stem
            if kind_of(file_name) == "markdown":
                # The grader finds a manual task's notebook cell by this id: the task's id.
                cell_id = _cell_id(section.id if stem == section.id else f"{section.id}-{stem}", taken)
                meta = _nbgrader(
                    cell_id,
                    grade=section.manual,
                    solution=True,
                    locked=False,
                    points=section.points if section.manual else None,
                )
                cells.append(new_markdown_cell(text.strip(), id=cell_id, metadata=meta))
                continue
            for name, code in split_code_cells(text):
                cell_id = _cell_id(f"{stem}-{name}", taken)
                # A stub (released) or a solution region (source notebook) is an answer cell.
                is_stub = any(mark in code for mark in MARKERS["python"][::2])
                meta = (
                    _nbgrader(
                        cell_id,
                        grade=section.manual,
                        solution=True,
                        locked=False,
                        points=section.points if section.manual else None,
                    )
                    if is_stub
                    else {}
                )
                cells.append(new_code_cell(code, id=cell_id, metadata=meta))
    if outro.strip():
        text_cell("outro", outro)
    notebook = new_notebook(cells=cells, metadata=json.loads(json.dumps(NOTEBOOK_METADATA)))
    nbformat.validate(notebook)
    return notebook


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as stable JSON text (sorted keys, one-space indent, final newline)."""
    return nbformat.writes(notebook, version=4).rstrip("\n") + "\n"


# --- 4. leaks --------------------------------------------------------------------------------


def _normal(line: str) -> str:
    return " ".join(line.split())


def is_trivial(line: str) -> bool:
    """Lines too common to count as a secret: short, blank, comments, bare quotes, imports."""
    stripped = line.strip()
    return (
        len("".join(stripped.split())) < MIN_SECRET_CHARS
        or stripped.startswith("#")
        or bool(QUOTES_ONLY.match(stripped))
        or bool(IMPORT_LINE.match(stripped))
    )


def secret_lines(secret_texts: Mapping[str, str]) -> list[tuple[str, int, str]]:
    """``(source, line, normalised text)`` for every non-trivial line of every secret text."""
    found = []
    for source, text in secret_texts.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if not is_trivial(line):
                found.append((source, number, _normal(line)))
    return found


def _bundle_lines(bundle_dir: Path) -> Iterable[tuple[str, int, str]]:
    """``(location, line, normalised text)`` for every line of every file; notebooks by cell."""
    for path in sorted(p for p in bundle_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle_dir).as_posix()
        if CACHE_NAMES.intersection(path.relative_to(bundle_dir).parts):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        chunks: list[tuple[str, str]] = [(relative, text)]
        if path.suffix == ".ipynb":
            try:
                notebook = nbformat.reads(text, as_version=4)
                chunks = [
                    (f"{relative} (cell {number})", cell.source)
                    for number, cell in enumerate(notebook.cells, start=1)
                ] + [(f"{relative} (metadata)", json.dumps(notebook.metadata))]
            except Exception:  # unreadable as a notebook: scan the raw text instead
                pass
        for location, chunk in chunks:
            for number, line in enumerate(chunk.splitlines(), start=1):
                yield location, number, _normal(line)


def find_leaks(
    bundle_dir: Path, secret_texts: Mapping[str, str], *, public_texts: Iterable[str] = ()
) -> list[Leak]:
    """Every place in the bundle that repeats a non-trivial secret line, or a solution marker.

    ``secret_texts`` maps a source name to secret text (a hidden check file, or a reference file
    with everything outside its solution regions blanked). A secret line counts as found when it
    appears inside a bundle line, whitespace runs collapsed. A secret line that already appears
    in one of ``public_texts`` (the stubs, the public checks) is public by design and skipped.
    """
    public = [_normal(line) for text in public_texts for line in text.splitlines()]
    first_source: dict[str, tuple[str, int]] = {}  # one report per line, however often repeated
    for source, number, text in secret_lines(secret_texts):
        first_source.setdefault(text, (source, number))
    secrets = [
        (source, number, text)
        for text, (source, number) in first_source.items()
        if not any(text in line for line in public)
    ]
    leaks = []
    for location, number, line in _bundle_lines(bundle_dir):
        for marker in FORBIDDEN_MARKERS:
            if marker in line:
                leaks.append(Leak(location, number, "solution marker", marker))
        for source, secret_number, text in secrets:
            if text in line:
                leaks.append(Leak(location, number, f"{source}:{secret_number}", text))
    return leaks


# --- 5. the release --------------------------------------------------------------------------


def course_root(assignment: Assignment) -> Path:
    """The course folder an assignment's folder sits in (``<course>/assignments/<name>``)."""
    return assignment.folder.parent.parent


def _display(path: Path, assignment: Assignment) -> str:
    """A path relative to the course when it is inside it (shorter error messages)."""
    try:
        return path.resolve().relative_to(course_root(assignment).resolve()).as_posix()
    except ValueError:
        return str(path)


def reference_files(assignment: Assignment) -> dict[str, Path]:
    """Each submission file's reference solution, which must exist."""
    found = {}
    for file_name in assignment.submission_files:
        path = assignment.solutions_dir / file_name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the reference solution of {file_name} is missing")
        found[file_name] = path
    return found


def public_files(assignment: Assignment) -> dict[str, Path]:
    """What ``autograder check`` needs in the bundle, by bundle path: the assignment's
    description (which also marks the folder as this assignment's), its probes and its public
    checks, under ``.autograder/`` as in the assignment's own folder. Students may read all
    of it."""
    marker = Path(BUNDLE_MARKER)
    files = {(marker / CONFIG_NAME).as_posix(): assignment.config}
    if assignment.probes.is_file():
        files[(marker / "probes.py").as_posix()] = assignment.probes
    if assignment.public_dir.is_dir():
        for path in sorted(assignment.public_dir.glob("*.py")):
            files[(marker / "public" / path.name).as_posix()] = path
    return files


def secret_texts(assignment: Assignment) -> dict[str, str]:
    """Everything a bundle must not repeat: the solution regions of the reference files
    (the rest of them is the stubs) and every other secret file whole."""
    secrets = {}
    for path in assignment.secret_files():
        source = _display(path, assignment)
        if path.suffix == ".pyc":
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if path.is_relative_to(assignment.solutions_dir) and path.suffix in (".py", ".md"):
            text = solution_text(text, kind_of(path), source=source)
        secrets[source] = text
    return secrets


def stub_texts(assignment: Assignment) -> dict[str, str]:
    """Each submission file as students get it: the reference with its regions stripped."""
    return {
        name: strip_solution_regions(
            path.read_text(encoding="utf-8"), kind_of(name), source=_display(path, assignment)
        )
        for name, path in reference_files(assignment).items()
    }


def bundle_leaks(assignment: Assignment, bundle_dir: Path) -> list[Leak]:
    """``find_leaks`` with this assignment's secrets; its stubs and public checks are public."""
    public = list(stub_texts(assignment).values()) + [
        path.read_text(encoding="utf-8") for path in public_files(assignment).values()
    ]
    return find_leaks(bundle_dir, secret_texts(assignment), public_texts=public)


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


def bundle_contents(assignment: Assignment) -> dict[str, str]:
    """Every file of the student bundle, by bundle path, as text."""
    stubs = stub_texts(assignment)
    statement, blocks = render_statement(
        assignment.statement, statement_context(assignment), [assignment.course_templates]
    )
    notebook = assignment_notebook(assignment, blocks, stubs)
    contents = {"README.md": statement, **stubs, assignment.notebook: notebook_text(notebook)}
    for bundle_path, path in public_files(assignment).items():
        contents[bundle_path] = path.read_text(encoding="utf-8")
    return contents


def write_bundle(contents: Mapping[str, str], directory: Path) -> None:
    """Write each file as UTF-8 with the exact newlines given (no platform translation)."""
    for relative, text in contents.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def _replace_directory(staging: Path, out: Path, expected: set[str]) -> None:
    """Put the new bundle at ``out``, refusing to delete anything a release did not write."""
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a directory")
        strangers = sorted(
            p.name for p in out.iterdir() if p.name not in expected and p.name not in CACHE_NAMES
        )
        if strangers:
            raise FileExistsError(
                f"refusing to replace {out}: it holds {', '.join(strangers)}, which this release "
                "does not write; move those away or choose another --out"
            )
        shutil.rmtree(out)
    staging.chmod(0o755)  # mkdtemp makes it private; a bundle is meant to be read
    staging.rename(out)


def release_assignment(assignment: Assignment, out: Path) -> ReleaseReport:
    """Write the student bundle of ``assignment`` to ``out``, or raise before publishing.

    The bundle: ``README.md`` (the statement), the stubbed submission files, the notebook, and
    ``.autograder/`` with what ``autograder check`` needs (description, probes, public checks).
    It is built in a staging folder next to ``out`` and only moved into place when
    ``find_leaks`` finds nothing, so a leaking release never lands.
    """
    contents = bundle_contents(assignment)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        write_bundle(contents, staging)
        leaks = bundle_leaks(assignment, staging)
        if leaks:
            raise ReleaseLeakError(leaks)
        _replace_directory(staging, out, {Path(p).parts[0] for p in contents})
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return ReleaseReport(
        name=assignment.name,
        out=out,
        files=tuple(sorted(contents)),
        secret_lines=len(secret_lines(secret_texts(assignment))),
    )


__all__ = [
    "Leak",
    "NotebookSection",
    "ReleaseLeakError",
    "ReleaseReport",
    "assignment_notebook",
    "build_notebook",
    "bundle_leaks",
    "find_leaks",
    "release_assignment",
    "render_statement",
    "strip_solution_regions",
]

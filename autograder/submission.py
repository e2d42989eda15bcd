"""Find submissions on disk and read them as bytes, safely.

The grader reads a submission's files but never runs, imports or follows them: symbolic
links are refused (a link to /etc/passwd or the reference solution would carry that file
into the sandbox and back out in feedback), sizes are capped, and anything unexpected becomes
a plain-words problem in the result instead of an exception.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from .assignment import Assignment, Task
from .runtime.loader import cell_source, check_json_cost

MAX_SOURCE_BYTES = 2 << 20
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_ANSWERS_CHARS = 64 * 1024
HEADING_CHARS = 200  # how much of a markdown cell is searched for a heading
IGNORED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}
MAX_BATCH_DEPTH = 3  # folders of folders of submissions: a class, its sections, nbgrader's layout
MAX_NAME_CHARS = 120
# A file name may have 255 bytes, a character takes up to 4 in UTF-8, and "-N" is added to a
# name already taken: a cap in bytes well below 255 keeps every output folder writable.
MAX_NAME_BYTES = 200
# The batch's own output files sit beside the submissions' folders; a submission never
# takes one of these names (``discover`` renames it), whatever its folder or notebook is called.
BATCH_OUTPUTS = ("grades.csv", "mistakes.csv", "summary.html")  # what every batch writes beside its results
# Names no submission may take in an output folder: the batch's files, and the LMS imports
# `autograder export` writes there.
RESERVED_NAMES = (*BATCH_OUTPUTS, "canvas_import.csv", "moodle_import.csv")


@dataclass
class Submission:
    """One student's work: its files by name, and problems found while reading them."""

    name: str
    path: Path
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    loaded: bool = True  # False: only its name and path, read again when it is graded

    def unloaded(self) -> Submission:
        """This submission without its files' bytes, so that dealing out a batch of any
        size costs next to nothing; ``loaded_again`` reads them when it is graded."""
        return replace(self, files={}, problems=list(self.problems), loaded=False)

    def loaded_again(self, assignment: Assignment) -> Submission:
        """The submission with its files (read again from its path when it was unloaded)."""
        return self if self.loaded else read_submission(self.path, assignment, name=self.name)

    def entry_for(self, files: tuple[str, ...], notebook: str) -> str | None:
        """The file to load for a task: its own file, else the notebook, else none."""
        for name in files:
            if name in self.files:
                return name
        return notebook if notebook in self.files else None

    def graded_from(self, assignment: Assignment) -> dict[str, str | None]:
        """Each task's id and the file it is graded from (``entry_for``), or None."""
        return {t.id: self.entry_for(t.files, assignment.notebook) for t in assignment.tasks}

    def text(self, name: str) -> str | None:
        data = self.files.get(name)
        return None if data is None else data.decode("utf-8", errors="replace")


def _read_regular_file(path: Path, limit: int) -> bytes:
    """Read a regular file without following a symbolic link, at most ``limit`` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"is {info.st_size / 2**20:.1f} MiB, over the {limit >> 20} MiB limit")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def read_submission(path: Path, assignment: Assignment, name: str | None = None) -> Submission:
    """Read a folder or a single notebook as one submission."""
    default_name = path.stem if path.is_file() else path.name
    submission = Submission(name=name or default_name, path=path)
    wanted = set(assignment.submission_files) | {assignment.notebook}
    if path.is_file() or path.is_symlink():
        candidates = {assignment.notebook: path} if path.suffix == ".ipynb" else {}
        if not candidates:
            submission.problems.append(f"{path.name} is not a notebook or a folder")
    else:
        candidates = {n: path / n for n in sorted(wanted) if os.path.lexists(path / n)}
    for file_name, file_path in candidates.items():
        limit = MAX_NOTEBOOK_BYTES if file_name.endswith(".ipynb") else MAX_SOURCE_BYTES
        try:
            if file_path.is_symlink():
                raise ValueError("is a symbolic link; submit the file itself")
            submission.files[file_name] = _read_regular_file(file_path, limit)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            submission.problems.append(f"{file_name} {reason}")
    _check_notebook(submission, assignment.notebook)
    both = notebook_and_files(submission, assignment)
    if both:
        submission.problems.append(both)
    missing = [
        t.files[0]
        for t in assignment.tasks
        if submission.entry_for(t.files, assignment.notebook) is None
    ]
    if missing and not submission.files:
        submission.problems.append(
            f"no homework files found (expected {', '.join(assignment.submission_files)} "
            f"or {assignment.notebook})"
        )
    elif missing:
        submission.problems.append(f"missing: {', '.join(missing)}")
    return submission


def notebook_and_files(submission: Submission, assignment: Assignment) -> str | None:
    """When both the notebook and a task's own file were handed in, which one is graded and
    why (a task's own file comes first), so that it is never decided in silence: the released
    bundle holds the stubs beside the notebook, and a student who worked in the notebook
    would otherwise be graded on untouched stubs."""
    notebook = assignment.notebook
    if notebook not in submission.files:
        return None
    graded = submission.graded_from(assignment)
    own = sorted({name for name in graded.values() if name is not None and name != notebook})
    if not own:
        return None
    from_notebook = [task for task, name in graded.items() if name == notebook]
    files = ", ".join(own)
    verb = "is" if len(own) == 1 else "are"
    if from_notebook:
        tasks = ", ".join(from_notebook)
        what = f"{notebook} is graded only for the tasks without a file of their own ({tasks})"
    else:
        what = f"{notebook} is not graded at all"
    return (f"both {notebook} and {files} were handed in: {files} {verb} graded, since a task's own "
            f"file comes before the notebook, and {what}. To have the notebook graded, hand it in "
            f"without those files.")


def _check_notebook(submission: Submission, notebook: str) -> None:
    data = submission.files.get(notebook)
    if data is None:
        return
    try:
        check_json_cost(data, MAX_NOTEBOOK_BYTES)
        parsed = json.loads(data.decode("utf-8"))
        if not isinstance(parsed, dict) or not isinstance(parsed.get("cells"), list):
            raise ValueError("it has no list of cells")
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError) as exc:
        submission.problems.append(f"{notebook} is not a readable notebook ({exc})"[:300])
        del submission.files[notebook]


def notebook_answers(data: bytes, task_id: str, only_manual_task: bool) -> str | None:
    """A manual task's cell of a notebook: the one whose ``grade_id`` is the task's id, else
    (when the assignment has only this one manual task) the markdown cells after a heading
    that mentions an answer or a question."""
    try:
        check_json_cost(data, MAX_NOTEBOOK_BYTES)
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        return None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    texts = []
    collecting = False
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell_source(cell)
        if _grade_id(cell) == task_id:
            return source
        if only_manual_task and re.match(r"\s*#+.*(answer|question)", source[:HEADING_CHARS], re.IGNORECASE):
            collecting = True
        if collecting:
            texts.append(source)
    return "\n\n".join(texts) or None


def _grade_id(cell: dict) -> object:
    """nbgrader's ``grade_id`` of a cell, or None when its metadata is not shaped that way."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None


def answers_text(submission: Submission, task: Task, assignment: Assignment) -> str | None:
    """The student's work for a task graded by hand, capped, for the teacher to read: its
    file, else its cell of the notebook."""
    for name in task.files:
        text = submission.text(name)
        if text is not None:
            return text[:MAX_ANSWERS_CHARS]
    data = submission.files.get(assignment.notebook)
    only = len(assignment.manual_tasks) == 1
    text = notebook_answers(data, task.id, only) if data is not None else None
    return None if text is None else text[:MAX_ANSWERS_CHARS]


def _holds_work(folder: Path, assignment: Assignment) -> bool:
    return any(os.path.lexists(folder / name) for name in (*assignment.submission_files, assignment.notebook))


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.is_symlink() and p.name not in IGNORED_DIRS
                  and not p.name.startswith("."))


def _expand(path: Path, assignment: Assignment, depth: int) -> list[tuple[str, Path]]:
    """``(name, path)`` of each submission ``path`` is or holds (see ``discover``)."""
    if not path.is_dir() or path.is_symlink():
        return [(path.stem if path.is_file() else path.name, path)]
    name = path.resolve().name
    if _holds_work(path, assignment):
        return [(name, path)]
    nested = path / assignment.name
    if nested.is_dir() and not nested.is_symlink() and _holds_work(nested, assignment):
        return [(name, nested)]
    if depth < MAX_BATCH_DEPTH:
        inner = [item for sub in _subfolders(path) for item in _expand(sub, assignment, depth + 1)
                 if depth == 0 or _holds_work(item[1], assignment)]
        notebooks = [(p.stem, p) for p in sorted(path.glob("*.ipynb")) if p.is_file() and depth == 0]
        if inner or notebooks:
            return inner + notebooks
    return [(name, path)]


def safe_name(name: str) -> str:
    """A name of word characters and ``.@+-``, at most MAX_NAME_CHARS characters and
    MAX_NAME_BYTES bytes in UTF-8 (cut on a character boundary)."""
    cleaned = re.sub(r"[^\w.@+-]+", "_", name, flags=re.UNICODE).strip("._") or "submission"
    return cleaned[:MAX_NAME_CHARS].encode()[:MAX_NAME_BYTES].decode(errors="ignore")


def discover(paths: list[Path], assignment: Assignment, keep_files: bool = True) -> list[Submission]:
    """Expand the command line's paths into submissions with unique, file-system-safe names
    (none of them a name in ``RESERVED_NAMES``: ``grades.csv`` is graded as ``grades.csv-2``).

    A notebook or a folder holding homework files is one submission. A folder holding none
    but a folder named as the assignment that does is one, named after the outer folder:
    nbgrader's ``submitted/<student>/<assignment>/``. A folder whose sub-folders (at any depth
    up to ``MAX_BATCH_DEPTH``) hold submissions is a batch of them; a folder with none of these
    is one (empty) submission. Without ``keep_files`` each is read (its problems found) and
    returned ``unloaded``.
    """
    found: list[tuple[str, Path]] = []
    for path in paths:
        if not os.path.lexists(path):
            raise FileNotFoundError(f"{path} does not exist")
        found += _expand(path, assignment, 0)
    submissions, used = [], {n.casefold() for n in RESERVED_NAMES}
    for raw_name, path in found:
        name = base = safe_name(raw_name)
        counter = 2
        while name.casefold() in used:
            name, counter = f"{base}-{counter}", counter + 1
        used.add(name.casefold())
        submission = read_submission(path, assignment, name=name)
        submissions.append(submission if keep_files else submission.unloaded())
    return submissions

"""Turn an assignment's reference solutions into the bundle students receive, or refuse to.

The bundle is ``README.md`` (the statement, ``statement.py``), the stubs (the reference files
with their solution regions replaced, ``regions.py``), the notebook (``notebook.py``) and
``.autograder/`` (the assignment's description, probes and public checks). It is built in a
staging folder and moved into place only when ``leaks.find_leaks`` finds no line of a solution
region or of a hidden file in it.

Everything here reads the assignment's folder (``assignments/<name>/``) and its solutions
(``solutions/<name>/``), so a second homework needs new content, not new code. The output is
deterministic (fixed cell ids, no timestamps, sorted JSON keys): releasing an unchanged
assignment again rewrites identical bytes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .assignment import BUNDLE_MARKER, CONFIG_NAME, Assignment
from .classroom.workflow import WORKFLOW_PATH, classroom_workflow
from .leaks import CACHE_NAMES, Leak, ReleaseLeakError, find_leaks, secret_lines
from .notebook import assignment_notebook, notebook_text
from .regions import kind_of, solution_text, strip_solution_regions
from .statement import render_statement, statement_context


@dataclass(frozen=True)
class ReleaseReport:
    """What a release wrote, and how much secret text it was checked against."""

    name: str
    out: Path
    files: tuple[str, ...]  # bundle-relative POSIX paths, sorted
    secret_lines: int


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


def release_assignment(assignment: Assignment, out: Path, classroom_engine: str | None = None
                       ) -> ReleaseReport:
    """Write the student bundle of ``assignment`` to ``out``, or raise before publishing.

    The bundle: ``README.md`` (the statement), the stubbed submission files, the notebook, and
    ``.autograder/`` with what ``autograder check`` needs (description, probes, public checks);
    with ``classroom_engine`` (the pip requirement or wheel URL of the engine), also GitHub
    Classroom's workflow.
    It is built in a staging folder next to ``out`` and only moved into place when
    ``find_leaks`` finds nothing, so a leaking release never lands.
    """
    contents = bundle_contents(assignment)
    if classroom_engine is not None:
        contents[WORKFLOW_PATH] = classroom_workflow(assignment, classroom_engine)
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

"""The kit and nbgrader's own ``autograde`` side by side, on the same notebooks in the same run.

Both grade one nbgrader course's submissions into its gradebook: nbgrader runs every notebook
in a Jupyter kernel, the kit (``autograder nbgrader autograde``) runs its checks in the sandbox.
Both are timed as a teacher runs them, as commands, start-up included. Needs nbgrader (the
``[nbgrader]`` extra) beside this interpreter.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from rich.table import Table

from .latency import kit_command, timed


class NbgraderMissing(RuntimeError):
    """nbgrader is not installed next to this interpreter."""


@dataclasses.dataclass
class VersusFigures:
    """Seconds each took for the same ``notebooks``."""

    notebooks: int
    kit_seconds: float
    nbgrader_seconds: float

    @property
    def speedup(self) -> float:
        return self.nbgrader_seconds / self.kit_seconds


def solved(course: Path, name: str, notebook: str) -> nbformat.NotebookNode:
    """The released notebook with every answer cell given the reference's code (the source
    notebook's cell without its solution markers), as a student who got it all right."""
    source = {c.id: c for c in nbformat.read(course / "source" / name / notebook, as_version=4).cells}
    released = nbformat.read(course / "release" / name / notebook, as_version=4)
    for cell in released.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n".join(line for line in source[cell.id].source.split("\n")
                                    if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    return released


def hand_in(course: Path, student: str, name: str, notebook: str, content: nbformat.NotebookNode) -> None:
    """Put ``content`` where nbgrader collects a student's submission, with its timestamp."""
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(content, folder / notebook)
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC", encoding="utf-8")


def _mixed_class(course: Path, name: str, notebook: str, students: int) -> None:
    """``students`` submissions: mostly solved, one in ten left as released, one in ten with a
    cell that does not parse (each still a realistic cost for both graders)."""
    right = solved(course, name, notebook)
    untouched = nbformat.read(course / "release" / name / notebook, as_version=4)
    broken = nbformat.from_dict(right)
    answer = next(c for c in broken.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\ndef broken(:\n"
    for number in range(students):
        content = untouched if number % 10 == 8 else broken if number % 10 == 9 else right
        hand_in(course, f"student{number:03d}", name, notebook, content)


def measure(name: str, notebook: str, students: int = 20, jobs: int | None = None) -> VersusFigures:
    """Release ``name`` through nbgrader, hand in ``students`` notebooks, and time nbgrader's
    autograde and the kit's on two copies of that course."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "nbgrader").is_file():
        raise NbgraderMissing("nbgrader is not installed here: pip install 'autograder[nbgrader]'")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory(prefix="versus-nbgrader-") as scratch:
        course = Path(scratch) / "course"
        timed([*kit_command(), "nbgrader", "release", name, str(course)], env, Path.cwd())
        timed([str(bin_dir / "nbgrader"), "generate_assignment", name], env, course)
        _mixed_class(course, name, notebook, students)
        theirs, ours = Path(scratch) / "nbgrader", Path(scratch) / "kit"
        shutil.copytree(course, theirs)
        shutil.copytree(course, ours)
        nbgrader_seconds = timed([str(bin_dir / "nbgrader"), "autograde", name], env, theirs)
        kit_seconds = timed([*kit_command(), "nbgrader", "autograde", name, str(ours),
                            "--jobs", str(jobs or os.cpu_count() or 1)], env, Path.cwd())
    return VersusFigures(students, kit_seconds, nbgrader_seconds)


def table(figures: VersusFigures, machine: str) -> Table:
    """The figures as the command prints them."""
    rows = Table(title=f"{figures.notebooks} notebooks, nbgrader autograde and the kit, on {machine}")
    for column in ("grader", "total s", "s per notebook"):
        rows.add_column(column, justify="right")
    for who, seconds in (("nbgrader autograde", figures.nbgrader_seconds),
                         ("autograder nbgrader autograde", figures.kit_seconds)):
        rows.add_row(who, f"{seconds:.1f}", f"{seconds / figures.notebooks:.2f}")
    rows.caption = f"the kit is {figures.speedup:.1f}x as fast"
    return rows

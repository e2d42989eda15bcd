"""An nbgrader course folder, read with nbgrader's own ``CourseDirectory`` (so the course's
``nbgrader_config.py`` decides where submissions, autograded notebooks and feedback live, and
which gradebook is used)."""

from __future__ import annotations

import glob
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..assignment import Assignment
from ..submission import safe_name

CONFIG_FILE = "nbgrader_config.py"


@dataclass(frozen=True)
class StudentSubmission:
    """One student's submitted folder of an assignment, and nbgrader's timestamp of it."""

    student: str
    folder: Path
    timestamp: str | None


def course_directory(root: Path) -> CourseDirectory:
    """nbgrader's view of the course at ``root``, with the course's own configuration.

    nbgrader's gradebook runs ``alembic`` from ``PATH`` when it creates or upgrades a
    database, so this environment's scripts folder is put on it."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")]).rstrip(os.pathsep)
    config = Config()
    if (root / CONFIG_FILE).is_file():
        config.merge(PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config())
    config.CourseDirectory.root = str(root.resolve())
    return CourseDirectory(config=config)


def step_folder(coursedir: CourseDirectory, step: str, student: str, assignment: str) -> Path:
    """Where nbgrader keeps ``step`` (source, release, submitted, autograded, feedback)."""
    return Path(coursedir.format_path(step, student, assignment))


def submissions(coursedir: CourseDirectory, assignment: Assignment) -> list[StudentSubmission]:
    """Every ``submitted/<student>/<assignment>/`` folder, with the student's id taken from
    the path the way nbgrader itself matches it."""
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment.name)
    regexp = re.compile(coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>[^/]+)",
                                              assignment.name, escape=True) + "$")
    found = []
    for folder in sorted(Path(p) for p in glob.glob(pattern)):
        match = regexp.match(str(folder))
        if match is None or not folder.is_dir():
            continue
        found.append(StudentSubmission(match.group("student_id"), folder, read_timestamp(folder)))
    return found


def read_timestamp(folder: Path) -> str | None:
    """``timestamp.txt`` of a submitted folder, as nbgrader wrote it, or None."""
    path = folder / "timestamp.txt"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def by_kit_name(found: list[StudentSubmission]) -> dict[str, StudentSubmission]:
    """The kit's name for each submission: the student's id, made file-system safe (and unique
    in the unlikely case that two ids only differ in unsafe characters)."""
    named: dict[str, StudentSubmission] = {}
    for item in found:
        name = base = safe_name(item.student)
        counter = 2
        while name in named:
            name, counter = f"{base}-{counter}", counter + 1
        named[name] = item
    return named

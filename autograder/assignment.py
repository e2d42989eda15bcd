"""An assignment's description, read from its folder, and the course that holds it.

A course is a folder with ``assignments/<name>/`` (one folder per homework: its
``assignment.toml``, statement, probes, public and hidden checks, mistake catalogue) and the
reference solutions beside them in ``solutions/<name>/``. The engine names no assignment: it
reads whichever folder it is given, so a second homework is a new folder.

A released bundle carries the public part of its assignment's folder in ``.autograder/``
(description, probes and public checks, nothing hidden), so a student's ``autograder check``
knows what it is checking without the course.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .sandbox import Limits

COURSE_ENV = "AUTOGRADER_COURSE"
CONFIG_NAME = "assignment.toml"
BUNDLE_MARKER = ".autograder"  # the folder a release writes into every bundle
TASK_KEYS = frozenset({"id", "title", "files", "points", "manual"})
TOP_KEYS = frozenset({"name", "title", "seed", "notebook", "due", "tasks", "limits"})


class AssignmentError(ValueError):
    """The assignment cannot be found or its description is wrong; the message says where."""


@dataclass(frozen=True)
class Task:
    """One graded part of the homework and the files it lives in."""

    id: str
    title: str
    files: tuple[str, ...]
    points: float
    manual: bool = False


@dataclass(frozen=True)
class Assignment:
    """A homework: its tasks, where its checks and solutions are, its sandbox limits."""

    name: str
    title: str
    folder: Path  # assignments/<name>/, or a bundle's .autograder/
    solutions_dir: Path
    seed: int
    notebook: str
    tasks: tuple[Task, ...]
    limits: Limits
    due: datetime | None = None  # after it, ``after_due_date`` checks show all their details

    @property
    def config(self) -> Path:
        return self.folder / CONFIG_NAME

    @property
    def probes(self) -> Path:
        return self.folder / "probes.py"

    @property
    def public_dir(self) -> Path:
        return self.folder / "public"

    @property
    def hidden_dir(self) -> Path:
        return self.folder / "hidden"

    @property
    def mistakes(self) -> Path:
        return self.folder / "mistakes.toml"

    @property
    def statement(self) -> Path:
        return self.folder / "statement.md.j2"

    @property
    def samples_dir(self) -> Path:
        return self.folder / "samples"

    @property
    def course_templates(self) -> Path:
        """The course's own templates (shared statement parts), beside ``assignments/``."""
        return self.folder.parent.parent / "templates"

    @property
    def has_hidden_suite(self) -> bool:
        return self.hidden_dir.is_dir()

    @property
    def automatic_tasks(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if not t.manual)

    @property
    def manual_tasks(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if t.manual)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tasks)

    @property
    def submission_files(self) -> tuple[str, ...]:
        return tuple(f for t in self.tasks for f in t.files)

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"{self.name} has no task {task_id!r}")

    def secret_files(self) -> list[Path]:
        """The files a student must never see: the hidden suite, the mistake catalogue, the
        reference solutions."""
        found = [self.mistakes] if self.mistakes.is_file() else []
        for folder in (self.hidden_dir, self.solutions_dir):
            if folder.is_dir():
                found += [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        return sorted(found)


# -- the course -------------------------------------------------------------------------------


def find_course(start: Path | None = None) -> Path | None:
    """The course folder: ``$AUTOGRADER_COURSE``, else the nearest folder, from ``start``
    (default: here) upwards, that holds an ``assignments/*/assignment.toml``."""
    if os.environ.get(COURSE_ENV):
        return Path(os.environ[COURSE_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / "assignments").glob(f"*/{CONFIG_NAME}")):
            return folder
    return None


def available(course: Path | None) -> list[str]:
    """Names of the course's assignments."""
    if course is None:
        return []
    return sorted(p.parent.name for p in (course / "assignments").glob(f"*/{CONFIG_NAME}"))


def load(name: str, course: Path | None) -> Assignment:
    """The course's assignment ``name``; a clear error names what exists."""
    if course is None:
        raise AssignmentError(f"no course here to find {name!r} in: run this in a folder holding "
                              f"assignments/<name>/{CONFIG_NAME}, or set {COURSE_ENV}")
    folder = course / "assignments" / name
    if not (folder / CONFIG_NAME).is_file():
        known = ", ".join(available(course)) or "none"
        raise AssignmentError(f"{course / 'assignments'} has no assignment {name!r} (known: {known})")
    return load_from(folder)


def bundle_marker(folder: Path) -> Path | None:
    """The ``.autograder/`` of the released bundle ``folder`` is in (itself or an ancestor)."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / BUNDLE_MARKER / CONFIG_NAME).is_file():
            return candidate / BUNDLE_MARKER
    return None


def load_from(folder: Path) -> Assignment:
    """Read the assignment whose description is ``folder/assignment.toml``: an assignment's
    folder in a course (its solutions in ``<course>/solutions/<name>/``), or a bundle's
    ``.autograder/`` (no hidden suite, no solutions)."""
    config_path = Path(folder) / CONFIG_NAME
    if not config_path.is_file():
        raise AssignmentError(f"{folder} has no {CONFIG_NAME}")
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{config_path}: {exc}") from None
    _require_keys(config, config_path)
    folder = config_path.parent.resolve()
    return Assignment(
        name=config["name"],
        title=config["title"],
        folder=folder,
        solutions_dir=folder.parent.parent / "solutions" / config["name"],
        seed=int(config["seed"]),
        notebook=config.get("notebook", f"{config['name']}.ipynb"),
        tasks=tuple(_task(t, config_path) for t in config["tasks"]),
        limits=Limits.from_mapping(config.get("limits", {})),
        due=_due(config.get("due"), config_path),
    )


def _require_keys(config: dict[str, Any], config_path: Path) -> None:
    unknown = set(config) - TOP_KEYS
    if unknown:
        raise AssignmentError(f"{config_path}: unknown key(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(TOP_KEYS))})")
    missing = [k for k in ("name", "title", "seed", "tasks") if k not in config]
    if missing:
        raise AssignmentError(f"{config_path}: missing {', '.join(missing)}")
    if not isinstance(config["tasks"], list) or not config["tasks"]:
        raise AssignmentError(f"{config_path}: needs at least one [[tasks]] table")


def _task(entry: Any, config_path: Path) -> Task:
    if not isinstance(entry, dict) or not {"id", "title", "files", "points"} <= set(entry):
        raise AssignmentError(f"{config_path}: every [[tasks]] needs id, title, files and points")
    unknown = set(entry) - TASK_KEYS
    if unknown:
        raise AssignmentError(f"{config_path}: task {entry['id']!r} has unknown key(s) "
                              f"{', '.join(sorted(unknown))}")
    return Task(
        id=str(entry["id"]),
        title=str(entry["title"]),
        files=tuple(entry["files"]),
        points=float(entry["points"]),
        manual=bool(entry.get("manual", False)),
    )


def _due(value: Any, config_path: Path) -> datetime | None:
    """The due date: a TOML offset date-time (``due = 2026-12-14T23:59:00+03:00``)."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise AssignmentError(f"{config_path}: due must be a date-time with an offset, such as "
                              "2026-12-14T23:59:00+03:00")
    return value

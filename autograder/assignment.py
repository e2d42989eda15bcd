"""An assignment's description, read from ``autograder/suites/<name>/assignment.toml``.

Everything homework-specific is data in that folder (tasks, points, limits, probes, hidden
and public checks, the mistake catalogue), so a second homework is a new folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .sandbox import Limits

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
SUITES_DIR = PACKAGE_DIR / "suites"


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
    suite_dir: Path
    solutions_dir: Path
    release_dir: Path
    seed: int
    notebook: str
    tasks: tuple[Task, ...]
    limits: Limits
    due: datetime | None = None  # after it, ``after_due_date`` checks show all their details

    @property
    def probes(self) -> Path:
        return self.suite_dir / "probes.py"

    @property
    def public_dir(self) -> Path:
        return self.suite_dir / "public"

    @property
    def automatic_tasks(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if not t.manual)

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

    def hidden_suite_files(self) -> list[Path]:
        """The files a student must never see: hidden checks, mistake catalogue, variants."""
        return sorted(
            p
            for p in self.suite_dir.iterdir()
            if p.is_file() and p.name not in ("probes.py", "assignment.toml")
        )


def available() -> list[str]:
    """Names of the assignments this kit has suites for."""
    return sorted(p.parent.name for p in SUITES_DIR.glob("*/assignment.toml"))


def load(name: str) -> Assignment:
    """Read an assignment's description; a clear error names what is missing."""
    if not (SUITES_DIR / name / "assignment.toml").is_file():
        known = ", ".join(available()) or "none"
        raise FileNotFoundError(f"no assignment {name!r} (known: {known})")
    return load_from(SUITES_DIR / name)


def load_from(suite_dir: Path) -> Assignment:
    """Read the assignment whose suite is the folder ``suite_dir`` (its ``assignment.toml``
    beside the checks), wherever it is: a suite can be checked (``autograder lint``) before
    it is put under ``autograder/suites/``. ``solutions`` and ``release`` stay relative to
    the project root."""
    config_path = Path(suite_dir) / "assignment.toml"
    if not config_path.is_file():
        raise FileNotFoundError(f"{suite_dir} has no assignment.toml")
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    tasks = tuple(
        Task(
            id=t["id"],
            title=t["title"],
            files=tuple(t["files"]),
            points=float(t["points"]),
            manual=bool(t.get("manual", False)),
        )
        for t in config["tasks"]
    )
    return Assignment(
        name=config["name"],
        title=config["title"],
        suite_dir=config_path.parent,
        solutions_dir=PROJECT_ROOT / config["solutions"],
        release_dir=PROJECT_ROOT / config["release"],
        seed=int(config["seed"]),
        notebook=config.get("notebook", f"{config_path.parent.name}.ipynb"),
        tasks=tasks,
        limits=Limits.from_mapping(config.get("limits", {})),
        due=_due(config.get("due"), config_path),
    )


def _due(value: Any, config_path: Path) -> datetime | None:
    """The due date: a TOML offset date-time (``due = 2026-12-14T23:59:00+03:00``)."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{config_path}: due must be a date-time with an offset, such as "
                         "2026-12-14T23:59:00+03:00")  # fmt: skip
    return value

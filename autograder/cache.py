"""A cache on disk for what the trusted side computes from the course's own files alone (the
reference's probe results, the suite's lint findings), so that grading one submission in a
fresh process does not pay for them again.

An entry is found by a key made from the content of every file it could depend on (the
assignment's folder but its samples, its reference solutions, the course's templates, the
kit's own code) and the versions of Python, torch and numpy: change any of them and the old
entries are simply never read again. Entries are JSON written by the grader itself (nothing a
student sent is ever stored here) and replaced atomically. The cache is only an optimisation:
an entry that cannot be read or written is computed as if it were missing.

Where: ``$AUTOGRADER_CACHE``, else ``$XDG_CACHE_HOME/autograder``, else
``~/.cache/autograder``. ``AUTOGRADER_CACHE=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from .assignment import Assignment

ENGINE_DIR = Path(__file__).resolve().parent
SKIPPED_PARTS = {"samples", "__pycache__", ".pytest_cache"}
_SUITE_KEYS: dict[Path, str] = {}


def cache_root() -> Path | None:
    """The cache's folder, or None when it is turned off."""
    configured = os.environ.get("AUTOGRADER_CACHE", "")
    if configured.lower() in {"off", "0", "no", "false"}:
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autograder"


def _files_digest(digest: Any, folder: Path) -> None:
    """Add every file under ``folder`` (path and content) to ``digest``, in a fixed order."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if SKIPPED_PARTS & set(relative.parts) or not path.is_file() or path.suffix == ".pyc":
            continue
        digest.update(str(relative).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def suite_key(assignment: Assignment) -> str:
    """What every cached entry of ``assignment`` depends on, as one hex digest (computed once
    per process: grading never changes the course's files)."""
    folder = assignment.folder.resolve()
    if folder not in _SUITE_KEYS:
        hasher = hashlib.sha256()
        versions = (platform.python_version(), *map(_version, ("torch", "numpy")))
        hasher.update(repr(versions).encode())
        for part in (folder, assignment.solutions_dir, assignment.course_templates, ENGINE_DIR):
            hasher.update(f"\0{part.name}\0".encode())
            _files_digest(hasher, part)
        _SUITE_KEYS[folder] = hasher.hexdigest()
    return _SUITE_KEYS[folder]


def _version(distribution: str) -> str:
    """An installed distribution's version, read without importing it (torch takes a second)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


class DiskCache:
    """JSON entries of one kind (``kind``) for one version of one assignment's files."""

    def __init__(self, kind: str, assignment: Assignment) -> None:
        root = cache_root()
        self.folder = None if root is None else root / kind / suite_key(assignment)[:32]

    @staticmethod
    def _file_name(name: str) -> str:
        return hashlib.sha256(name.encode()).hexdigest()[:40] + ".json"

    def get(self, name: str) -> Any | None:
        """The entry stored under ``name``, or None when there is none (or it is unreadable)."""
        if self.folder is None:
            return None
        try:
            return json.loads((self.folder / self._file_name(name)).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, name: str, value: Any) -> None:
        """Store ``value`` (JSON data) under ``name``; a cache that cannot be written is skipped."""
        if self.folder is None:
            return
        try:
            text = json.dumps(value)
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except (OSError, TypeError, ValueError):
            return
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, self.folder / self._file_name(name))
        except OSError:
            Path(temporary).unlink(missing_ok=True)

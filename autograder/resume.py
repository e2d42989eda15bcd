"""Which results a re-run of a batch may keep: ``grade --resume`` skips a submission whose
result.json was written by this kit, for the same files, the same suite and the same options,
so a batch stopped halfway costs only what it had left.

A fingerprint is a SHA-256 of what a grade depends on: the submission's files (names and bytes),
and the assignment's folder and solutions (every file, samples aside), the kit's version and the
grading options. Anything else changed, and the submission is graded again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from . import __version__
from .assignment import Assignment
from .batch import GradingOptions
from .output import submission_folder
from .submission import Submission

SKIPPED_PARTS = {"__pycache__", "samples", ".pytest_cache"}


def suite_fingerprint(assignment: Assignment, options: GradingOptions, due_passed: bool) -> str:
    """What the checks are: every file of the assignment's folder and solutions, the kit, the
    options that change a result."""
    settings = [__version__, list(options.suites), options.reveal, due_passed]
    digest = hashlib.sha256(json.dumps(settings).encode())
    for folder in (assignment.folder, assignment.solutions_dir):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder)
            if SKIPPED_PARTS.intersection(relative.parts):
                continue
            digest.update(str(relative).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def submission_fingerprint(submission: Submission) -> str:
    """What was handed in: each file's name and bytes, and what reading it found wrong."""
    digest = hashlib.sha256(json.dumps(sorted(submission.problems)).encode())
    for name in sorted(submission.files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(submission.files[name]).digest())
    return digest.hexdigest()


def kept_result(out: Path, name: str, fingerprint: dict[str, str]) -> dict[str, Any] | None:
    """The result already in ``out`` for ``name``, if it was graded from the same fingerprint
    and the grader did not fail on it; else None (grade it again)."""
    try:
        result = json.loads((submission_folder(out, name) / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = isinstance(result, dict) and result.get("fingerprint") == fingerprint
    return result if same and not result.get("grader_failure") else None

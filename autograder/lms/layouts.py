"""Who handed in what, from the names an LMS gives the files of its "download all submissions"
zip:

- Moodle: a folder per student and plugin, ``<Full name>_<participant id>_assignsubmission_file_``
  (``..._onlinetext_`` for text typed online), the student's files inside, as uploaded.
- Canvas: flat files ``<login>[_LATE]_<user id>_<submission id>_<original name>``, where a
  re-uploaded file gets a ``-1``, ``-2`` ... before its extension.

Every file is either placed in a student's submission or listed as not understood, never
dropped without a word.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..submission import safe_name
from .archive import extract

MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
CANVAS_FILE = re.compile(r"^(?P<login>.+?)(?P<late>_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$",
                         re.IGNORECASE)
RENAMED_UPLOAD = re.compile(r"^(?P<stem>.+)-\d+(?P<suffix>\.[^.]+)$")


@dataclass
class LmsSubmission:
    """One student's files, and who they are in the LMS."""

    key: str  # the submission's name in the batch
    lms: str
    student_id: str
    name: str | None = None  # Moodle's full name
    login: str | None = None  # Canvas's login
    late: bool = False
    files: dict[str, Path] = field(default_factory=dict)  # name in the submission -> extracted file

    def identity(self) -> dict[str, object]:
        """What result.json keeps of who this is (for the gradebook export)."""
        found = {"lms": self.lms, "id": self.student_id, "name": self.name, "login": self.login,
                 "late": self.late}
        return {k: v for k, v in found.items() if v is not None}


def group(root: Path, wanted: set[str]) -> tuple[list[LmsSubmission], list[str]]:
    """The submissions in an unpacked download, and the files that fit no student. ``wanted``
    are the file names the assignment expects (Canvas renames a re-uploaded one)."""
    entries = sorted(root.iterdir())
    if any(p.is_dir() and MOODLE_FOLDER.match(p.name) for p in entries):
        return _moodle(entries)
    return _canvas(entries, wanted)


def _moodle(entries: list[Path]) -> tuple[list[LmsSubmission], list[str]]:
    by_id: dict[str, LmsSubmission] = {}
    unknown = []
    for entry in entries:
        match = MOODLE_FOLDER.match(entry.name) if entry.is_dir() else None
        if match is None:
            unknown.append(entry.name)
            continue
        student = by_id.setdefault(match["id"], LmsSubmission(
            key=f"{match['name']}_{match['id']}", lms="moodle", student_id=match["id"], name=match["name"]))
        for path in sorted(p for p in entry.rglob("*") if p.is_file()):
            student.files.setdefault(path.name, path)
    return list(by_id.values()), unknown


def _canvas(entries: list[Path], wanted: set[str]) -> tuple[list[LmsSubmission], list[str]]:
    by_user: dict[str, LmsSubmission] = {}
    unknown = []
    for entry in entries:
        match = CANVAS_FILE.match(entry.name) if entry.is_file() else None
        if match is None:
            unknown.append(entry.name)
            continue
        student = by_user.setdefault(match["user"], LmsSubmission(
            key=match["login"], lms="canvas", student_id=match["user"], login=match["login"]))
        student.late = student.late or bool(match["late"])
        original = match["file"]
        renamed = RENAMED_UPLOAD.match(original)
        if original not in wanted and renamed and f"{renamed['stem']}{renamed['suffix']}" in wanted:
            original = f"{renamed['stem']}{renamed['suffix']}"  # Canvas's name for a re-upload
        student.files.setdefault(original, entry)
    return list(by_user.values()), unknown


def lay_out(submissions: list[LmsSubmission], target: Path) -> dict[str, LmsSubmission]:
    """Copy each student's files into ``target/<key>/`` (a batch ``autograder grade`` reads);
    the submissions by the folder name they got."""
    placed: dict[str, LmsSubmission] = {}
    for submission in submissions:
        folder_name = base = safe_name(submission.key or submission.student_id)
        counter = 2
        while folder_name.casefold() in {k.casefold() for k in placed}:
            folder_name, counter = f"{base}-{counter}", counter + 1
        folder = target / folder_name
        folder.mkdir(parents=True)
        for name, path in submission.files.items():
            shutil.copyfile(path, folder / name)
        placed[folder_name] = submission
    return placed


def unpack_download(archive: Path, target: Path, wanted: set[str]
                    ) -> tuple[dict[str, LmsSubmission], list[str]]:
    """Unpack an LMS download into ``target/files`` and lay its submissions out in
    ``target/submissions``; the submissions by folder name, and what fit no student."""
    extract(archive, target / "files")
    found, unknown = group(target / "files", wanted)
    return lay_out(found, target / "submissions"), unknown

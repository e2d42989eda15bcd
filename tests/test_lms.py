"""An LMS's "download all submissions" zip in, its gradebook import CSV out: Moodle's and
Canvas's real naming (accents and odd names included), late markers, hostile archives, and
rosters that do not match the submissions one to one."""

from __future__ import annotations

import csv
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from course import COURSE, HW1

from autograder.assignment import COURSE_ENV
from autograder.cli import main
from autograder.lms.archive import UnsafeArchive, extract
from autograder.lms.layouts import group

REFERENCE = HW1.samples_dir / "reference"
WRONG = HW1.samples_dir / "adam_no_bias_correction"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={COURSE_ENV: str(COURSE)}, catch_exceptions=False)


def canvas_zip(path: Path) -> Path:
    """A Canvas download: flat files, login_[LATE_]userid_submissionid_name, a re-upload renamed."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in HW1.submission_files:
            zipped.write(REFERENCE / name, f"smithjohn_123456_987654_{name}")
        for name in HW1.submission_files:
            renamed = name.replace(".py", "-1.py") if name == "roots.py" else name
            zipped.write(WRONG / name, f"müllerzoë_LATE_222333_987700_{renamed}")
        zipped.writestr("notes from the export.txt", "not a submission")
    return path


def moodle_zip(path: Path) -> Path:
    """A Moodle download: a folder per student and plugin, full names with accents and commas."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in HW1.submission_files:
            zipped.write(REFERENCE / name, f"Zoë Müller_4242_assignsubmission_file_/{name}")
            zipped.write(WRONG / name, f"O'Brien, Seán_77_assignsubmission_file_/{name}")
        zipped.writestr("Zoë Müller_4242_assignsubmission_onlinetext_/onlinetext.html", "<p>hi</p>")
    return path


def test_canvas_names_are_grouped_by_student_with_late_markers(tmp_path: Path) -> None:
    extract(canvas_zip(tmp_path / "canvas.zip"), tmp_path / "files")
    found, unknown = group(tmp_path / "files", {*HW1.submission_files, HW1.notebook})
    by_login = {s.login: s for s in found}
    assert sorted(by_login) == ["müllerzoë", "smithjohn"]
    assert sorted(by_login["müllerzoë"].files) == sorted(HW1.submission_files)  # roots-1.py is roots.py
    assert by_login["müllerzoë"].late and not by_login["smithjohn"].late
    assert by_login["smithjohn"].identity() == {"lms": "canvas", "id": "123456", "login": "smithjohn",
                                                "late": False}
    assert unknown == ["notes from the export.txt"]


def test_moodle_folders_are_grouped_by_participant(tmp_path: Path) -> None:
    extract(moodle_zip(tmp_path / "moodle.zip"), tmp_path / "files")
    found, unknown = group(tmp_path / "files", set())
    by_id = {s.student_id: s for s in found}
    assert sorted(by_id) == ["4242", "77"] and unknown == []
    assert by_id["4242"].name == "Zoë Müller" and "onlinetext.html" in by_id["4242"].files
    assert by_id["77"].name == "O'Brien, Seán"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lms")
    result = invoke("grade", str(canvas_zip(root / "canvas.zip")), "--out", str(root / "out"), "-j", "2")
    assert result.exit_code == 0, result.output
    assert "'notes from the export.txt' is not a Moodle or Canvas submission file" in result.output
    assert "2 canvas submission(s), 1 marked late" in result.output
    return root / "out"


def test_a_canvas_download_is_graded_per_student(graded: Path) -> None:
    smith = json.loads((graded / "smithjohn" / "result.json").read_text())
    zoe = json.loads((graded / "müllerzoë" / "result.json").read_text())
    assert smith["score"] == 90 and zoe["score"] < 90
    assert zoe["identity"] == {"lms": "canvas", "id": "222333", "login": "müllerzoë", "late": True}


def test_canvas_and_moodle_import_csvs_list_what_does_not_match(graded: Path, tmp_path: Path) -> None:
    roster = tmp_path / "canvas_roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,hw1 (55)\n"
                      "    Points Possible,,,,,100\n"
                      "\"Smith, John\",123456,S1,smithjohn,A,\n"
                      "\"Doe, Jane\",999,S9,doejane,A,\n", encoding="utf-8")
    result = invoke("export", "canvas", str(graded), "--roster", str(roster), "--column", "hw1 (55)")
    assert result.exit_code == 0, result.output
    assert "not in the roster: müllerzoë (no roster row)" in result.output
    assert "in the roster, no graded submission: Doe, Jane" in result.output
    rows = list(csv.reader(io.StringIO((graded / "canvas_import.csv").read_text())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hw1 (55)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "100"
    assert rows[2] == ["Smith, John", "123456", "S1", "smithjohn", "A", "90"]
    assert rows[3] == ["Doe, Jane", "999", "S9", "doejane", "A", ""]
    moodle = tmp_path / "moodle_roster.csv"
    moodle.write_text("First name,Surname,ID number,Institution,Department,Email address\n"
                      "John,Smith,,Uni,CS,smithjohn\n", encoding="utf-8-sig")
    result = invoke("export", "moodle", str(graded), "--roster", str(moodle), "--to", str(tmp_path / "m.csv"))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / "m.csv").read_text())))
    assert rows[0] == ["First name", "Surname", "ID number", "Email address", "Assignment: hw1",
                       "Feedback: hw1"]
    assert rows[1][:5] == ["John", "Smith", "", "smithjohn", "90"]


def _zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for info, data in entries:
            zipped.writestr(info, data)
    return path


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(("entries", "reason"), [
    ([("../../escaped.py", b"x")], "outside the folder"),
    ([("/etc/cron.d/x", b"x")], "outside the folder"),
    ([(_link("smith_1_2_deep_net.py"), b"/etc/passwd")], "symbolic link"),
    ([("smith_1_2_deep_net.py", b"\0" * (300 << 20))], "zip bomb"),
])
def test_hostile_archives_are_refused_with_the_reason(tmp_path: Path, entries, reason: str) -> None:
    archive = _zip_with(tmp_path / "bad.zip", entries)
    with pytest.raises(UnsafeArchive, match=reason):
        extract(archive, tmp_path / "files")
    assert not (tmp_path.parent / "escaped.py").exists()
    result = invoke("grade", str(archive), "--out", str(tmp_path / "out"), "-a", "hw1")
    assert result.exit_code == 1 and reason in result.output and "Traceback" not in result.output

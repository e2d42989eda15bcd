"""grade --resume: a batch graded again keeps the results whose submission, suite and options
are unchanged, and grades the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from course import COURSE, HW1_SAMPLES

from autograder.assignment import COURSE_ENV
from autograder.cli import main


def grade(*args: str) -> str:
    result = CliRunner().invoke(main, ["grade", *args], env={COURSE_ENV: str(COURSE)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_resume_grades_only_what_changed_or_is_missing(tmp_path: Path) -> None:
    batch, out = tmp_path / "batch", tmp_path / "out"
    for name in ("reference", "seed", "syntax_error"):
        shutil.copytree(HW1_SAMPLES / name, batch / name)
    grade(str(batch), "--out", str(out), "-a", "hw1")
    first = {p.parent.name: p.read_bytes() for p in out.glob("*/result.json")}
    assert all(json.loads(data)["fingerprint"]["submission"] for data in first.values())

    said = grade(str(batch), "--out", str(out), "-a", "hw1", "--resume")
    assert "resuming: 3 result(s) kept, 0 to grade" in said
    assert {p.parent.name: p.read_bytes() for p in out.glob("*/result.json")} == first

    (out / "seed" / "result.json").unlink()  # a batch stopped before seed was written
    roots = batch / "syntax_error" / "roots.py"
    roots.write_text(roots.read_text() + "\n# changed\n")
    said = grade(str(batch), "--out", str(out), "-a", "hw1", "--resume")
    assert "resuming: 1 result(s) kept, 2 to grade" in said
    assert (out / "reference" / "result.json").read_bytes() == first["reference"]
    again = json.loads((out / "seed" / "result.json").read_text())
    assert again["score"] == json.loads(first["seed"])["score"]
    assert "seed" in (out / "grades.csv").read_text()  # the batch's files list kept and new results

    said = grade(str(batch), "--out", str(out), "-a", "hw1", "--resume", "--reveal")
    assert "resuming: 0 result(s) kept, 3 to grade" in said  # other options, other grades

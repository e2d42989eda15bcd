"""Gradescope export: the zip's contents and scripts, and ``run_autograder`` run inside a
simulated ``/autograder`` (bubblewrap binds a temporary folder there) on correct, wrong,
hanging and hostile submissions; every ``results.json`` is checked against the schema
written from Gradescope's specification."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from course import COURSE

from autograder import assignment
from autograder.gradescope import run
from autograder.gradescope.export import export_gradescope, gradescope_command, time_budget_warning
from autograder.gradescope.results import gradescope_results

SCHEMA = json.loads((COURSE / "autograder" / "schemas" / "gradescope_results.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
HW1 = assignment.load("hw1", COURSE)
HW2 = assignment.load("hw2", COURSE)
VENV_BIN = Path(sys.executable).parent
BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason="bubblewrap is not installed")


def valid(results: dict[str, Any]) -> dict[str, Any]:
    errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(results)]
    assert errors == [], errors
    return results


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("zips")
    wheel = None
    made = {}
    for spec in (HW1, HW2):
        made[spec.name] = export_gradescope(spec, out, wheel)
        with zipfile.ZipFile(made[spec.name]) as archive:
            name = next(n for n in archive.namelist() if n.startswith("wheels/"))
            wheel = out / Path(name).name
            wheel.write_bytes(archive.read(name))  # built once, shipped in both
    return made


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert not VALIDATOR.is_valid({"tests": [{"status": "error", "score": 1}]})
    assert not VALIDATOR.is_valid({"score": 1, "visibility": "students"})


def test_the_zip_carries_scripts_engine_assignment_and_solutions_but_no_samples(
        zips: dict[str, Path]) -> None:
    with zipfile.ZipFile(zips["hw1"]) as archive:
        names = archive.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert [n for n in names if re.fullmatch(r"wheels/autograder-[^/]+-py3-none-any\.whl", n)]
    prefix = "course/assignments/hw1/"
    for relative in ("assignment.toml", "probes.py", "mistakes.toml", "statement.md.j2",
                     "public/test_public.py", "hidden/test_optimizer.py"):
        assert prefix + relative in names
    for secret in HW1.secret_files():
        if secret.is_relative_to(HW1.solutions_dir):
            assert f"course/solutions/hw1/{secret.relative_to(HW1.solutions_dir)}" in names
    assert not [n for n in names if "/samples/" in n or "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_in_the_zip_is_the_engine_and_no_course(zips: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(zips["hw1"]) as archive:
        wheel = next(n for n in archive.namelist() if n.startswith("wheels/"))
        (tmp_path / "engine.whl").write_bytes(archive.read(wheel))
    with zipfile.ZipFile(tmp_path / "engine.whl") as engine:
        inside = engine.namelist()
    assert "autograder/gradescope/run.py" in inside
    assert "autograder/schemas/gradescope_results.schema.json" in inside
    assert not [n for n in inside if n.startswith(("assignments/", "solutions/"))]


def test_setup_installs_cpu_torch_then_the_shipped_wheel(zips: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(zips["hw1"]) as archive:
        for script in ("setup.sh", "run_autograder"):
            (tmp_path / script).write_bytes(archive.read(script))
            assert subprocess.run(["bash", "-n", str(tmp_path / script)]).returncode == 0
    lines = (tmp_path / "setup.sh").read_text().splitlines()
    torch = next(i for i, line in enumerate(lines) if re.search(
        r"pip install torch==2\.13\.0 --index-url https://download\.pytorch\.org/whl/cpu$", line))
    wheel = next(i for i, line in enumerate(lines) if "pip install /autograder/source/wheels/" in line)
    assert torch < wheel
    venv = re.search(r"-m venv (\S+)", "\n".join(lines)).group(1)
    assert not venv.startswith("/autograder")  # the sandbox mounts the environment, never the source
    assert "--assignment hw1" in (tmp_path / "run_autograder").read_text()


def test_a_time_budget_over_gradescopes_timeout_is_named() -> None:
    assert time_budget_warning(HW1) is None
    slow = assignment.Assignment(**{**HW1.__dict__, "limits": HW1.limits.__class__(submission_seconds=900)})
    assert "timeout" in time_budget_warning(slow)


def test_the_command_writes_the_zip(zips: dict[str, Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv(assignment.COURSE_ENV, str(COURSE))
    wheel = tmp_path / "autograder-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(zips["hw2"]) as archive:
        wheel.write_bytes(archive.read(next(n for n in archive.namelist() if n.startswith("wheels/"))))
    done = CliRunner().invoke(gradescope_command, ["hw2", "--out", str(tmp_path / "out"),
                                                   "--wheel", str(wheel)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "out" / "hw2-gradescope.zip").is_file()
    unknown = CliRunner().invoke(gradescope_command, ["nope", "--out", str(tmp_path / "out")])
    assert unknown.exit_code == 2 and "no assignment 'nope'" in unknown.output


def test_a_grader_that_cannot_start_still_writes_results(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(run.ROOT_ENV, str(tmp_path))  # no source/ at all
    assert run.main([]) == 0
    results = valid(json.loads((tmp_path / "results" / "results.json").read_text()))
    assert results["score"] == 0 and results["tests"] == []
    assert "failed before it could grade" in results["output"]
    assert "holds 0 assignments" in results["extra_data"]["grader_failure"]


def test_a_grader_failure_still_shows_every_automatic_task_at_zero() -> None:
    from autograder.results import failure_result, result_skeleton

    failed = failure_result(result_skeleton(HW1, "submission"), "building its result: KeyError: 'x'")
    results = valid(gradescope_results(failed, 1.5))
    assert results["score"] == 0 and results["execution_time"] == 1.5
    assert [t["max_score"] for t in results["tests"]] == [t.points for t in HW1.automatic_tasks]
    assert all(t["status"] == "failed" for t in results["tests"])
    assert "the grader failed on this submission" in results["output"]
    assert "Graded by hand" in results["output"]


def test_untrusted_text_cannot_break_out_of_its_markdown() -> None:
    from result_factory import check, make_result

    forged = "```\n# All checks passed\n<img src=x onerror=alert(1)>"
    result = make_result(checks=[check("optimizer.adam", "failed", message=forged, actual=forged)])
    result["tasks"][1]["output"] = {"stdout": forged, "stderr": "", "truncated": False}
    results = valid(gradescope_results(result, 2.0))
    (test,) = [t for t in results["tests"] if t.get("extra_data", {}).get("check") == "optimizer.adam"]
    fenced = f"````text\n{forged}\n````"  # a fence longer than any backtick run inside
    assert test["output"].count(fenced) == 2 and results["output"].count(fenced) == 1
    for text in (test["output"], results["output"]):
        assert text.count("# All checks passed") == text.count(fenced)


def test_the_work_is_found_in_an_uploaded_folder_beside_macos_debris(tmp_path: Path) -> None:
    work = tmp_path / "submission" / "my homework"
    shutil.copytree(HW2.samples_dir / "reference", work)
    (tmp_path / "submission" / "__MACOSX" / "my homework").mkdir(parents=True)
    (tmp_path / "submission" / "__MACOSX" / "my homework" / "._backprop.py").write_bytes(b"\0\5")
    found = run.find_submission(tmp_path / "submission", HW2)
    assert set(found.files) == {"backprop.py"} and found.problems == []
    empty = run.find_submission(tmp_path / "nothing", HW2)
    assert empty.files == {} and empty.problems


# -- run_autograder in a simulated /autograder --------------------------------------------------

METADATA = {"id": 1, "created_at": "2026-11-29T10:00:00+00:00", "users": [{"email": "student@example.edu",
            "id": 7, "name": "A Student"}], "assignment": {"due_date": "2026-12-14T23:59:00+03:00",
            "late_due_date": None, "total_points": "100.0"}, "previous_submissions": []}


def host_root() -> list[str]:
    """bwrap arguments for a root that shows the host's top-level folders read-only and has
    room for /autograder (the host's own / is read-only and has no /autograder)."""
    args: list[str] = []
    for entry in sorted(Path("/").iterdir()):
        if entry.name in ("proc", "dev", "tmp", "autograder"):
            continue
        if entry.is_symlink():
            args += ["--symlink", os.readlink(entry), str(entry)]
        elif entry.is_dir():
            args += ["--ro-bind", str(entry), str(entry)]
    return args


def kit_under_tmp() -> list[str]:
    """bwrap arguments that bind this venv and checkout back, read-only, when they live under
    /tmp (a fresh clone there): the simulated container's own /tmp is empty, and a real image
    has the kit installed in /opt."""
    kept = {os.path.realpath(sys.prefix), str(COURSE)}
    return [arg for path in sorted(kept) if path.startswith("/tmp/") for arg in ("--ro-bind", path, path)]


def simulate(zip_path: Path, submission: Path | dict[str, str], tmp_path: Path,
             limits: dict[str, float] | None = None, command: list[str] | None = None) -> dict[str, Any]:
    """Lay out /autograder as Gradescope does, run ``run_autograder`` (or ``command``) with it
    bound at /autograder, and return the validated results.json."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    if limits:
        config = next((root / "source" / "course" / "assignments").glob("*/assignment.toml"))
        text = config.read_text()
        for key, value in limits.items():
            text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        config.write_text(text)
    if isinstance(submission, Path):
        shutil.copytree(submission, root / "submission")
    else:
        (root / "submission").mkdir()
        for name, text in submission.items():
            (root / "submission" / name).write_text(text)
    (root / "submission_metadata.json").write_text(json.dumps(METADATA))
    (root / "results").mkdir()
    started = time.monotonic()
    done = subprocess.run(
        [BWRAP, *host_root(), "--dev", "/dev", "--bind", "/proc", "/proc",
         "--perms", "1777", "--tmpfs", "/tmp", *kit_under_tmp(), "--bind", str(root), "/autograder",
         "--die-with-parent", "--chdir", "/autograder",
         "--setenv", "PATH", f"{VENV_BIN}:/usr/bin:/bin", "--unsetenv", run.ROOT_ENV,
         *(command or ["/autograder/run_autograder"])],
        capture_output=True, text=True, timeout=300,
    )
    results = json.loads((root / "results" / "results.json").read_text())
    results["_seconds"] = time.monotonic() - started
    results["_log"] = done.stdout + done.stderr
    valid({k: v for k, v in results.items() if not k.startswith("_")})
    return results


def by_check(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["extra_data"]["check"]: t for t in results["tests"] if "extra_data" in t}


@needs_bwrap
def test_correct_hw1_scores_every_automatic_point_and_leaves_manual_work_to_gradescope(
        zips: dict[str, Path], tmp_path: Path) -> None:
    results = simulate(zips["hw1"], HW1.samples_dir / "reference", tmp_path)
    assert results["score"] == sum(t.points for t in HW1.automatic_tasks), results["_log"][-3000:]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in results["tests"])
    assert sum(t["max_score"] for t in results["tests"]) == results["score"]
    numbers = [tuple(map(int, t["number"].split("."))) for t in results["tests"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert results["extra_data"]["sandbox"] in ("bwrap", "unshare", "rlimits")
    assert "Graded by hand" in results["output"]
    assert HW1.manual_tasks[0].title.split(" (")[0] in results["output"]
    kit = {t["extra_data"]["kit_visibility"]: t["visibility"] for t in results["tests"]}
    assert kit == {"visible": "visible", "hidden": "visible", "after_due_date": "after_due_date"}
    assert 0 < results["execution_time"] < 300


@needs_bwrap
def test_wrong_hw1_names_the_mistake_and_withholds_hidden_details(zips: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    results = simulate(zips["hw1"], HW1.samples_dir / "adam_no_bias_correction", tmp_path)
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and results["score"] < sum(t.points for t in HW1.automatic_tasks)
    assert any("Recognised mistake: Adam without bias correction" in t["output"] for t in failed)
    public = by_check(results)["optimizer.public_adam_first_step"]
    assert public["status"] == "failed" and "**Expected:**" in public["output"]
    assert "**Your code returned:**" in public["output"]
    for test in failed:
        if test["extra_data"]["kit_visibility"] != "visible" and test["extra_data"]["kit_status"] == "failed":
            assert "**Expected:**" not in test["output"] and "**Called:**" not in test["output"]
            assert "does not show" in test["output"]


@needs_bwrap
@pytest.mark.parametrize("sample, full", [("reference", True), ("grad_w_transposed", False)])
def test_hw2_samples(zips: dict[str, Path], tmp_path: Path, sample: str, full: bool) -> None:
    results = simulate(zips["hw2"], HW2.samples_dir / sample, tmp_path)
    assert (results["score"] == HW2.max_score) is full, results["_log"][-3000:]
    assert "Graded by hand" not in results["output"]


@needs_bwrap
def test_a_hanging_submission_still_gets_results_quickly(zips: dict[str, Path], tmp_path: Path) -> None:
    reference = HW2.samples_dir / "reference" / "backprop.py"
    hanging = reference.read_text() + "\nwhile True:\n    pass\n"
    results = simulate(zips["hw2"], {"backprop.py": hanging}, tmp_path,
                       limits={"load_seconds": 3.0, "call_seconds": 3.0, "submission_seconds": 10.0})
    assert results["score"] == 0 and results["tests"]
    assert all(t["status"] == "failed" for t in results["tests"])
    assert results["_seconds"] < 60, results["_log"][-3000:]


HOSTILE = """
import json, os
SECRETS = ["/autograder/source/course/assignments/hw1/hidden/test_roots.py",
           "/autograder/source/course/solutions/hw1/roots.py", "/autograder/submission_metadata.json",
           "/autograder/source/course/assignments/hw1/mistakes.toml"]
for path in SECRETS:
    try:
        print("LEAKED", path, open(path).read())
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
try:
    with open("/autograder/results/results.json", "w") as handle:
        json.dump({"score": 1000.0, "tests": []}, handle)
    print("FORGED results.json")
except OSError as exc:
    print("blocked results.json", type(exc).__name__)
"""


@needs_bwrap
@pytest.mark.parametrize("layer", [None, "rlimits"])
def test_a_hostile_submission_reads_no_secret_and_forges_no_results(
        zips: dict[str, Path], tmp_path: Path, layer: str | None) -> None:
    reference = HW1.samples_dir / "reference"
    files = {p.name: p.read_text() for p in reference.iterdir() if p.suffix in (".py", ".md")}
    files["roots.py"] += HOSTILE
    command = None if layer is None else [
        str(VENV_BIN / "python"), "-m", "autograder.gradescope.run", "--assignment", "hw1", "--layer", layer]
    results = simulate(zips["hw1"], files, tmp_path, command=command)
    text = json.dumps(results["output"]) + json.dumps(results["tests"])
    assert results["score"] == sum(t.points for t in HW1.automatic_tasks)  # our results, not the forged ones
    assert "blocked" in results["output"], results["_log"][-3000:]
    assert "LEAKED" not in text and "FORGED" not in text and "student@example.edu" not in text
    hidden_line = next(line for line in (HW1.hidden_dir / "test_roots.py").read_text().splitlines()
                       if line.startswith("def test_"))
    assert hidden_line not in text
    if layer is not None:  # the layer a container without user namespaces falls back to
        assert results["extra_data"]["sandbox"] == layer
        assert results["output"].count("PermissionError") == len(HOSTILE.split('"/autograder/')) - 1

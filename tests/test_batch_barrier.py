"""One submission's failure is one submission's result: values from the sandbox are made plain
before anything writes them, an error anywhere on the trusted side becomes that submission's
grader-failure result, a grading process that dies costs only the submission it was grading,
and what a student wrote is parsed only within caps."""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from course import COURSE, HW1_SAMPLES
from result_factory import check, make_result, series, validate

from autograder import assignment, batch, output, plugin
from autograder.batch import GradingOptions, grade_batch
from autograder.jobs import grade_parallel
from autograder.outcomes import GRADER_FAILED
from autograder.report import feedback, summary
from autograder.results import failure_result, result_skeleton
from autograder.runtime.loader import MAX_JSON_ITEMS, notebook_code_cells
from autograder.sanitise import plain
from autograder.static import MAX_PARSE_CHARS, SourceTooLarge, parse_python
from autograder.submission import MAX_NOTEBOOK_BYTES, RESERVED_NAMES, answers_text, discover

HW1 = assignment.load("hw1", COURSE)
REFERENCE = HW1_SAMPLES / "reference"
PUBLIC = GradingOptions(suites=("public",))


# ------------------------------------------------------------------------------------------------
# Values from the sandbox


def nested(depth: int) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


def test_plain_makes_every_hostile_value_json_safe():
    import numpy as np

    hostile = {
        "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "huge": 10**5000, "neg": -(10**400),
        "np": np.float32("inf"), "arr": np.array([1.0, np.nan]), "text": "a\ud800b", 3: (1, 2),
        "deep": nested(40),
    }
    made = plain(hostile)
    text = json.dumps(made, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")
    assert made["nan"] == "nan" and made["inf"] == "inf" and made["ninf"] == "-inf"
    assert made["huge"] == "inf" and made["neg"] == "-inf" and made["np"] == "inf"
    assert made["arr"] == [1.0, "nan"] and made["3"] == [1, 2]
    assert "\ud800" not in made["text"]


def test_non_finite_values_reach_every_report_as_what_they_are(tmp_path):
    failed = check(
        "optimizer.adam_matches_reference", status="failed", points=12,
        deviation={"where": "step 3", "expected": 1.5, "actual": "inf", "abs_error": "inf",
                   "rel_error": "nan"},
        series=[series("loss", {"yours": [1.0, "inf", "nan", 1e308, None], "reference": [1.0, 0.5]},
                       log_y=True)],
    )
    result = validate(make_result("nonfinite", checks=[failed]))
    written = output.write_submission(tmp_path, result)
    assert "grader_failure" not in written
    page = (tmp_path / "nonfinite" / "feedback.html").read_text()
    assert "got inf" in page and "relative error nan" in page
    assert page.count("data:image/png;base64,") == 1
    assert "got inf" in (tmp_path / "nonfinite" / "feedback.md").read_text()


def test_raw_non_finite_floats_are_sanitised_by_the_writer_not_crashed_on(tmp_path):
    """A result built without the sanitiser (raw floats) still never stops the batch."""
    result = make_result("raw")
    result["checks"][3]["deviation"]["actual"] = math.inf
    written = output.write_submission(tmp_path, result)
    validate(written)
    saved = json.loads((tmp_path / "raw" / "result.json").read_text())
    assert saved["grader_failure"].startswith(GRADER_FAILED)


# ------------------------------------------------------------------------------------------------
# Grader-failure results


def test_failure_result_follows_the_schema_and_is_flagged_everywhere(tmp_path):
    base = result_skeleton(HW1, "mallory")
    failed = validate(failure_result(base, "building its result: KeyError: 'x'"))
    assert failed["score"] == 0 and failed["grader_failure"].startswith(GRADER_FAILED)
    written = output.write_submission(tmp_path, failed)
    reviewed = make_result("trent", review=["updates bit-identical to torch.optim.Adam"])
    summary.render_summary([written, reviewed, make_result("alice")], tmp_path)
    page = (tmp_path / "summary.html").read_text()
    assert "Needs your review" in page and "KeyError" in page and "bit-identical" in page
    rows = {r.split(",")[0]: r for r in (tmp_path / "grades.csv").read_text().splitlines()}
    assert GRADER_FAILED in rows["mallory"] and "bit-identical" in rows["trent"]
    assert GRADER_FAILED not in rows["alice"]


def test_a_result_whose_files_cannot_be_written_is_flagged(tmp_path):
    """A folder the file system refuses (a name over 255 bytes) loses the submission's files,
    not its place in the batch: the result returned, which the batch's files are written
    from, is a grader failure."""
    written = output.write_submission(tmp_path, make_result("x" * 256))
    assert written["grader_failure"].startswith(GRADER_FAILED)
    assert "none were written" in written["grader_failure"] and written["score"] == 0
    summary.render_summary([written, make_result("alice")], tmp_path)
    assert "none were written" in (tmp_path / "summary.html").read_text()
    rows = {r.split(",")[0]: r for r in (tmp_path / "grades.csv").read_text().splitlines()}
    assert GRADER_FAILED in rows["x" * 256] and GRADER_FAILED not in rows["alice"]


def test_review_notes_are_for_the_teacher_only(tmp_path):
    result = make_result("trent", review=["updates bit-identical to torch.optim.Adam"])
    output.write_submission(tmp_path, result)
    for name in ("feedback.html", "feedback.md"):
        assert "bit-identical" not in (tmp_path / "trent" / name).read_text()


def test_a_report_that_cannot_be_rendered_becomes_a_grader_failure(tmp_path, monkeypatch):
    def broken(result):
        if result["submission"] == "bob" and "grader_failure" not in result:
            raise RuntimeError("template exploded")
        return original(result)

    original = feedback.render_feedback_html
    monkeypatch.setattr(feedback, "render_feedback_html", broken)
    written = output.write_submission(tmp_path, make_result("bob"))
    assert "template exploded" in written["grader_failure"]
    assert "template exploded" in (tmp_path / "bob" / "feedback.html").read_text()
    saved = json.loads((tmp_path / "bob" / "result.json").read_text())
    assert saved["grader_failure"] == written["grader_failure"]


def test_summary_is_written_even_when_its_page_cannot_be_drawn(tmp_path, monkeypatch):
    monkeypatch.setattr(summary, "summary_context", lambda results: 1 / 0)
    summary.render_summary([make_result("alice")], tmp_path)
    assert "ZeroDivisionError" in (tmp_path / "summary.html").read_text()
    assert "alice" in (tmp_path / "summary.html").read_text()
    assert (tmp_path / "grades.csv").read_text().count("\n") == 2


def test_a_batch_is_dealt_out_without_its_files_and_read_again_when_graded(tmp_path):
    shutil.copytree(REFERENCE, tmp_path / "batch" / "alice")
    (tmp_path / "batch" / "bob").mkdir()
    alice, bob = discover([tmp_path / "batch"], HW1, keep_files=False)
    assert alice.files == {} and not alice.loaded and bob.problems
    again = alice.loaded_again(HW1)
    assert again.loaded and again.name == "alice" and "optimizer.py" in again.files
    assert again.loaded_again(HW1) is again


def test_batch_outputs_never_take_a_submission_name(tmp_path):
    batch = tmp_path / "batch"
    for name in ("grades.csv", "Summary.HTML", "mistakes.csv"):
        shutil.copytree(REFERENCE, batch / name)
    (batch / "summary.html.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    names = [s.name for s in discover([batch], HW1)]
    assert len(set(names)) == 4
    assert not {n.casefold() for n in names} & {n.casefold() for n in RESERVED_NAMES}
    with pytest.raises(ValueError):
        output.submission_folder(tmp_path, "grades.csv")


# ------------------------------------------------------------------------------------------------
# The barrier in a real grading session


def test_an_error_after_judging_one_submission_is_its_result_only(tmp_path, monkeypatch):
    for name in ("first", "second", "third"):
        shutil.copytree(REFERENCE, tmp_path / name)
    real_build = batch.build_result

    def build(assignment_, submission, *args, **kwargs):
        if submission.name == "first":
            raise ValueError("Out of range float values are not JSON compliant")
        return real_build(assignment_, submission, *args, **kwargs)

    monkeypatch.setattr(batch, "build_result", build)
    results: dict[str, dict] = {}

    def keep(result):
        if result["submission"] == "second" and "grader_failure" not in result:
            raise OSError("disk full")
        results[result["submission"]] = validate(result)

    grade_batch(HW1, discover([tmp_path], HW1), PUBLIC, keep)
    assert set(results) == {"first", "second", "third"}
    assert "not JSON compliant" in results["first"]["grader_failure"]
    assert "disk full" in results["second"]["grader_failure"]
    assert "grader_failure" not in results["third"]
    assert all(c["status"] == "passed" for c in results["third"]["checks"])


def test_a_batch_larger_than_a_session_is_graded_whole_in_sessions(tmp_path, monkeypatch):
    """A grading process runs its share in sessions of ``SESSION_SUBMISSIONS`` (its memory
    then does not grow with the class): every submission still gets its own result, in order,
    and a broken one in a later session costs only itself."""
    names = ["a", "b", "c", "d", "e"]
    for name in names:
        shutil.copytree(REFERENCE, tmp_path / name)
    (tmp_path / "d" / "deep_net.py").write_text("def broken(:\n")
    monkeypatch.setattr(batch, "SESSION_SUBMISSIONS", 2)
    sessions = []
    real_session = batch._session
    monkeypatch.setattr(batch, "_session", lambda *args: sessions.append(args[2]) or real_session(*args))
    results: list[dict] = []
    grade_batch(HW1, discover([tmp_path], HW1), PUBLIC, results.append)
    assert [[s.name for s in share] for share in sessions] == [["a", "b"], ["c", "d"], ["e"]]
    assert [validate(r)["submission"] for r in results] == names
    scores = {r["submission"]: next(t["score"] for t in r["tasks"] if t["id"] == "deep_net") for r in results}
    assert scores["d"] == 0 and all(scores[n] == scores["a"] > 0 for n in "abce")


INSTALLED_PLUGIN = """
def pytest_collection_modifyitems(items):
    items.clear()  # as a plugin that selects, reorders or skips tests could
"""
GRADE_REFERENCE = """
import sys
from pathlib import Path
from autograder import assignment
from autograder.batch import GradingOptions, grade_batch
from autograder.submission import discover
hw1 = assignment.load("hw1", Path(sys.argv[1]))
results = []
grade_batch(hw1, discover([Path(sys.argv[2])], hw1), GradingOptions(suites=("public",)), results.append)
print(len(results[0]["checks"]), "plugin loaded:", "installed_plugin" in sys.modules)
"""


def test_an_installed_pytest_plugin_has_no_say_in_a_grading_session(tmp_path):
    """pytest loads every installed plugin by default; one that drops or reorders tests must
    not change what a grading session runs."""
    site = tmp_path / "site"
    (site / "installed_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "installed_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: installed-plugin\nVersion: 1.0\n")
    (site / "installed_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[pytest11]\ninstalled = installed_plugin\n")
    (site / "installed_plugin.py").write_text(INSTALLED_PLUGIN)
    submissions = tmp_path / "submissions"
    shutil.copytree(REFERENCE, submissions / "reference")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    found = subprocess.run([sys.executable, "-c", GRADE_REFERENCE, str(COURSE), str(submissions)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr[-2000:]
    count, _, loaded = found.stdout.strip().partition(" plugin loaded: ")
    assert int(count) > 0 and loaded == "False"


def test_a_failing_fixture_is_a_flagged_error_not_a_crash(tmp_path, monkeypatch):
    shutil.copytree(REFERENCE, tmp_path / "only")

    def broken(_assignment):
        raise RuntimeError("the reference would not import")

    monkeypatch.setattr(plugin, "Reference", broken)
    results: list[dict] = []
    grade_batch(HW1, discover([tmp_path], HW1), GradingOptions(), results.append)
    (result,) = results
    assert "the reference would not import" in result["grader_failure"]
    assert any(c["status"] == "error" and GRADER_FAILED in c["message"] for c in result["checks"])


def test_a_killed_grading_process_costs_one_submission(tmp_path):
    """The job is killed once the first result is in: the one it was grading gets a grader
    failure, and a new job grades the rest."""
    names = ["a_first", "b_second", "c_third"]
    for name in names:
        shutil.copytree(REFERENCE, tmp_path / name)
    import multiprocessing

    results: dict[str, dict] = {}
    first = threading.Event()
    earlier = set(multiprocessing.active_children())  # left by other tests in this process

    def keep(result):
        results[result["submission"]] = result
        first.set()

    def kill_the_job():
        assert first.wait(600)
        (job,) = set(multiprocessing.active_children()) - earlier
        os.kill(job.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_the_job)
    killer.start()
    grade_parallel(HW1, discover([tmp_path], HW1, keep_files=False), PUBLIC, keep, jobs=1)
    killer.join()
    assert sorted(results) == names
    failed = [n for n, r in results.items() if "grader_failure" in r]
    assert len(failed) == 1 and failed[0] != "a_first", {n: results[n]["grader_failure"] for n in failed}
    assert "exit code -9" in results[failed[0]]["grader_failure"]
    for name in set(names) - set(failed):
        assert all(c["status"] == "passed" for c in results[name]["checks"]), name


# ------------------------------------------------------------------------------------------------
# Bounded cost of reading what a student wrote


def test_code_over_the_parse_cap_is_too_large_to_check_not_unparsable():
    assert isinstance(parse_python("x = 1\n"), ast.Module)
    assert parse_python("def (:\n") is None
    dead = "_ = (" + "(a,b)," * (MAX_PARSE_CHARS // 6 + 1) + ")\n"
    with pytest.raises(SourceTooLarge, match="cannot vouch"):
        parse_python(dead)


def test_parse_cap_bounds_the_parsers_memory():
    """ast.parse at the cap, on the costliest code per character measured, stays within the
    budget the cap's comment gives (in a child, so the figure is this parse's alone)."""
    import subprocess
    import sys

    code = (
        "import ast, resource\n"
        "from autograder.static import MAX_PARSE_CHARS\n"
        "source = 'x = (' + '(a,b),' * ((MAX_PARSE_CHARS - 8) // 6) + ')\\n'\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "ast.parse(source)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)\n"
    )
    grown = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout)
    assert grown < 200, f"ast.parse at the cap grew by {grown:.0f} MiB"


def test_notebook_json_is_refused_before_parsing_when_it_holds_too_many_values():
    values = json.dumps({"cells": [], "metadata": {"x": [{}] * MAX_JSON_ITEMS}}).encode()
    with pytest.raises(ValueError, match="JSON values"):
        notebook_code_cells(values, max_bytes=MAX_NOTEBOOK_BYTES)
    assert notebook_code_cells(values) == []  # the sandbox side reads it (its own limits apply)


@pytest.mark.parametrize("metadata", [None, [1, 2], "text", {"nbgrader": None},
                                      {"nbgrader": [1]}, {"nbgrader": {"grade_id": None}}])
def test_odd_cell_metadata_never_crashes_reading(tmp_path, metadata):
    cells = [{"cell_type": "markdown", "metadata": metadata, "source": ["## Answers\n", 7, "yes"]},
             {"cell_type": "code", "metadata": metadata, "source": ["x = 1\n", None]}]
    (tmp_path / "odd.ipynb").write_text(json.dumps({"cells": cells, "metadata": metadata}))
    (sub,) = discover([tmp_path / "odd.ipynb"], HW1)
    result = answers_text(sub, HW1.task("answers"), HW1)
    assert result == "## Answers\nyes"
    assert notebook_code_cells(sub.files[HW1.notebook]) == ["x = 1"]


def test_answers_heading_search_is_bounded():
    from autograder.submission import notebook_answers

    cell = {"cell_type": "markdown", "metadata": {}, "source": "#" * 2_000_000}
    started = time.process_time()
    notebook_answers(json.dumps({"cells": [cell]}).encode(), "answers", True)
    assert time.process_time() - started < 5


def test_a_job_that_gives_no_result_in_time_is_ended(tmp_path):
    """With a stall limit shorter than a job's start-up, every job is ended: each costs one
    submission, and the batch still ends with a result for every submission."""
    for name in ("a", "b"):
        shutil.copytree(REFERENCE, tmp_path / name)
    results: list[dict] = []
    started = time.monotonic()
    grade_parallel(HW1, discover([tmp_path], HW1), PUBLIC, results.append, jobs=1, stall_seconds=0.3)
    assert sorted(r["submission"] for r in results) == ["a", "b"]
    assert all("gave no result in 0.3 s" in r["grader_failure"] for r in results)
    assert time.monotonic() - started < 60


def descendants(pid: int) -> list[tuple[int, str]]:
    """Every process ``pid`` started, and each one's command line."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                found.append((int(child), Path(f"/proc/{child}/cmdline").read_text()))
                found += descendants(int(child))
    return found


def alive(pid: int, command: str) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text() == command
    except OSError:
        return False


def test_a_stopped_batch_keeps_what_it_finished_and_writes_its_summary(tmp_path):
    """SIGTERM to the command (a CI job cancelled, say): the finished results stay, the
    batch's files list them, and no process it started is left running."""
    import subprocess
    import sys

    batch, out = tmp_path / "batch", tmp_path / "out"
    for name in ("a", "b", "c", "d", "e", "f"):
        shutil.copytree(REFERENCE, batch / name)
    command = Path(sys.executable).with_name("autograder")
    grader = subprocess.Popen([str(command), "grade", str(batch), "--out", str(out), "--jobs", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while not (out / "a" / "result.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    started = descendants(grader.pid)  # its grading job and the job's sandbox worker
    assert started
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(120) != 0
    deadline = time.monotonic() + 30
    while any(alive(*process) for process in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [command for pid, command in started if alive(pid, command)], "left running"
    finished = sorted(p.parent.name for p in out.glob("*/result.json"))
    assert "a" in finished and len(finished) < 6
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == finished
    assert (out / "summary.html").is_file() and (out / "mistakes.csv").is_file()

"""Students see where: an exception shows their file (or notebook cell), line and source line
and nothing of the sandbox; a notebook's failing cells are reported with their number and error,
and a name a check then misses is traced to the cell that failed to define it."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import start_sandbox
from course import COURSE, HW1_SAMPLES

from autograder import assignment
from autograder.batch import GradingOptions, grade_batch
from autograder.runtime.status import LoadStatus, ProbeStatus
from autograder.sandbox import ProbeResult, Sandbox
from autograder.submission import discover
from autograder.under_test import probe_failure

SANDBOX_PATHS = re.compile(r"/tmp/submission|/opt/kit|echo_probes|autograder/runtime|site-packages")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = start_sandbox("bwrap")
    yield box
    box.shutdown()


def notebook(*cells: str) -> bytes:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": c} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def call(sandbox: Sandbox, files: dict[str, bytes], entry: str, probe: str = "call_f",
         **args: Any) -> tuple[Any, ProbeResult]:
    loaded = sandbox.open_task(files, entry)
    result = sandbox.call(probe, **args)
    sandbox.close_task()
    return loaded, result


def test_an_exception_shows_the_students_frames_lines_and_source(sandbox: Sandbox) -> None:
    source = textwrap.dedent("""\
        import numpy as np
        from helpers import scale

        def f():
            return scale(np.float64(2.0))
    """)
    helpers = "import torch\n\ndef scale(x):\n    return torch.from_numpy(x) * 2\n"
    _, result = call(sandbox, {"student.py": source.encode(), "helpers.py": helpers.encode()}, "student.py")
    assert result.status == ProbeStatus.RAISED and result.error_type == "TypeError"
    error = result.error or ""
    assert 'File "student.py", line 5, in f\n    return scale(np.float64(2.0))' in error
    assert 'File "helpers.py", line 4, in scale\n    return torch.from_numpy(x) * 2' in error
    assert error.strip().splitlines()[-1].startswith("TypeError: expected np.ndarray")
    assert not SANDBOX_PATHS.search(error), error  # no probe, library or sandbox frame or path

    failure = probe_failure(result, "f()")
    # In the message itself, so that hidden checks (which hold back `actual`) show it too.
    assert failure.message.startswith("f() raised TypeError: expected np.ndarray")
    assert 'File "helpers.py", line 4, in scale' in failure.message


def test_an_exception_in_a_notebook_names_its_cells(sandbox: Sandbox) -> None:
    cells = ("x = 1", "def f():\n    return g(x)\n", "def g(value):\n    return value / 0\n")
    _, result = call(sandbox, {"hw1.ipynb": notebook(*cells)}, "hw1.ipynb")
    error = result.error or ""
    assert 'File "hw1.ipynb", cell 2, line 2, in f\n    return g(x)' in error
    assert 'File "hw1.ipynb", cell 3, line 2, in g\n    return value / 0' in error
    assert not SANDBOX_PATHS.search(error), error


def test_raised_outside_the_students_code_says_so() -> None:
    result = ProbeResult(ProbeStatus.RAISED, error="ValueError: could not convert\n", error_type="ValueError")
    message = probe_failure(result, "f()").message
    assert message.startswith("f() raised ValueError: could not convert\n")
    assert "no line of your files was running" in message


def test_a_long_error_is_capped_and_keeps_its_last_line(sandbox: Sandbox) -> None:
    source = "def f():\n    raise ValueError('x' * 100_000)\n"
    _, result = call(sandbox, {"student.py": source.encode()}, "student.py")
    assert len(result.error or "") < 2100
    assert (result.error or "").strip().splitlines()[-1].startswith("ValueError: xxx")


def test_failing_cells_are_reported_and_explain_a_missing_name(sandbox: Sandbox) -> None:
    cells = ("import math", "class RMSprop(object)\n    pass\n", "def f():\n    return 1\n",
             "print(undefined)")
    loaded, result = call(sandbox, {"hw1.ipynb": notebook(*cells)}, "hw1.ipynb", "need_name",
                          name="RMSprop")
    assert loaded.status == LoadStatus.CELLS_FAILED and not loaded.ok and loaded.usable
    assert [(c["cell"], c["type"], c["line"]) for c in loaded.failed_cells] == [
        (2, "SyntaxError", 1), (4, "NameError", 1)]
    assert 'File "hw1.ipynb", cell 2, line 1\n    class RMSprop(object)' in loaded.error
    assert loaded.error.strip().splitlines()[-1].startswith("cell 2 raised SyntaxError")
    assert not SANDBOX_PATHS.search(loaded.error), loaded.error
    assert result.status == ProbeStatus.MISSING
    assert result.error.startswith("hw1.ipynb does not define RMSprop: cell 2 raised SyntaxError at line 1")
    # What the other cells defined is still there to check.
    _, defined = call(sandbox, {"hw1.ipynb": notebook(*cells)}, "hw1.ipynb")
    assert defined.ok and defined.value == 1


def test_a_notebook_that_runs_whole_loads_cleanly(sandbox: Sandbox) -> None:
    loaded, result = call(sandbox, {"hw1.ipynb": notebook("def f():\n    return 2\n")}, "hw1.ipynb")
    assert loaded.ok and loaded.failed_cells == [] and result.value == 2


def test_what_loading_prints_is_kept_apart_from_what_calls_print(sandbox: Sandbox) -> None:
    cells = ("import sys\nprint('loading')\nprint('load err', file=sys.stderr)",
             "def f():\n    print('called')\n    return 1\n")
    sandbox.open_task({"hw1.ipynb": notebook(*cells)}, "hw1.ipynb")
    sandbox.call("call_f")
    sandbox.call("call_f")
    output = sandbox.close_task()
    assert (output.load_stdout, output.load_stderr) == ("loading\n", "load err\n")
    assert (output.stdout, output.stderr) == ("called\ncalled\n", "")


def break_rmsprop(folder: Path) -> None:
    """The sample notebook with a colon missing after ``class RMSprop(...)``."""
    shutil.copy(HW1_SAMPLES / "notebook_magics" / "hw1.ipynb", folder / "hw1.ipynb")
    data = json.loads((folder / "hw1.ipynb").read_text())
    for cell in data["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        broken = re.sub(r"class RMSprop\((\w+)\):", r"class RMSprop(\1)", source)
        if broken != source:
            cell["source"] = broken
            break
    else:
        raise AssertionError("the sample notebook has no RMSprop class")
    (folder / "hw1.ipynb").write_text(json.dumps(data))


def test_a_broken_cell_fails_the_loading_check_and_is_named(tmp_path: Path) -> None:
    hw1 = assignment.load("hw1", COURSE)
    (tmp_path / "broken").mkdir()
    break_rmsprop(tmp_path / "broken")
    (tmp_path / "with_file").mkdir()
    break_rmsprop(tmp_path / "with_file")
    shutil.copy(HW1_SAMPLES / "reference" / "optimizer.py", tmp_path / "with_file")
    shutil.copytree(HW1_SAMPLES / "syntax_error", tmp_path / "py_syntax")
    results: dict[str, dict[str, Any]] = {}
    grade_batch(hw1, discover([tmp_path], hw1), GradingOptions(suites=("public", "hidden")),
                lambda r: results.setdefault(r["submission"], r))
    checks = {c["id"]: c for c in results["broken"]["checks"]}
    loads = checks["optimizer.loads"]
    assert loads["status"] == "failed"
    assert "SyntaxError" in loads["message"] and "cell 5" in loads["message"], loads["message"]
    missing = [c["message"] for c in checks.values() if c["message"].startswith("hw1.ipynb does not define")]
    assert missing and all("cell 5 raised SyntaxError at line" in m for m in missing), missing
    # The other tasks' cells ran: their checks still judge them (the loading check says why
    # it failed, without costing the points of checks that depend on it).
    scores = {t["id"]: t["score"] for t in results["broken"]["tasks"]}
    assert scores["deep_net"] == 25 and scores["roots"] == 25
    assert checks["deep_net.loads"]["status"] == "failed"

    # The notebook prints the roots it finds while it runs, for every task: shown once.
    outputs = {t["id"]: t.get("output") or {} for t in results["broken"]["tasks"]}
    printed = [task for task, output in outputs.items() if "0.7639" in output.get("stdout", "")]
    assert printed == ["deep_net"], outputs
    assert outputs["optimizer"]["load_output_with"] == outputs["roots"]["load_output_with"] == "deep_net"

    # Beside a task's own file, the notebook is not graded for that task, and the result says so.
    with_file = results["with_file"]
    graded = {t["id"]: (t["graded_file"], t["score"]) for t in with_file["tasks"]}
    assert graded == {"deep_net": ("hw1.ipynb", 25), "optimizer": ("optimizer.py", 40),
                      "roots": ("hw1.ipynb", 25), "answers": ("hw1.ipynb", None)}
    assert any(p.startswith("both hw1.ipynb and optimizer.py were handed in: optimizer.py is graded")
               for p in with_file["problems"]), with_file["problems"]
    assert {t["graded_file"] for t in results["broken"]["tasks"]} == {"hw1.ipynb"}

    # A .py file that does not import: its loading check and every check skipped for it say
    # which line to fix.
    py_checks = {c["id"]: c for c in results["py_syntax"]["checks"]}
    line = next(n for n, text in enumerate(
        (HW1_SAMPLES / "syntax_error" / "optimizer.py").read_text().splitlines(), start=1)
        if text.startswith("class SGDMomentum(Optimizer)") and not text.rstrip().endswith(":"))
    assert py_checks["optimizer.loads"]["message"].endswith(f"(at optimizer.py line {line})")
    skipped = [c["message"] for c in py_checks.values()
               if c["task"] == "optimizer" and c["status"] == "skipped"]
    said = f"(optimizer.py did not load: SyntaxError: expected ':' at optimizer.py line {line})"
    assert skipped and all(m.endswith(said) for m in skipped), skipped[:2]

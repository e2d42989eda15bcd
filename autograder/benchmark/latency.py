"""How long one submission takes, end to end and phase by phase.

One submission per process is how Gradescope, GitHub Classroom and a student's ``autograder
check`` run, so this is the figure those users feel. It is set against ``python -c "import
torch"`` measured in the same run, which is the floor for anything that runs torch code:

- end to end: the real ``autograder grade`` and ``autograder check`` commands, each run first
  with an empty cache (a course's first run) and then again (the median of the rest);
- phase by phase: the same work done one step after another in a fresh process
  (``python -m autograder.benchmark.latency``), so each step's cost shows on its own. The real
  commands overlap some of them (the sandbox worker warms up while the grader reads the suite).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.table import Table

# The phases a fresh process goes through, in order, as ``phases`` reports them.
PHASES = (
    ("interpreter", "interpreter start (python -c pass)"),
    ("grader_imports", "imports in the grader (the kit, pytest, torch)"),
    ("worker", "sandbox worker start and warm-up"),
    ("sandbox", "student code in the sandbox (loads and probes)"),
    ("reference", "reference runs"),
    ("session", "the rest of the check session (collecting, comparing)"),
    ("reports", "reports and plots (result.json, feedback, summary)"),
)


@dataclasses.dataclass
class LatencyFigures:
    """Seconds: the floor, the real commands (first run and again), and each phase."""

    python: float
    import_torch: float
    grade_first: float
    grade: float
    check_first: float
    check: float
    phases_first: dict[str, float]
    phases: dict[str, float]

    def times_torch(self, seconds: float) -> float:
        return seconds / self.import_torch


def timed(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
          accepted: tuple[int, ...] = (0,)) -> float:
    """Seconds ``command`` takes; one that exits otherwise stops the benchmark with its output."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=3600)
    elapsed = time.perf_counter() - started
    if done.returncode not in accepted:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout)[-2000:]}")
    return elapsed


def _wall(command: list[str], env: dict[str, str] | None = None) -> float:
    """``timed``, where 1 (a submission under ``--fail-under``; not used here) is no failure."""
    return timed(command, env, accepted=(0, 1))


def kit_command() -> list[str]:
    """How to run the kit's command line with this interpreter, entered as the installed
    ``autograder`` script enters it (``cli.run``)."""
    return [sys.executable, "-c", "from autograder.cli import run; run()"]


def measure(assignment: str, submission: Path, runs: int = 3, env: dict[str, str] | None = None
            ) -> LatencyFigures:
    """Time one submission ``runs`` times (plus a first run on an empty cache) each way."""
    with tempfile.TemporaryDirectory(prefix="latency-") as scratch:
        env = {**os.environ, **(env or {}), "AUTOGRADER_CACHE": str(Path(scratch) / "cache")}
        out = Path(scratch) / "out"

        def grade() -> float:
            return _wall([*kit_command(), "grade", str(submission), "--assignment", assignment,
                          "--out", str(out), "--jobs", "1"], env)

        def check() -> float:
            return _wall([*kit_command(), "check", str(submission), "--assignment", assignment], env)

        def phases() -> dict[str, float]:
            done = subprocess.run([sys.executable, "-m", "autograder.benchmark.latency", assignment,
                                   str(submission), str(out)], capture_output=True, text=True,
                                  env=env, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"the phase run failed: {done.stderr[-2000:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        python = statistics.median(_wall([sys.executable, "-c", "pass"]) for _ in range(runs))
        import_torch = statistics.median(_wall([sys.executable, "-c", "import torch"]) for _ in range(runs))
        phases_first = phases()  # fills the cache
        phases_first["interpreter"] = python
        shutil.rmtree(Path(scratch) / "cache", ignore_errors=True)
        grade_first = grade()
        shutil.rmtree(Path(scratch) / "cache", ignore_errors=True)
        check_first = check()
        again = [phases() for _ in range(runs)]
        phases_warm = {key: statistics.median(p[key] for p in again) for key in again[0]}
        phases_warm["interpreter"] = python
        grade_again = statistics.median(grade() for _ in range(runs))
        check_again = statistics.median(check() for _ in range(runs))
    return LatencyFigures(python, import_torch, grade_first, grade_again, check_first, check_again,
                          phases_first, phases_warm)


def _phases(assignment_name: str, submission: Path, out: Path) -> dict[str, Any]:
    """One submission graded step by step in this (fresh) process; seconds per phase."""
    started = time.perf_counter()
    import pytest  # noqa: F401
    import torch

    from .. import assignment as assignments
    from .. import (
        cli,  # noqa: F401  (the command line's own imports)
        output,
        reference,
    )
    from ..batch import GradingOptions, grade_batch
    from ..report.summary import render_summary
    from ..sandbox import Sandbox
    from ..submission import discover

    torch.set_num_threads(1)
    figures = {"grader_imports": time.perf_counter() - started}
    spec = assignments.load(assignment_name, assignments.find_course())
    step = time.perf_counter()
    sandbox = Sandbox(spec.probes, spec.limits)
    sandbox.start()
    figures["worker"] = time.perf_counter() - step
    results: list[dict[str, Any]] = []
    step = time.perf_counter()
    try:
        grade_batch(spec, discover([submission], spec), GradingOptions(), results.append, sandbox=sandbox)
    finally:
        sandbox.shutdown()
    graded = time.perf_counter() - step
    figures["sandbox"] = float(results[0]["timing"]["sandbox_s"])
    figures["reference"] = reference.SECONDS["computed"] + reference.SECONDS["read"]
    figures["session"] = graded - figures["sandbox"] - figures["reference"]
    step = time.perf_counter()
    render_summary([output.write_submission(out, results[0])], out)
    figures["reports"] = time.perf_counter() - step
    return figures


if __name__ == "__main__":
    print(json.dumps(_phases(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))


def table(figures: LatencyFigures, machine: str) -> Table:
    """The figures as the command prints them."""
    rows = Table(title=f"one submission on {machine}")
    for column in ("", "first run s", "again s", "× import torch"):
        rows.add_column(column, justify="right")
    rows.add_row('python -c "import torch"', "", f"{figures.import_torch:.2f}", "1.0")
    for name, first, again in (("autograder grade (one submission)", figures.grade_first, figures.grade),
                               ("autograder check", figures.check_first, figures.check)):
        rows.add_row(name, f"{first:.2f}", f"{again:.2f}", f"{figures.times_torch(again):.1f}")
    rows.add_section()
    for key, label in PHASES:
        first, again = figures.phases_first.get(key, 0.0), figures.phases.get(key, 0.0)
        rows.add_row(label, f"{first:.2f}", f"{again:.2f}", "")
    rows.caption = ("first run: an empty cache (see autograder/cache.py); again: the median of the "
                    "next runs. Phases are run one after another in a fresh process; the commands "
                    "overlap the worker's warm-up with the grader's own start.")
    return rows

"""A whole class graded at once: a realistic mix of many submissions, its time and whether the
grader's memory stays flat over it.

The mix is made from the assignment's own samples, sorted by what their ``expected.toml``
says: mostly correct ones (every task full), some wrong (partial), a few broken (a task at
zero: a syntax error, stubs, a missing file) and a few hostile ones written here: the
reference with one file that loops forever, sleeps, fills memory, floods its output or forks
without end as soon as it is loaded. Each of those costs its task's load limit, as it would in
a real class. Every result's reports and the class's summary are written as ``autograder grade
--out`` writes them: for a wrong submission, drawing its plots costs about as much as grading it.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

from rich.table import Table

from ..assignment import Assignment
from ..batch import GradingOptions
from ..jobs import grade_parallel
from ..output import write_submission
from ..report.summary import render_summary
from ..submission import discover

# Put first in one file of the reference: each starts as soon as the file is loaded.
HOSTILE = {
    "loops": "while True:\n    pass\n",
    "sleeps": "import time\ntime.sleep(10_000)\n",
    "fills_memory": "hoard = []\nwhile True:\n    hoard.append(bytearray(64 << 20))\n",
    "floods_output": "while True:\n    print('x' * 10_000)\n",
    "forks": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
}
# Shares of the class, in this order; what is left over is correct.
SHARES = {"wrong": 0.15, "broken": 0.03, "hostile": 0.005}


@dataclasses.dataclass
class ClassFigures:
    """What grading the class cost."""

    kinds: dict[str, int]
    jobs: int
    seconds: float
    resident_first: float  # a job's resident MiB over its first tenth of results (median)
    resident_last: float  # and over its last tenth
    grader_peak: float
    reports: int  # submissions whose feedback was written, as ``grade --out`` writes it

    @property
    def submissions(self) -> int:
        return sum(self.kinds.values())


def sort_samples(samples: Path) -> dict[str, list[Path]]:
    """The samples by kind, from their ``expected.toml``: correct, wrong or broken."""
    kinds: dict[str, list[Path]] = {"correct": [], "wrong": [], "broken": []}
    for folder in sorted(p for p in samples.iterdir() if (p / "expected.toml").is_file()):
        outcome = tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8")).get("outcome", {})
        marks = [v for k, v in outcome.items() if k not in ("mistakes", "review")]
        kind = "correct" if all(m == "full" for m in marks) else "broken" if "zero" in marks else "wrong"
        kinds[kind].append(folder)
    return kinds


def write_class(samples: Path, size: int, folder: Path) -> dict[str, int]:
    """``size`` submissions in ``folder``, copies of the samples in the mix above; returns how
    many of each kind."""
    kinds = sort_samples(samples)
    reference = samples / "reference"
    if not kinds["correct"] or not reference.is_dir():
        raise ValueError(f"{samples} needs a reference/ sample and correct samples to build a class")
    counts = {kind: int(size * share) for kind, share in SHARES.items()}
    counts["correct"] = size - sum(counts.values())
    number = 0
    for kind, count in counts.items():
        for i in range(count):
            target = folder / f"{kind}-{number:05d}"
            number += 1
            if kind == "hostile":
                shutil.copytree(reference, target)
                code = sorted(target.glob("*.py")) or [target / "hostile.py"]
                trick = list(HOSTILE.values())[i % len(HOSTILE)]
                victim = code[i % len(code)]
                old = victim.read_text(encoding="utf-8") if victim.exists() else ""
                victim.write_text(with_first_statement(old, trick), encoding="utf-8")
            else:
                pool = kinds[kind] or kinds["correct"]
                shutil.copytree(pool[i % len(pool)], target)
            (target / "expected.toml").unlink(missing_ok=True)
    return counts


def with_first_statement(code: str, trick: str) -> str:
    """``code`` with ``trick`` as the first thing it runs: after its docstring and its
    ``from __future__`` imports, which must stay first (before them, the file would not
    even compile, and the trick would never run)."""
    lines = code.splitlines(keepends=True)
    body = ast.parse(code).body
    first = 0
    for number, node in enumerate(body):
        docstring = number == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (docstring or isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
        first = node.end_lineno or 0
    return "".join(lines[:first]) + trick + "".join(lines[first:])


def measure(assignment: Assignment, samples: Path, size: int, jobs: int | None = None,
            layer: str | None = None) -> ClassFigures:
    """Grade a class of ``size`` built from ``samples`` and time it."""
    jobs = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="class-") as scratch:
        classroom, out = Path(scratch) / "class", Path(scratch) / "out"
        kinds = write_class(samples, size, classroom)
        batch = discover([classroom], assignment, keep_files=False)
        peaks: list[float] = []
        resident: list[float] = []
        results: list[dict] = []
        started = time.perf_counter()
        grade_parallel(assignment, batch, GradingOptions(layer=layer),
                       lambda result: results.append(write_submission(out, result)), jobs, peaks,
                       resident=resident)
        render_summary(sorted(results, key=lambda r: r["submission"]), out)
        seconds = time.perf_counter() - started
        reports = sum((out / r["submission"] / "feedback.html").is_file() for r in results)
    tenth = max(1, len(resident) // 10)
    return ClassFigures(kinds, jobs, seconds, statistics.median(resident[:tenth] or [0.0]),
                        statistics.median(resident[-tenth:] or [0.0]), max(peaks, default=0.0), reports)


def table(figures: ClassFigures, machine: str) -> Table:
    """The figures as the command prints them."""
    mix = ", ".join(f"{count} {kind}" for kind, count in figures.kinds.items())
    grown = figures.resident_last - figures.resident_first
    rows = Table(title=f"a class of {figures.submissions} on {machine}", show_header=False)
    rows.add_row("mix", mix)
    rows.add_row("grading processes", str(figures.jobs))
    rows.add_row("total, reports included", f"{figures.seconds:.0f} s ({figures.seconds / 60:.1f} min)")
    rows.add_row("reports written", f"{figures.reports} of {figures.submissions}")
    rows.add_row("per submission", f"{figures.seconds / max(1, figures.submissions):.3f} s")
    rows.add_row("a job's resident memory, first tenth", f"{figures.resident_first:.0f} MiB")
    rows.add_row("a job's resident memory, last tenth", f"{figures.resident_last:.0f} MiB ({grown:+.0f})")
    rows.add_row("a job's peak", f"{figures.grader_peak:.0f} MiB")
    return rows

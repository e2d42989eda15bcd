"""What Gradescope runs for each submission: grade ``/autograder/submission`` in the sandbox
and write ``/autograder/results/results.json``.

The results are built in memory and written once, at the end, whatever happens: a missing
or malformed file is all Gradescope would show otherwise. Before any student code runs,
everything under the root is made unreadable to other users except the path to
``probes.py``, so the rlimits layer (uid ``nobody`` on the real file system, the layer a
container without user namespaces falls back to) cannot read the hidden checks, the
solutions, the results or the submission metadata either; bubblewrap and unshare never mount
them at all. ``$AUTOGRADER_GRADESCOPE_ROOT`` replaces ``/autograder`` (for tests).
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ..assignment import Assignment, available, load
from ..output import write_json
from ..sandbox import LAYERS
from ..submission import Submission, discover, read_submission
from .results import failure_results, gradescope_results

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"
DEFAULT_ROOT = Path("/autograder")
COURSE_FOLDER = "course"  # in the zip, so in /autograder/source


def course_dir(root: Path) -> Path:
    return root / "source" / COURSE_FOLDER


def results_path(root: Path) -> Path:
    return root / "results" / "results.json"


def protect(root: Path, probes: Path) -> None:
    """Take every permission of group and others off the tree under ``root``, then give
    others back only what reaching ``probes`` needs (search on its folders, read on it):
    the sandbox's unprivileged uid reads that one file, and nothing else here."""
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, stat.S_IMODE(path.lstat().st_mode) & 0o700)
    os.chmod(root, 0o711)
    probes = probes.resolve()
    for folder in probes.relative_to(root.resolve()).parents:
        if str(folder) != ".":
            where = root / folder
            os.chmod(where, stat.S_IMODE(where.stat().st_mode) | 0o011)
    os.chmod(probes, stat.S_IMODE(probes.stat().st_mode) | 0o044)


def _assignment(root: Path, name: str | None) -> Assignment:
    course = course_dir(root)
    if name is None:
        names = available(course)
        if len(names) != 1:
            raise RuntimeError(f"{course} holds {len(names)} assignments ({', '.join(names)}); name one")
        name = names[0]
    return load(name, course)


def find_submission(folder: Path, spec: Assignment) -> Submission:
    """The student's work in ``folder``: its files, or the one folder in it that holds them
    (an uploaded zip of a folder; a macOS zip's ``__MACOSX`` beside it holds none)."""
    found = [s for s in discover([folder], spec) if s.files] if folder.is_dir() else []
    return found[0] if len(found) == 1 else read_submission(folder, spec, name="submission")


def grade(root: Path, name: str | None, started: float, layer: str | None = None) -> dict[str, Any]:
    """Grade the one submission under ``root`` and return its ``results.json``."""
    from ..batch import GradingOptions, grade_batch
    from ..lint import lint

    spec = _assignment(root, name)
    if os.geteuid() == 0:
        protect(root, spec.probes)
    problems = [p for p in lint(spec) if p.misgrades]
    if problems:
        raise RuntimeError("the check suite has problems (see `autograder lint`):\n"
                           + "\n".join(map(str, problems)))
    submission = find_submission(root / "submission", spec)
    results: list[dict[str, Any]] = []
    grade_batch(spec, [submission], GradingOptions(layer=layer), results.append)
    if len(results) != 1:
        raise RuntimeError(f"grading produced {len(results)} results instead of one")
    return gradescope_results(results[0], time.monotonic() - started)


def _stop(signum: int, _frame: Any) -> None:
    """Gradescope's timeout or a cancel still leaves a results.json behind."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Grade, then write results.json, a failure one if anything went wrong."""
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run", description=__doc__)
    parser.add_argument("--assignment", help="the assignment's name (default: the only one)")
    parser.add_argument("--layer", choices=LAYERS,
                        help="force a sandbox layer (default: the strongest that works)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    root = Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    signal.signal(signal.SIGTERM, _stop)
    try:
        results = grade(root, args.assignment, started, args.layer)
    except BaseException as exc:  # noqa: BLE001 - whatever it was, Gradescope gets a results.json
        traceback.print_exc()
        reason = f"{type(exc).__name__}: {exc}"
        results = failure_results(reason, time.monotonic() - started)
    target = results_path(root)
    try:
        write_json(target, results)
    except Exception:  # noqa: BLE001 - a result that cannot be written as JSON: write the failure one
        traceback.print_exc()
        write_json(target, failure_results("results.json could not be written", time.monotonic() - started))
    print(f"wrote {target}: score {results.get('score')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

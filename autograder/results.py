"""``result.json``: building it from check outcomes (or from a grader failure), and reading
what its fields mean, in one place for the writer and the reports (the schema is
``schemas/result.schema.json``)."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import __version__
from .assignment import Assignment
from .outcomes import GRADER_FAILED, CheckOutcome
from .sandbox import Sandbox, TaskOutput
from .sanitise import plain
from .submission import Submission, answers_text
from .under_test import SubmissionUnderTest


def manual_pending(result: Mapping[str, Any]) -> bool:
    """Whether some task graded by hand has no score yet."""
    tasks = result.get("tasks")
    return any(isinstance(t, Mapping) and t.get("manual") is True and t.get("score") is None
               for t in (tasks if isinstance(tasks, list) else []))


def total_score(result: Mapping[str, Any]) -> float:
    """The points of every task scored so far, automatic and manual."""
    return round(sum(t.get("score") or 0.0 for t in result.get("tasks", [])), 6)


def environment(sandbox: Sandbox) -> dict[str, str]:
    """Versions that graded a submission, for reproducibility."""
    import torch

    env = {
        "kit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
    env.update({f"sandbox_{k}": v for k, v in sandbox.versions.items()})
    return env


def task_output(output: TaskOutput, graded_from: str | None, task: str, notebook: str,
                load_shown: dict[str, str]) -> dict[str, Any]:
    """A task's output for the result: what its code printed while loading, then while it was
    checked. A notebook runs whole for every task, so what it prints while it runs is shown
    with the first task only; the others say where (``load_output_with``)."""
    shown_with = load_shown.setdefault(notebook, task) if graded_from == notebook else task
    entry: dict[str, Any] = {"truncated": output.truncated}
    if shown_with == task:
        entry["stdout"] = output.load_stdout + output.stdout
        entry["stderr"] = output.load_stderr + output.stderr
    else:
        entry["stdout"], entry["stderr"] = output.stdout, output.stderr
        if output.load_stdout.strip() or output.load_stderr.strip():
            entry["load_output_with"] = shown_with
    return entry


def regrade_conditions(under_test: SubmissionUnderTest | None) -> dict[str, Any]:
    """What makes a re-grade of this submission identical, as its tasks' processes reported
    it (the weakest of them: one task without fixed hashing means the submission's run had
    none): the seed of the random generators, fixed string hashing, ``id`` numbered in order
    of use, a fresh copy of the loaded task per check, and whether addresses were randomised."""
    reports = [r.determinism for r in (under_test.loads.values() if under_test else []) if r.determinism]
    if not reports:
        return {}
    seeds = {r.get("seed") for r in reports}
    hash_seeds = {r.get("hash_seed") for r in reports}
    return {
        "seed": seeds.pop() if len(seeds) == 1 else None,
        "hash_seed": hash_seeds.pop() if len(hash_seeds) == 1 else None,
        "stable_ids": all(r.get("stable_ids") is True for r in reports),
        "fresh_copy_per_check": all(r.get("fresh_copy_per_check") is True for r in reports),
        "address_randomisation": any(r.get("address_randomisation") is not False for r in reports),
    }


def build_result(
    assignment: Assignment,
    submission: Submission,
    under_test: SubmissionUnderTest | None,
    checks: list[CheckOutcome],
    sandbox: Sandbox,
    wall_seconds: float,
    reveal: bool,
    due_passed: bool = False,
) -> dict[str, Any]:
    """Assemble ``result.json`` for one submission from its check outcomes."""
    tasks = []
    load_shown: dict[str, str] = {}  # notebook -> the task whose output shows its own output
    graded_from = submission.graded_from(assignment)
    for task in assignment.tasks:
        output = under_test.outputs.get(task.id) if under_test else None
        entry: dict[str, Any] = {
            "id": task.id,
            "title": task.title,
            "score": None if task.manual else sum(c.score for c in checks if c.task == task.id),
            "max_score": task.points,
            "manual": task.manual,
            "files": list(task.files),
            "graded_file": graded_from.get(task.id),
        }
        if output is not None and under_test is not None:
            entry["output"] = task_output(output, under_test.entries.get(task.id), task.id,
                                          assignment.notebook, load_shown)
        if task.manual:
            entry["answer"] = {"text": answers_text(submission, task, assignment), "comment": None}
        tasks.append(entry)
    automatic = sum(t["score"] or 0.0 for t in tasks)
    result = {
        "schema_version": 1,
        "kit_version": __version__,
        "assignment": assignment.name,
        "submission": submission.name,
        "score": round(automatic, 6),
        "max_score": assignment.max_score,
        "manual_pending": manual_pending({"tasks": tasks}),
        "problems": list(submission.problems),
        "review": list(under_test.review) if under_test else [],
        "tasks": tasks,
        "checks": [c.as_dict(reveal, due_passed) for c in checks],
        "disclosure": {
            "due": assignment.due.isoformat() if assignment.due else None,
            "due_passed": due_passed,
            "reveal": reveal,
        },
        "sandbox": {"layer": sandbox.layer or "none", "detail": sandbox.detail, "warm": sandbox.warm,
                    "cgroup": sandbox.cgroup_note, "isolation": sandbox.isolation},
        "seeds": {"assignment": assignment.seed},
        "regrade": regrade_conditions(under_test),
        "environment": environment(sandbox),
        "timing": {
            "wall_s": round(wall_seconds, 4),
            "sandbox_s": round(under_test.sandbox_seconds, 4) if under_test else 0.0,
        },
    }
    if under_test is not None and under_test.failures:
        result["grader_failure"] = "; ".join(under_test.failures)
    return plain(result)


def result_skeleton(assignment: Assignment, name: str, sandbox: Sandbox | None = None) -> dict[str, Any]:
    """What a result says before any check ran: who, which tasks, which sandbox."""
    return {
        "assignment": assignment.name,
        "submission": name,
        "max_score": assignment.max_score,
        "tasks": [{"id": t.id, "title": t.title, "max_score": t.points, "manual": t.manual,
                   "files": list(t.files)} for t in assignment.tasks],
        "sandbox": {"layer": (sandbox.layer or "none") if sandbox else "unknown",
                    "detail": sandbox.detail if sandbox else ""},
        "seeds": {"assignment": assignment.seed},
    }


def failure_result(base: dict[str, Any], reason: str) -> dict[str, Any]:
    """The result of a submission the grader failed on: no points, every automatic task
    at 0, and ``grader_failure`` saying why, for the teacher to re-grade or look into.

    ``base`` is a result (or ``result_skeleton``); only its identity, tasks and sandbox are
    kept, each checked for shape, since whatever broke may have broken them too.
    """
    def text(value: Any, default: str) -> str:
        return value if isinstance(value, str) else default

    tasks = []
    for task in base.get("tasks") if isinstance(base.get("tasks"), list) else []:
        if isinstance(task, dict) and isinstance(task.get("max_score"), int | float):
            manual = task.get("manual") is True
            entry = {"id": text(task.get("id"), "?"), "title": text(task.get("title"), ""),
                     "score": None if manual else 0.0, "max_score": task["max_score"], "manual": manual}
            if manual:
                entry["answer"] = {"text": None, "comment": None}
            tasks.append(entry)
    sandbox = base.get("sandbox") if isinstance(base.get("sandbox"), dict) else {}
    layer = sandbox.get("layer")
    note = reason if reason.startswith(GRADER_FAILED) else f"{GRADER_FAILED}: {reason}"
    max_score = base.get("max_score")
    return plain({
        "schema_version": 1,
        "kit_version": __version__,
        "assignment": text(base.get("assignment"), "?"),
        "submission": text(base.get("submission"), "?"),
        "score": 0.0,
        "max_score": max_score if isinstance(max_score, int | float) else 0.0,
        "manual_pending": manual_pending({"tasks": tasks}),
        "problems": [note],
        "review": [],
        "grader_failure": note,
        "tasks": tasks,
        "checks": [],
        "sandbox": {"layer": layer if layer in ("bwrap", "unshare", "rlimits", "none") else "unknown",
                    "detail": text(sandbox.get("detail"), "")},
        "seeds": base.get("seeds") if isinstance(base.get("seeds"), dict) else {},
        "environment": {},
        "timing": {"wall_s": 0.0, "sandbox_s": 0.0},
    })

"""Gradescope's ``results.json``, made from the kit's result for one submission.

Each check becomes one Gradescope test. Its Markdown output comes from the same context the
kit's own feedback page is rendered from (``feedback_context``): untrusted text cleaned and
capped, hidden details withheld by the check's own ``show`` list, named mistakes looked up.
A kit ``hidden`` check is shown to students as the kit shows it (its verdict, message and
named mistakes, without the withheld details), so it maps to Gradescope's ``visible``;
Gradescope's own ``hidden`` would remove it, score included, from the student's view.
``after_due_date`` stays ``after_due_date``. Tasks graded by hand are left to Gradescope's
manual questions; the top-level output says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..report.feedback import MARKDOWN_CAPS, feedback_context
from ..report.markdown import md_fence, md_inline
from ..report.rendering import render
from ..report.text import fmt_num

VISIBILITY = {"visible": "visible", "hidden": "visible", "after_due_date": "after_due_date"}
CAPS = MARKDOWN_CAPS[1]  # per test: shorter than a feedback page, the page holds many tests
MAX_OUTPUT_CHARS = 200_000  # the top-level output; the tests carry the details

def _check_output(check: Mapping[str, Any]) -> str:
    """A test's output: what the kit's own feedback says of the check."""
    return render("_check.md.j2", c=check, plots_elsewhere=True).strip() + "\n"


def _top_output(result: Mapping[str, Any], view: Mapping[str, Any]) -> str:
    """Score, sandbox, problems, what the code printed, and the tasks left to Gradescope's
    manual questions."""
    lines = [f"**Automatic checks: {fmt_num(view['score'])} / "
             f"{fmt_num(sum(t['max_score'] for t in view['tasks'] if not t['manual']))}**", ""]
    failure = result.get("grader_failure")
    if failure:
        lines += [f"⚠️ {md_inline(failure)}. Your instructor can see this and will look into it.", ""]
    sandbox = view["sandbox"]
    if sandbox["layer"] == "none":
        lines += ["⚠️ **This submission was run WITHOUT a sandbox.**", ""]
    else:
        lines += [f"Sandbox: **{md_inline(sandbox['layer'])}** ({md_inline(sandbox['words'])})", ""]
    if view["problems"]:
        lines += ["**Problems with this submission:**", ""]
        lines += [f"- {md_inline(p)}" for p in view["problems"]] + [""]
    manual = [t for t in view["tasks"] if t["manual"]]
    if manual:
        lines += ["**Graded by hand** (not part of this autograder's score: your instructor grades "
                  "these as Gradescope questions):", ""]
        lines += [f"- {md_inline(t['title'])} ({fmt_num(t['max_score'])} points)" for t in manual] + [""]
    for task in view["tasks"]:
        for stream in task["streams"]:
            lines += [f"**{md_inline(task['title'])}, {stream['name']}**"
                      f"{' (shortened)' if stream['cut'] or task['output_truncated'] else ''}:", "",
                      md_fence(stream["text"]), ""]
    text = "\n".join(lines)
    if len(text) > MAX_OUTPUT_CHARS:  # cut at a line before any fence could open
        text = "\n".join(lines[: lines.index("") + 1]) + "\n*The rest of this output was cut.*\n"
    return text


def gradescope_results(result: Mapping[str, Any], execution_time: float) -> dict[str, Any]:
    """``results.json`` for the kit's ``result`` of one submission, graded in
    ``execution_time`` seconds."""
    view = feedback_context(result, CAPS, plots=False)
    tests: list[dict[str, Any]] = []
    for task_number, task in enumerate((t for t in view["tasks"] if not t["manual"]), start=1):
        for check_number, check in enumerate(task["checks"], start=1):
            tests.append({
                "name": f"{task['title']}: {check['title']} [{check['id']}]",
                "number": f"{task_number}.{check_number}",
                "score": _number(check["score"]),
                "max_score": _number(check["max_score"]),
                "status": "passed" if check["status"] == "passed" else "failed",
                "output": _check_output(check),
                "output_format": "md",
                "tags": [task["id"]],
                "visibility": VISIBILITY.get(check["visibility"], "visible"),
                "extra_data": {"check": check["id"], "kit_status": check["status"],
                               "kit_visibility": check["visibility"]},
            })
        if not task["checks"]:  # nothing judged the task (the grader failed): still show its points
            tests.append({
                "name": f"{task['title']}: not graded",
                "number": f"{task_number}.1",
                "score": _number(task["score"] or 0.0),
                "max_score": _number(task["max_score"]),
                "status": "failed",
                "output": "No check ran on this task; see the message at the top.\n",
                "output_format": "md",
                "tags": [task["id"]],
                "visibility": "visible",
            })
    return {
        "score": _number(result.get("score", 0.0)),
        "execution_time": _seconds(execution_time),
        "output": _top_output(result, view),
        "output_format": "md",
        "test_output_format": "md",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "kit_version": str(result.get("kit_version", "")),
            "assignment": str(result.get("assignment", "")),
            "sandbox": str(view["sandbox"]["layer"]),
            "grader_failure": result.get("grader_failure"),
            "manual_tasks": [t["id"] for t in view["tasks"] if t["manual"]],
        },
        "tests": tests,
    }


def failure_results(reason: str, execution_time: float) -> dict[str, Any]:
    """``results.json`` when the grader could not grade at all: no points, and one line the
    student sees; the details go to the instructor's log."""
    return {
        "score": 0.0,
        "execution_time": _seconds(execution_time),
        "output": ("⚠️ The autograder failed before it could grade this submission. Your instructor "
                   "can see why and will look into it.\n"),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"grader_failure": reason},
        "tests": [],
    }


def _number(value: Any) -> float:
    number = float(value) if isinstance(value, int | float) else 0.0
    return round(number, 6) if math.isfinite(number) else 0.0


def _seconds(value: float) -> float:
    return round(max(0.0, float(value)), 3)

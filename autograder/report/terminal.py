"""The plain-text check report ``autograder check`` prints."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from ..outcomes import CheckStatus
from .feedback import STATUS_ICONS, STATUS_WORDS, feedback_context
from .text import fmt_num

TERMINAL_FIELD_CAP = 1_200


def _wrap(text: str, prefix: str, width: int = 100) -> list[str]:
    """``text`` wrapped to ``width`` with every line behind ``prefix``."""
    lines = []
    for raw in text.splitlines() or [""]:
        wrapped = textwrap.wrap(raw, width - len(prefix), break_on_hyphens=False) or [""]
        lines.extend(prefix + part for part in wrapped)
    return lines


def _check_details(c: Mapping[str, Any]) -> list[str]:
    """The indented lines under a check that did not pass."""
    pad = " " * 8
    lines = _wrap(c["reason"] if c["status"] == CheckStatus.SKIPPED else c["message"], pad)
    for label in ("called", "expected", "actual"):
        value = (c[label] or "").strip("\n")
        if "\n" in value:
            lines.append(f"{pad}{label}:")
            lines.extend(pad + "  " + line for line in value.splitlines())
        elif value:
            lines.extend(_wrap(f"{label + ':':9} {value}", pad))
    if c["look_alike"]:
        lines.extend(_wrap(c["look_alike"], pad))
    if c["deviation"]:
        lines.extend(_wrap(c["deviation"], pad))
    for m in c["mistakes"]:
        lines.extend(_wrap(f"recognised mistake: {m['title']} — {m['explanation']} "
                           f"How to fix: {m['fix']}", pad))
    if c["hint"]:
        lines.extend(_wrap("hint: " + c["hint"], pad))
    if c["withheld_note"]:
        lines.extend(_wrap(c["withheld_note"], pad))
    return lines


def _header(r: Mapping[str, Any]) -> list[str]:
    """What the public checks say about the grade, in words a student reads right: how many
    passed, how many of the automatic points they cover (not a score out of the total,
    which would read 6 / 100 with every public check passed), and that hidden checks decide
    the grade."""
    checks = [c for task in r["tasks"] for c in task["checks"]]
    automatic = sum(t["max_score"] or 0 for t in r["tasks"] if not t["manual"])
    covered = sum(c["max_score"] or 0 for c in checks)
    earned = sum(c["score"] or 0 for c in checks)
    passed = sum(c["status"] == CheckStatus.PASSED for c in checks)
    who = f"{r['assignment']} · {r['submission']}"
    if not checks:
        return [f"{who}: no public check ran."]
    lines = [f"{who} — public checks: {passed} of {len(checks)} passed"]
    you = (f"you earned all {fmt_num(covered)}" if abs(earned - covered) < 1e-9
           else f"you earned {fmt_num(earned)} of those {fmt_num(covered)}")
    if covered < automatic:
        words = (f"They are worth {fmt_num(covered)} of the {fmt_num(automatic)} automatic points"
                 + (f", and {you}." if covered else ".")
                 + " Your grade comes from the hidden checks the teacher runs on what you hand in,"
                 " on more inputs than these: passing every public check does not mean full marks.")
    else:
        words = f"They are worth all {fmt_num(automatic)} automatic points, and {you}."
    lines += _wrap(words, "")
    manual = sum(t["max_score"] or 0 for t in r["tasks"] if t["manual"])
    if manual:
        lines += _wrap(f"{fmt_num(manual)} more points are graded by hand.", "")
    return lines


def _task_line(task: Mapping[str, Any]) -> str:
    """A task's heading: its public checks' points, and what the whole task is worth."""
    head = f"{task['id']} — {task['title']}"
    if task["manual"]:
        return f"{head}: {fmt_num(task['max_score'])} points, graded by hand"
    covered = sum(c["max_score"] or 0 for c in task["checks"])
    earned = sum(c["score"] or 0 for c in task["checks"])
    return (f"{head}: {fmt_num(earned)} of {fmt_num(covered)} public points "
            f"(the task is worth {fmt_num(task['max_score'])})")


def render_check_report(result: dict) -> str:
    """A short plain-text report for ``autograder check``: how many public checks passed and
    what they are worth, each check with ✓/✗/–, and for failures what differed and which
    known mistake it looks like. Plain text (no rich markup), so student strings cannot
    inject console styling."""
    caps = {"output": 0, "handed_in": 0, "field": TERMINAL_FIELD_CAP, "message": TERMINAL_FIELD_CAP}
    r = feedback_context(result, caps, plots=False)
    out = [*_header(r), f"sandbox: {r['sandbox']['layer']} — {r['sandbox']['words']}"]
    if r["sandbox"]["layer"] == "none":
        out.append("WARNING: the code ran WITHOUT any sandbox.")
    for problem in r["problems"]:
        out.extend(_wrap(problem, "  ! "))
    for task in r["tasks"]:
        out += ["", _task_line(task)]
        for c in task["checks"]:
            failed = c["status"] in (CheckStatus.FAILED, CheckStatus.ERROR)
            mark = "✗" if failed else STATUS_ICONS[c["status"]]
            points = f"{fmt_num(c['score'])}/{fmt_num(c['max_score'])}"
            out.append(f"  {mark} {points:>7}  {c['title']}  [{c['id']}]")
            if c["status"] != CheckStatus.PASSED:
                out.extend(_check_details(c))
    counts = r["counts"]
    out += ["", ", ".join(f"{counts.get(s, 0)} {STATUS_WORDS[s]}" for s in STATUS_WORDS)]
    return "\n".join(out) + "\n"

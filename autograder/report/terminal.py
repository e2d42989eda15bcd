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


def render_check_report(result: dict) -> str:
    """A short plain-text report for ``autograder check``: each check with ✓/✗/–, the score
    per task, and for failures what differed and which known mistake it looks like.
    Plain text (no rich markup), so student strings cannot inject console styling."""
    caps = {"output": 0, "handed_in": 0, "field": TERMINAL_FIELD_CAP, "message": TERMINAL_FIELD_CAP}
    r = feedback_context(result, caps, plots=False)
    out = [
        f"{r['assignment']} · {r['submission']}: {fmt_num(r['score'])} / "
        f"{fmt_num(r['max_score'])} points"
        + (" (manual grading pending)" if r["manual_pending"] else ""),
        f"sandbox: {r['sandbox']['layer']} — {r['sandbox']['words']}",
    ]
    if r["sandbox"]["layer"] == "none":
        out.append("WARNING: the code ran WITHOUT any sandbox.")
    for problem in r["problems"]:
        out.extend(_wrap(problem, "  ! "))
    for task in r["tasks"]:
        score = "awaiting manual grading" if task["score"] is None else (
            f"{fmt_num(task['score'])} / {fmt_num(task['max_score'])}")
        out += ["", f"{task['id']} — {task['title']}: {score}"]
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

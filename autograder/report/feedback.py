"""One submission's feedback: the context its templates show, and the HTML and Markdown pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..outcomes import CheckStatus
from ..results import manual_pending
from .markdown import ANSWER_RENDER_CAP, Md, answer_html
from .plots import check_series, drawable, plot_series
from .rendering import render, write_text
from .text import capped, capped_field, clean_text, deviation_line

# GitHub refuses job summaries over 1 MiB; stay clearly below.
MARKDOWN_LIMIT_BYTES = 1_000_000

# Caps on untrusted fields, loosest first; Markdown falls back to tighter caps until it fits.
HTML_CAPS = {"output": 256_000, "handed_in": 256_000, "field": 20_000, "message": 8_000}
MARKDOWN_CAPS = (
    {"output": 60_000, "handed_in": 60_000, "field": 4_000, "message": 2_000},
    {"output": 8_000, "handed_in": 16_000, "field": 1_000, "message": 1_000},
    {"output": 1_000, "handed_in": 4_000, "field": 300, "message": 300},
)

STATUS_ICONS = {
    CheckStatus.PASSED: "✓",
    CheckStatus.FAILED: "✗",
    CheckStatus.ERROR: "!",
    CheckStatus.SKIPPED: "–",
}
MD_ICONS = {
    CheckStatus.PASSED: "✅",
    CheckStatus.FAILED: "❌",
    CheckStatus.ERROR: "⚠️",
    CheckStatus.SKIPPED: "⏭️",
}
STATUS_WORDS = {
    CheckStatus.PASSED: "passed",
    CheckStatus.FAILED: "failed",
    CheckStatus.ERROR: "could not be checked",
    CheckStatus.SKIPPED: "skipped",
}
SANDBOX_WORDS = {
    "bwrap": "isolated with bubblewrap: no network, private file system",
    "unshare": "isolated with Linux namespaces",
    "rlimits": "resource limits only (no file system or network isolation)",
    "none": "NOT sandboxed",
    "unknown": "not recorded: the grader failed before the code reached a sandbox",
}

def _skip_reason(message: str) -> str:
    """"Skipped because …" reads better than "Skipped: skipped because …"."""
    if message.lower().startswith("skipped"):
        return message[:1].upper() + message[1:]
    return "Skipped: " + message if message else "Skipped."


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def withheld_note(check: Mapping[str, Any], disclosure: Mapping[str, Any]) -> str | None:
    """One sentence saying exactly which details a hidden check keeps back, and until when.

    ``withheld`` (see ``CheckOutcome.as_dict``) lists the detail fields that were dropped and
    that the message does not quote word for word. The message may still quote part of a
    value, so values are "full" values; a largest difference shown for a single value shows
    the value itself, and for an array one entry of each, which the note says."""
    withheld = set(check.get("withheld") or [])
    if not withheld or check.get("status") == CheckStatus.PASSED:
        return None
    deviation = check.get("deviation")
    items = ["the exact call"] if "called" in withheld else []
    values = [words for name, words in (("expected", "the full expected value"),
                                        ("actual", "the full value your code returned"))
              if name in withheld]
    if deviation and clean_text(deviation.get("where")) == "the value":
        values = []  # the largest difference of a single value is that value
    items += values
    if "deviation" in withheld:
        items.append("where the values differ most")
    if "series" in withheld:
        items.append("its plots")
    if not items:
        return None
    note = f"This hidden check does not show {_listed(items)}."
    if deviation and values:
        note += " Of the values, it shows only the entry where they differ most."
    if check.get("visibility") == "after_due_date":
        due = disclosure.get("due")
        note += (f" It shows everything after the due date ({clean_text(due)})." if due
                 else " It shows everything after the due date.")
    return note


LOOK_ALIKE = ("The expected value and yours look the same at the digits shown, but differ beyond "
              "them or in entries not shown.")


def look_alike(check: Mapping[str, Any]) -> str | None:
    """A sentence for a check that failed with expected and actual texts alike: a suite that
    renders them one at a time (``checks.describe`` rather than ``describe_pair``) can round
    a difference away, and the page must not leave the student staring at two equal values."""
    expected, actual = (" ".join(clean_text(check.get(k)).split()) for k in ("expected", "actual"))
    if check.get("status") == CheckStatus.FAILED and expected and expected == actual:
        return LOOK_ALIKE
    return None


def _check_view(check: Mapping[str, Any], caps: Mapping[str, int], plots: bool,
                disclosure: Mapping[str, Any]) -> dict:
    series = check_series(check)
    pictures = [s for s in series if drawable(s)]
    message = capped_field(check.get("message") or "", caps["message"]) or ""
    return {
        "id": str(check["id"]),
        "task": check["task"],
        "title": capped_field(check["title"], caps["message"]),
        "status": check["status"],
        "icon": STATUS_ICONS.get(check["status"], "?"),
        "md_icon": Md(MD_ICONS.get(check["status"], "?")),
        "status_word": STATUS_WORDS.get(check["status"], check["status"]),
        "score": check["score"],
        "max_score": check["max_score"],
        "message": message,
        "multiline": "\n" in message.strip("\n"),
        "reason": _skip_reason(message),
        "hint": capped_field(check.get("hint"), caps["message"]),
        "called": capped_field(check.get("called"), caps["field"]),
        "expected": capped_field(check.get("expected"), caps["field"]),
        "actual": capped_field(check.get("actual"), caps["field"]),
        "look_alike": look_alike(check),
        "deviation": deviation_line(check.get("deviation")),
        "mistakes": [
            {k: capped_field(m[k], caps["message"]) for k in ("id", "title", "explanation", "fix")}
            for m in check.get("mistakes") or []
        ],
        "visibility": check.get("visibility", "visible"),
        "withheld_note": withheld_note(check, disclosure),
        "depends": list(check.get("depends") or []),
        # Only series worth a picture are plots; a one-step one is named, not drawn empty.
        "series_titles": [clean_text(s.get("title", "")) for s in pictures],
        "undrawn": [clean_text(s.get("title", "")) for s in series if s not in pictures],
        "plots": (
            [{"title": clean_text(s.get("title", "")), "uri": plot_series(s)} for s in pictures]
            if plots
            else []
        ),
    }


def _tasks_with_checks(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Tasks in their order, plus a group for checks of a task the result does not list."""
    tasks = [dict(t) for t in result.get("tasks", [])]
    known = {t["id"] for t in tasks}
    for check in result.get("checks", []):
        if check["task"] not in known:
            known.add(check["task"])
            tasks.append(
                {"id": check["task"], "title": check["task"], "score": None,
                 "max_score": 0, "manual": False}
            )
    return tasks


def feedback_context(
    result: Mapping[str, Any], caps: Mapping[str, int], *, plots: bool
) -> dict[str, Any]:
    """Everything the feedback templates show, with every optional field filled in and
    every untrusted string cleaned and capped, so templates stay simple and strict."""
    disclosure = result.get("disclosure") or {}
    checks = [_check_view(c, caps, plots, disclosure) for c in result.get("checks", [])]
    tasks = []
    for task in _tasks_with_checks(result):
        own = [c for c in checks if c["task"] == task["id"]]
        output = task.get("output") or {}
        streams = [
            {"name": name, **capped(output.get(name), caps["output"], keep_tail=True),
             "lines": clean_text(output.get(name)).rstrip("\n").count("\n") + 1}
            for name in ("stdout", "stderr")
            if clean_text(output.get(name)).strip()
        ]
        tasks.append(
            {
                "id": task["id"],
                "title": clean_text(task["title"]),
                "score": task.get("score"),
                "max_score": task.get("max_score", 0),
                "manual": bool(task.get("manual")),
                "checks": own,
                "counts": dict(Counter(c["status"] for c in own)),
                "streams": streams,
                "output_truncated": bool(output.get("truncated")),
                "answer": _answer_view(task, caps) if task.get("manual") else None,
            }
        )
    sandbox = result.get("sandbox") or {}
    layer = sandbox.get("layer", "none")
    max_score = result.get("max_score") or 0
    return {
        "submission": clean_text(result.get("submission")),
        "assignment": clean_text(result.get("assignment")),
        "kit_version": clean_text(result.get("kit_version")),
        "score": result.get("score", 0),
        "max_score": max_score,
        "percent": round(100 * result.get("score", 0) / max_score) if max_score else 0,
        "manual_pending": manual_pending(result),
        "problems": [capped_field(p, caps["message"]) for p in result.get("problems") or []],
        "sandbox": {
            "layer": layer,
            "words": SANDBOX_WORDS.get(layer, layer),
            "detail": capped_field(sandbox.get("detail", ""), caps["message"]),
            "warm": sandbox.get("warm"),
        },
        "tasks": tasks,
        "counts": dict(Counter(c["status"] for c in checks)),
        "n_checks": len(checks),
        "n_plots": sum(len(c["series_titles"]) for c in checks),
        "any_output": any(t["streams"] for t in tasks),
        "environment": {clean_text(k): clean_text(v) for k, v in
                        (result.get("environment") or {}).items()},
        "seeds": dict(result.get("seeds") or {}),
    }


def _answer_view(task: Mapping[str, Any], caps: Mapping[str, int]) -> dict[str, Any]:
    """What a student handed in for a task graded by hand, and the teacher's comment."""
    answer = task.get("answer") if isinstance(task.get("answer"), dict) else {}
    text = answer.get("text")
    shown = capped(text, caps["handed_in"])
    return {
        "present": text is not None,
        **shown,
        "html": answer_html(shown["text"]) if text is not None else None,
        "render_cap": f"{ANSWER_RENDER_CAP:,}",
        "comment": capped_field(answer.get("comment"), caps["message"]),
        "files": [clean_text(f) for f in task.get("files") or []],
    }


def render_feedback_markdown(result: Mapping[str, Any]) -> str:
    """The feedback as Markdown for a GitHub job summary, tightened until under the limit."""
    for level, caps in enumerate(MARKDOWN_CAPS):
        text = render("feedback.md.j2", r=feedback_context(result, caps, plots=False),
                       brief=False, tightened=level > 0)
        if len(text.encode("utf-8")) <= MARKDOWN_LIMIT_BYTES:
            return text
    text = render("feedback.md.j2", r=feedback_context(result, MARKDOWN_CAPS[-1], plots=False),
                   brief=True, tightened=True)
    encoded = text.encode("utf-8")
    if len(encoded) <= MARKDOWN_LIMIT_BYTES:
        return text
    # Brief mode has no fenced blocks, so cutting at a line boundary leaves valid Markdown.
    note = "\n\n*The rest of this summary was cut to fit; see feedback.html.*\n"
    head = encoded[: MARKDOWN_LIMIT_BYTES - len(note.encode("utf-8"))].decode("utf-8", "ignore")
    return head[: head.rfind("\n") + 1] + note


def render_feedback_html(result: Mapping[str, Any]) -> str:
    """The feedback as one self-contained HTML page (inline CSS and images, no scripts)."""
    return render("feedback.html.j2", r=feedback_context(result, HTML_CAPS, plots=True))


def render_feedback(result: dict, out_dir: Path) -> None:
    """Write ``feedback.html`` and ``feedback.md`` for one submission into ``out_dir``."""
    out_dir = Path(out_dir)
    write_text(out_dir / "feedback.html", render_feedback_html(result))
    write_text(out_dir / "feedback.md", render_feedback_markdown(result))

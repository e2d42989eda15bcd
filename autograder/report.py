"""Feedback for students and class overviews for the teacher, rendered from result dicts.

Everything a submission controls (its name, what its code printed, what it handed in for a
task graded by hand, values quoted in messages) is treated as hostile. It is only ever passed
to templates as data, never used as a template. HTML templates are autoescaped. Markdown
templates escape every expression by default (see ``_finalize``), and untrusted multi-line text
only appears inside fenced blocks longer than any backtick run in it, with GitHub workflow
commands defused.
"""

from __future__ import annotations

import base64
import csv
import functools
import html
import io
import math
import re
import statistics
import textwrap
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext

from .results import manual_pending
from .sanitise import as_float

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# GitHub refuses job summaries over 1 MiB; stay clearly below.
MARKDOWN_LIMIT_BYTES = 1_000_000

# Caps on untrusted fields, loosest first; Markdown falls back to tighter caps until it fits.
HTML_CAPS = {"output": 256_000, "handed_in": 256_000, "field": 20_000, "message": 8_000}
MARKDOWN_CAPS = (
    {"output": 60_000, "handed_in": 60_000, "field": 4_000, "message": 2_000},
    {"output": 8_000, "handed_in": 16_000, "field": 1_000, "message": 1_000},
    {"output": 1_000, "handed_in": 4_000, "field": 300, "message": 300},
)
TERMINAL_FIELD_CAP = 1_200

STATUS_ICONS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}
MD_ICONS = {"passed": "✅", "failed": "❌", "error": "⚠️", "skipped": "⏭️"}
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "could not be checked",
    "skipped": "skipped",
}
SANDBOX_WORDS = {
    "bwrap": "isolated with bubblewrap: no network, private file system",
    "unshare": "isolated with Linux namespaces",
    "rlimits": "resource limits only (no file system or network isolation)",
    "none": "NOT sandboxed",
    "unknown": "not recorded: the grader failed before the code reached a sandbox",
}
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------- plain text


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: Any) -> str:
    """Untrusted text without terminal escapes or control characters (tabs and newlines
    stay), so it cannot repaint a terminal or break a file format."""
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ANSI.sub("", text))


def truncate(text: str, limit: int, *, keep_tail: bool = False) -> tuple[str, int]:
    """``text`` cut to about ``limit`` characters and how many were cut. With ``keep_tail``
    the end survives too, because the last lines of program output hold the error."""
    if len(text) <= limit:
        return text, 0
    cut = len(text) - limit
    if not keep_tail:
        return text[:limit], cut
    head = text[: limit * 2 // 3]
    tail = text[len(text) - (limit - len(head)) :]
    marker = f"\n[… {cut:,} characters cut here …]\n"
    return head + marker + tail, cut


def fmt_num(value: Any) -> str:
    """A score or count as people write it: 12, 12.5, 0.33; "—" when unknown."""
    if value is None:
        return "—"
    number = as_float(value)  # "inf" and "nan" as a sanitised result stores them
    if not math.isfinite(number):
        return str(number)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _fmt_value(value: Any, spec: str = ".6g") -> str:
    """A number from a result in ``spec``: ``"inf"`` and ``"nan"`` (how non-finite values
    are stored) are shown as such, None as not finite."""
    if value is None:
        return "a value that is not finite (NaN or infinity)"
    number = as_float(value)
    return format(number, spec) if math.isfinite(number) else str(number)


def _fmt_rel(rel: Any) -> str:
    number = as_float(rel)
    if not math.isfinite(number):
        return str(number)
    return f"{number * 100:.3g}%" if number >= 0.01 else f"{number:.2e}"


def deviation_line(deviation: Mapping[str, Any] | None) -> str | None:
    """One sentence on where expected and actual differ most, or None without data."""
    if not deviation:
        return None
    where = clean_text(deviation.get("where")) or "one entry"
    parts = [
        f"Largest difference at {where}: expected {_fmt_value(deviation.get('expected'))}, "
        f"got {_fmt_value(deviation.get('actual'))}"
    ]
    if deviation.get("abs_error") is not None:
        parts.append(f"absolute error {_fmt_value(deviation['abs_error'], '.3g')}")
    if deviation.get("rel_error") is not None:
        parts.append(f"relative error {_fmt_rel(deviation['rel_error'])}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- markdown


class Md(str):
    """Markdown that is already safe to emit verbatim (made by this module's filters)."""


# Characters that are markup anywhere in a line; the rest only matter at its start.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&$@])")
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def md_inline(text: Any) -> Md:
    """Untrusted text as one line of literal Markdown: markup characters are
    backslash-escaped (also ``|`` for tables, ``<`` against raw HTML, list and heading
    markers at the start) and ``::`` is broken so the line is never a workflow command."""
    flat = " ".join(clean_text(text).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", flat).replace("::", ":\\:")
    if match := _MD_LINE_START.match(escaped):
        marker = match.group(1)
        escaped = (f"{marker}\\" if marker[0].isdigit() else f"\\{marker}") + escaped[
            len(marker) :
        ]
    return Md(escaped)


def md_code(text: Any) -> Md:
    """Untrusted text as an inline code span that no backtick inside can close."""
    flat = " ".join(clean_text(text).split()).replace("|", "\\|")
    if not flat:
        return Md("")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return Md(f"{fence}{pad}{flat}{pad}{fence}")


def _defuse_commands(text: str) -> str:
    """Break ``::command`` at a line start and ``##[command]`` anywhere with a zero-width
    space, so printing the report in a CI log runs no workflow command."""
    text = re.sub(r"(?m)^(\s*):(?=:)", "\\1:\u200b", text)
    return text.replace("##[", "#\u200b#[")


def md_fence(text: Any, info: str = "text") -> Md:
    """Untrusted multi-line text as a fenced block whose fence is longer than any backtick
    run inside, so nothing in it is read as Markdown or HTML."""
    body = _defuse_commands(clean_text(text)).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Md(f"{fence}{info}\n{body}\n{fence}")


def md_text(text: Any) -> Md:
    """A message: one escaped line, or a fenced block when it spans several lines."""
    cleaned = clean_text(text).strip("\n")
    return md_fence(cleaned) if "\n" in cleaned else md_inline(cleaned)


@pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    """Escape every ``{{ }}`` in Markdown templates unless a filter already made it safe;
    HTML templates rely on Jinja's autoescape instead."""
    if eval_ctx.autoescape or isinstance(value, Md):
        return value
    if isinstance(value, bool) or value is None:
        return md_inline(str(value))
    if isinstance(value, (int, float)):
        return Md(fmt_num(value))
    return md_inline(value)


@functools.cache
def _environment() -> Environment:
    """One Jinja2 environment for every report: strict, autoescaped for HTML."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "htm")),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=lambda v: Md(fmt_num(v)),
        code=md_code,
        fence=md_fence,
        mdtext=md_text,
        md=md_inline,
        pct=lambda part, whole: fmt_num(100 * part / whole) if whole else "0",
    )
    return env


# --------------------------------------------------------------------------- plots


def _mpl_text(text: Any) -> str:
    """Text for matplotlib with ``$`` escaped, so no label is parsed as mathtext."""
    return clean_text(text).replace("$", r"\$")


def _png_data_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    # No "Software" entry and no timestamps: the same data gives the same bytes.
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure() -> tuple[Any, Any]:
    """A small figure drawn by Agg directly, without pyplot's global state."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.grid(True, color="#e3e6ea", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


MAX_PLOT_POINTS = 20_000  # per line; a report plot shows a few hundred steps at most
PLOT_RANGE = 1e150  # beyond this matplotlib's transforms overflow; such points are left out


def _plottable(values: Any) -> list[float]:
    """Numbers to draw: non-finite, unreadable and astronomically large ones become gaps."""
    if not isinstance(values, list):
        return []
    numbers = (as_float(v) if v is not None else math.nan for v in values[:MAX_PLOT_POINTS])
    return [v if math.isfinite(v) and abs(v) < PLOT_RANGE else math.nan for v in numbers]


def plot_series(series: Mapping[str, Any]) -> str | None:
    """A check's ``series`` item drawn as a PNG data URI; None if it cannot be drawn."""
    try:
        figure, axes = _new_figure()
        drawn = False
        for index, line in enumerate(series.get("lines", [])[:12]):
            ys, xs = _plottable(line.get("y")), _plottable(line.get("x"))
            if len(xs) != len(ys):
                xs = list(range(len(ys)))
            if series.get("log_y"):
                ys = [y if y > 0 else math.nan for y in ys]
            label = _mpl_text(line.get("label", ""))
            kind = line.get("kind", "curve")
            if kind == "guide":  # level curves, a target value: context, drawn faint
                axes.plot(xs, ys, ":", color="#8a9099", linewidth=0.9, label=label)
            elif kind == "path":  # one point per step, so the steps themselves show
                axes.plot(xs, ys, "-o", markersize=3, linewidth=0.9, label=label)
            else:
                axes.plot(xs, ys, "-" if index == 0 else "--", linewidth=1.6, label=label)
            drawn = drawn or any(math.isfinite(y) for y in ys)
        if series.get("log_y") and drawn:
            axes.set_yscale("log")
        for name, setter in (("xlim", axes.set_xlim), ("ylim", axes.set_ylim)):
            limits = _plottable(series.get(name))
            if len(limits) == 2 and all(map(math.isfinite, limits)) and limits[0] < limits[1]:
                setter(*limits)
        axes.set_title(_mpl_text(series.get("title", "")), fontsize=10)
        axes.set_xlabel(_mpl_text(series.get("xlabel", "")), fontsize=9)
        axes.set_ylabel(_mpl_text(series.get("ylabel", "")), fontsize=9)
        axes.tick_params(labelsize=8)
        if series.get("lines"):
            axes.legend(fontsize=8, frameon=False)
        return _png_data_uri(figure)
    except Exception:  # a broken plot must not cost the student the whole report
        return None


def plot_histogram(scores: list[float], max_score: float) -> str | None:
    """The class's score distribution as a PNG data URI."""
    if not scores:
        return None
    figure, axes = _new_figure()
    top = max(max_score, max(scores), 1.0)
    axes.hist(scores, bins=10, range=(0, top), color="#4c78a8", edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_title("Scores", fontsize=10)
    axes.set_xlabel("points", fontsize=9)
    axes.set_ylabel("submissions", fontsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(labelsize=8)
    return _png_data_uri(figure)


# --------------------------------------------------------------------------- feedback


def _capped(text: Any, limit: int, *, keep_tail: bool = False) -> dict[str, Any]:
    body, cut = truncate(clean_text(text), limit, keep_tail=keep_tail)
    return {"text": body, "cut": cut}


def _field(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    body, cut = truncate(clean_text(value), limit)
    return body + (f"\n[… {cut:,} more characters not shown]" if cut else "")


def _skip_reason(message: str) -> str:
    """"Skipped because …" reads better than "Skipped: skipped because …"."""
    if message.lower().startswith("skipped"):
        return message[:1].upper() + message[1:]
    return "Skipped: " + message if message else "Skipped."


WITHHELD_WORDS = {"called": "the exact call", "expected": "the expected value",
                  "actual": "your code's value", "deviation": "the largest deviation",
                  "series": "its plots"}


def withheld_note(check: Mapping[str, Any], disclosure: Mapping[str, Any]) -> str | None:
    """One sentence saying which details a hidden check keeps back, and until when."""
    withheld = [WITHHELD_WORDS[w] for w in check.get("withheld") or [] if w in WITHHELD_WORDS]
    if not withheld or check.get("status") == "passed":
        return None
    what = withheld[0] if len(withheld) == 1 else ", ".join(withheld[:-1]) + " or " + withheld[-1]
    note = f"This hidden check does not show {what}."
    if check.get("visibility") == "after_due_date":
        due = disclosure.get("due")
        note += f" They are shown after the due date ({clean_text(due)})." if due else (
            " They are shown after the due date.")
    return note


def _check_view(check: Mapping[str, Any], caps: Mapping[str, int], plots: bool,
                disclosure: Mapping[str, Any]) -> dict:
    series = check.get("series") or []
    message = _field(check.get("message") or "", caps["message"]) or ""
    return {
        "id": str(check["id"]),
        "task": check["task"],
        "title": _field(check["title"], caps["message"]),
        "status": check["status"],
        "icon": STATUS_ICONS.get(check["status"], "?"),
        "md_icon": Md(MD_ICONS.get(check["status"], "?")),
        "status_word": STATUS_WORDS.get(check["status"], check["status"]),
        "score": check["score"],
        "max_score": check["max_score"],
        "message": message,
        "multiline": "\n" in message.strip("\n"),
        "reason": _skip_reason(message),
        "hint": _field(check.get("hint"), caps["message"]),
        "called": _field(check.get("called"), caps["field"]),
        "expected": _field(check.get("expected"), caps["field"]),
        "actual": _field(check.get("actual"), caps["field"]),
        "deviation": deviation_line(check.get("deviation")),
        "mistakes": [
            {k: _field(m[k], caps["message"]) for k in ("id", "title", "explanation", "fix")}
            for m in check.get("mistakes") or []
        ],
        "visibility": check.get("visibility", "visible"),
        "withheld_note": withheld_note(check, disclosure),
        "depends": list(check.get("depends") or []),
        "series_titles": [clean_text(s.get("title", "")) for s in series],
        "plots": (
            [{"title": clean_text(s.get("title", "")), "uri": plot_series(s)} for s in series]
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
            {"name": name, **_capped(output.get(name), caps["output"], keep_tail=True),
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
        "problems": [_field(p, caps["message"]) for p in result.get("problems") or []],
        "sandbox": {
            "layer": layer,
            "words": SANDBOX_WORDS.get(layer, layer),
            "detail": _field(sandbox.get("detail", ""), caps["message"]),
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
    return {
        "present": text is not None,
        **_capped(text, caps["handed_in"]),
        "comment": _field(answer.get("comment"), caps["message"]),
        "files": [clean_text(f) for f in task.get("files") or []],
    }


def _render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)


def write_text(path: Path, text: str) -> None:
    """Write a report file as UTF-8 with Unix line ends, making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def render_feedback_markdown(result: Mapping[str, Any]) -> str:
    """The feedback as Markdown for a GitHub job summary, tightened until under the limit."""
    for level, caps in enumerate(MARKDOWN_CAPS):
        text = _render("feedback.md.j2", r=feedback_context(result, caps, plots=False),
                       brief=False, tightened=level > 0)
        if len(text.encode("utf-8")) <= MARKDOWN_LIMIT_BYTES:
            return text
    text = _render("feedback.md.j2", r=feedback_context(result, MARKDOWN_CAPS[-1], plots=False),
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
    return _render("feedback.html.j2", r=feedback_context(result, HTML_CAPS, plots=True))


def render_feedback(result: dict, out_dir: Path) -> None:
    """Write ``feedback.html`` and ``feedback.md`` for one submission into ``out_dir``."""
    out_dir = Path(out_dir)
    write_text(out_dir / "feedback.html", render_feedback_html(result))
    write_text(out_dir / "feedback.md", render_feedback_markdown(result))


# --------------------------------------------------------------------------- summary


def task_columns(results: Iterable[Mapping[str, Any]]) -> list[str]:
    """Task ids across all results, in the order they first appear."""
    return list(dict.fromkeys(t["id"] for r in results for t in r.get("tasks", [])))


def csv_text_cell(value: Any) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP: lead with a quote)."""
    text = clean_text(value).replace("\n", " ")
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def mistake_table(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each named mistake with how many submissions made it and which, most common first.
    A submission counts once per mistake even if several checks recognised it."""
    found: dict[str, dict[str, Any]] = {}
    for result in results:
        for check in result.get("checks", []):
            for mistake in check.get("mistakes") or []:
                entry = found.setdefault(
                    mistake["id"], {"id": mistake["id"], "title": mistake["title"],
                                    "submissions": [], "checks": []}
                )
                if result["submission"] not in entry["submissions"]:
                    entry["submissions"].append(result["submission"])
                if check["id"] not in entry["checks"]:
                    entry["checks"].append(check["id"])
    table = [{**e, "submissions": sorted(e["submissions"]), "count": len(e["submissions"])}
             for e in found.values()]
    return sorted(table, key=lambda e: (-e["count"], e["id"]))


def check_table(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per check: how many submissions passed, failed, errored or skipped it."""
    table: dict[str, dict[str, Any]] = {}
    for result in results:
        for check in result.get("checks", []):
            entry = table.setdefault(
                check["id"],
                {"id": check["id"], "title": clean_text(check["title"]), "task": check["task"],
                 "passed": 0, "failed": 0, "error": 0, "skipped": 0, "total": 0},
            )
            entry[check["status"]] = entry.get(check["status"], 0) + 1
            entry["total"] += 1
    for entry in table.values():
        entry["rate"] = round(100 * entry["passed"] / entry["total"]) if entry["total"] else 0
    return list(table.values())


def summary_context(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Everything the class overview shows, computed once in Python."""
    ordered = sorted(results, key=lambda r: str(r["submission"]))
    columns = task_columns(ordered)
    titles: dict[str, str] = {}
    for result in ordered:
        for task in result.get("tasks", []):
            titles.setdefault(task["id"], clean_text(task["title"]))
    scores = [float(r["score"]) for r in ordered]
    max_scores = Counter(float(r["max_score"]) for r in ordered)
    max_score = max_scores.most_common(1)[0][0] if max_scores else 0.0
    rows = []
    for result in ordered:
        by_task = {t["id"]: t for t in result.get("tasks", [])}
        errors = [c for c in result.get("checks", []) if c["status"] == "error"]
        layer = (result.get("sandbox") or {}).get("layer", "none")
        rows.append(
            {
                "name": clean_text(result["submission"]),
                "href": urllib.parse.quote(str(result["submission"]), safe="") + "/feedback.html",
                "score": result["score"],
                "max_score": result["max_score"],
                "tasks": {
                    tid: {"score": by_task[tid].get("score"),
                          "max_score": by_task[tid].get("max_score"),
                          "manual": bool(by_task[tid].get("manual"))}
                    if tid in by_task else None
                    for tid in columns
                },
                "manual_pending": manual_pending(result),
                "problems": [clean_text(p) for p in result.get("problems") or []],
                "errors": [{"id": c["id"], "message": _field(c.get("message", ""), 300)}
                           for c in errors],
                "grader_failure": _field(result.get("grader_failure"), 2000),
                "review": [_field(note, 2000) for note in result.get("review") or []],
                "failed": sum(c["status"] == "failed" for c in result.get("checks", [])),
                "layer": layer,
                "wall_s": (result.get("timing") or {}).get("wall_s"),
            }
        )
    timed = [r for r in rows if isinstance(r["wall_s"], (int, float))]
    return {
        "n": len(ordered),
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None,
        "max_score": max_score,
        "histogram": plot_histogram(scores, max_score),
        "columns": columns,
        "titles": titles,
        "rows": rows,
        "checks": check_table(ordered),
        "mistakes": [
            {**m, "title": clean_text(m["title"]),
             "submissions": [clean_text(s) for s in m["submissions"]]}
            for m in mistake_table(ordered)
        ],
        "slowest": sorted(timed, key=lambda r: (-r["wall_s"], r["name"]))[:10],
        "trouble": [r for r in rows if r["problems"] or r["errors"]],
        "attention": [r for r in rows if r["grader_failure"] or r["review"]],
        "layers": sorted(Counter(r["layer"] for r in rows).items()),
        "unsandboxed": [r["name"] for r in rows if r["layer"] == "none"],
        "manual_pending": sum(r["manual_pending"] for r in rows),
        "assignments": sorted({clean_text(r.get("assignment", "")) for r in ordered}),
    }


def _csv_number(value: Any) -> str:
    return "" if value is None else fmt_num(value)


def write_grades_csv(results: list[Mapping[str, Any]], path: Path) -> None:
    """grades.csv: one row per submission, task columns in the order tasks appear."""
    columns = task_columns(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["submission", "score", "max_score", *columns, "manual_pending",
                         "problems", "grader_failure", "review"])
        for result in sorted(results, key=lambda r: str(r["submission"])):
            by_task = {t["id"]: t.get("score") for t in result.get("tasks", [])}
            writer.writerow(
                [
                    csv_text_cell(result["submission"]),
                    _csv_number(result["score"]),
                    _csv_number(result["max_score"]),
                    *(_csv_number(by_task.get(tid)) for tid in columns),
                    "true" if manual_pending(result) else "false",
                    csv_text_cell("; ".join(result.get("problems") or [])),
                    csv_text_cell(result.get("grader_failure") or ""),
                    csv_text_cell("; ".join(result.get("review") or [])),
                ]
            )


def write_mistakes_csv(results: list[Mapping[str, Any]], path: Path) -> None:
    """mistakes.csv: each named mistake, how many submissions made it, and which."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["mistake_id", "title", "count", "submissions"])
        for entry in mistake_table(results):
            writer.writerow(
                [
                    csv_text_cell(entry["id"]),
                    csv_text_cell(entry["title"]),
                    entry["count"],
                    csv_text_cell(";".join(entry["submissions"])),
                ]
            )


def render_summary(results: list[dict], out_dir: Path) -> None:
    """Write the class overview ``summary.html``, ``grades.csv`` and ``mistakes.csv``.

    The tables come first, being the simplest; if the overview page cannot be rendered, a
    plain page that lists the submissions and says why takes its place."""
    out_dir = Path(out_dir)
    write_grades_csv(results, out_dir / "grades.csv")
    write_mistakes_csv(results, out_dir / "mistakes.csv")
    try:
        page = _render("summary.html.j2", s=summary_context(results))
    except Exception as exc:
        page = _plain_summary(results, f"{type(exc).__name__}: {clean_text(exc)[:300]}")
    write_text(out_dir / "summary.html", page)


def _plain_summary(results: list[dict], reason: str) -> str:
    """A bare class overview: every submission with its score, and why the full one failed."""
    rows = "".join(
        f"<tr><td>{html.escape(clean_text(r.get('submission')))}</td>"
        f"<td>{html.escape(fmt_num(r.get('score')))}</td>"
        f"<td>{html.escape(clean_text(r.get('grader_failure') or ''))}</td></tr>\n"
        for r in results
    )
    return ("<!DOCTYPE html>\n<html lang=\"en\"><meta charset=\"utf-8\"><title>class overview</title>\n"
            f"<p>The full overview could not be drawn ({html.escape(reason)}); grades.csv has "
            "every column.</p>\n<table><tr><th>Submission</th><th>Score</th><th>Grader failure</th></tr>\n"
            f"{rows}</table>\n")


# --------------------------------------------------------------------------- terminal


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
    lines = _wrap(c["reason"] if c["status"] == "skipped" else c["message"], pad)
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
            mark = "✗" if c["status"] in ("failed", "error") else STATUS_ICONS[c["status"]]
            points = f"{fmt_num(c['score'])}/{fmt_num(c['max_score'])}"
            out.append(f"  {mark} {points:>7}  {c['title']}  [{c['id']}]")
            if c["status"] != "passed":
                out.extend(_check_details(c))
    counts = r["counts"]
    out += ["", ", ".join(f"{counts.get(s, 0)} {STATUS_WORDS[s]}" for s in STATUS_WORDS)]
    return "\n".join(out) + "\n"

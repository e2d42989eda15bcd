"""The class overview for the teacher: its page, ``grades.csv`` and ``mistakes.csv``."""

from __future__ import annotations

import csv
import html
import statistics
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..outcomes import CheckStatus
from ..results import manual_pending
from .plots import plot_histogram
from .rendering import render, write_text
from .text import capped_field, clean_text, fmt_num

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
                 **dict.fromkeys(map(str, CheckStatus), 0), "total": 0},
            )
            entry[check["status"]] = entry.get(check["status"], 0) + 1
            entry["total"] += 1
    for entry in table.values():
        entry["rate"] = round(100 * entry[CheckStatus.PASSED] / entry["total"]) if entry["total"] else 0
    return list(table.values())


def is_load_failure(check: Mapping[str, Any]) -> bool:
    """Whether ``check`` is a task's ``loads`` check (``checks.loads_check``) that did not
    pass: the task's file or cells did not even load, so nothing else of it was checked."""
    return (check.get("id") == f"{check.get('task')}.loads"
            and check.get("status") in (CheckStatus.FAILED, CheckStatus.ERROR))


def has_trouble(row: Mapping[str, Any]) -> bool:
    """Whether a submission's row counts as having problems: a problem with its files, a
    file that did not load, a check that could not judge it, or the grader failing on it."""
    return bool(row["problems"] or row["load_failures"] or row["errors"] or row["grader_failure"])


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
        loads = [c for c in result.get("checks", []) if is_load_failure(c)]
        errors = [c for c in result.get("checks", [])
                  if c["status"] == CheckStatus.ERROR and c not in loads]
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
                "errors": [{"id": c["id"], "message": capped_field(c.get("message", ""), 300)}
                           for c in errors],
                "load_failures": [{"id": c["id"], "message": capped_field(c.get("message", ""), 300)}
                                  for c in loads],
                "grader_failure": capped_field(result.get("grader_failure"), 2000),
                "review": [capped_field(note, 2000) for note in result.get("review") or []],
                "failed": sum(c["status"] == CheckStatus.FAILED for c in result.get("checks", [])),
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
        "trouble": [r for r in rows if has_trouble(r)],
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
        page = render("summary.html.j2", s=summary_context(results))
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

"""Write a batch's results: per submission ``result.json`` and feedback, then the summary.

Each result is written as soon as it is ready (atomically), so a crash later in the batch
never loses a finished student's grade. A result whose reports cannot be rendered or
written is replaced by a grader-failure result for that submission; the batch goes on.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .report import feedback
from .report.rendering import write_text
from .report.summary import render_summary
from .results import failure_result, manual_pending, total_score
from .sanitise import describe_error
from .submission import RESERVED_NAMES


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False, allow_nan=False)
            handle.write("\n")
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def submission_folder(out_dir: Path, name: Any) -> Path:
    """``out_dir/<name>``, refusing a name that is not one plain folder beside the batch's
    own files (``discover`` never makes such names; this guards against any other caller)."""
    text = str(name)
    if (not text or text in (".", "..") or "/" in text or "\0" in text
            or text.casefold() in {n.casefold() for n in RESERVED_NAMES}):
        raise ValueError(f"{text!r} cannot be a submission's folder name")
    return out_dir / text


def write_submission(out_dir: Path, result: dict[str, Any]) -> dict[str, Any]:
    """``result.json``, ``feedback.html`` and ``feedback.md`` in ``out_dir/<submission>``;
    returns the result written, which is a grader-failure result if the reports failed, and
    one that says so if not even its result.json could be written (the batch's files, written
    from the returned results, then flag the submission instead of listing its lost grade)."""
    folder = submission_folder(out_dir, result.get("submission"))
    try:
        _write_all(folder, result)
        return result
    except Exception as exc:  # the reports of one submission must not stop the batch
        failed = failure_result(result, f"writing its reports: {describe_error(exc)}")
    try:
        _write_all(folder, failed)
    except Exception:  # even the plain failure report fails: keep at least its result.json
        try:
            write_json(folder / "result.json", failed)
        except OSError as exc:
            return failure_result(result, f"writing its files (none were written): {describe_error(exc)}")
    return failed


def _write_all(folder: Path, result: dict[str, Any]) -> None:
    """Render everything first, then write: a rendering error leaves no half-written set."""
    html, markdown = feedback.render_feedback_html(result), feedback.render_feedback_markdown(result)
    json.dumps(result, allow_nan=False)  # raises here, before any file changes
    write_text(folder / "feedback.html", html)
    write_text(folder / "feedback.md", markdown)
    write_json(folder / "result.json", result)


def load_results(out_dir: Path, problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Every readable ``result.json`` under ``out_dir``, in name order; each unreadable one
    is named in ``problems`` and left out."""
    results = []
    for path in sorted(out_dir.glob("*/result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(result, dict) or not isinstance(result.get("submission"), str):
                raise ValueError("it is not a grading result")
            results.append(result)
        except (OSError, ValueError) as exc:
            if problems is not None:
                problems.append(f"{path.relative_to(out_dir)} left out: {exc}")
    return results


def apply_manual_scores(out_dir: Path, csv_path: Path, task: str | None = None) -> list[str]:
    """Merge a teacher's CSV (``submission,score[,comment]``, plus a ``task`` column when
    the assignment has several tasks graded by hand, or ``task`` given for every row) into
    the results and re-render them.

    Returns a list of problems (unknown submissions or tasks, bad numbers) in plain words.
    """
    problems: list[str] = []
    results = {r["submission"]: r for r in load_results(out_dir, problems)}
    changed: set[str] = set()
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            name = (row.get("submission") or "").strip()
            result = results.get(name)
            if result is None:
                problems.append(f"line {line}: no graded submission named {name!r}")
                continue
            manual = [t for t in result["tasks"] if t.get("manual")]
            wanted = task or (row.get("task") or "").strip() or None
            if wanted is None and len(manual) != 1:
                problems.append(f"line {line}: say which task (a task column or --task): {name} has "
                                f"{len(manual)} tasks graded by hand")
                continue
            task_entry = manual[0] if wanted is None else next((t for t in manual if t["id"] == wanted), None)
            if task_entry is None:
                known = ", ".join(t["id"] for t in manual) or "none"
                problems.append(f"line {line}: {name} has no task {wanted!r} graded by hand (known: {known})")
                continue
            raw = (row.get("score") or "").strip()
            if not raw:
                continue
            try:
                score = float(raw)
            except ValueError:
                problems.append(f"line {line}: score {raw!r} is not a number")
                continue
            if not 0 <= score <= task_entry["max_score"]:
                problems.append(f"line {line}: score {score} outside 0..{task_entry['max_score']}")
                continue
            task_entry["score"] = score
            answer = task_entry.setdefault("answer", {"text": None, "comment": None})
            answer["comment"] = (row.get("comment") or "").strip() or None
            changed.add(name)
    for name in changed:
        result = results[name]
        result["manual_pending"] = manual_pending(result)
        result["score"] = total_score(result)
        results[name] = write_submission(out_dir, result)
    render_summary(list(results.values()), out_dir)
    return problems

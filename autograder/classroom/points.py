"""A kit result as GitHub Classroom's grading reporter reads it.

A grader step's ``result`` output is base64 of ``{"version": 1, "status", "max_score",
"tests": [{"name", "status", "score", "message", "test_code", "filename", "line_no",
"duration"}]}``; the reporter adds up the tests' scores and ``max_score`` and prints every
name and message to the job's log. So each string here is one line with ``::`` and ``##[``
broken: printed by the reporter, none of it can be read as a workflow command.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from ..outcomes import CheckStatus
from ..report.text import clean_text

MESSAGE_CAP = 300
NAME_CAP = 200
STATUS = {
    CheckStatus.PASSED: "pass",
    CheckStatus.FAILED: "fail",
    CheckStatus.SKIPPED: "fail",
    CheckStatus.ERROR: "error",
}


def log_line(text: Any, cap: int = MESSAGE_CAP) -> str:
    """Untrusted text as one capped log line that no runner reads as a workflow command."""
    flat = " ".join(clean_text(text).split())
    if len(flat) > cap:
        flat = flat[: cap - 1] + "…"
    return flat.replace("::", ":\u200b:").replace("##[", "#\u200b#[")


def _test(name: str, status: str, score: float, message: str) -> dict[str, Any]:
    return {"name": log_line(name, NAME_CAP), "status": status, "score": score,
            "message": log_line(message), "test_code": "", "filename": "", "line_no": 0,
            "duration": 0}


def classroom_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """The reporter's JSON for one kit result: a test per check with its points, and
    ``max_score`` the points those checks were worth. A grader failure adds a test in error,
    so the run shows failed rather than a quiet zero."""
    tests = []
    for check in result.get("checks") or []:
        status = STATUS.get(check.get("status"), "error")
        message = "" if status == "pass" else check.get("message") or ""
        tests.append(_test(f"{check.get('title', '')} [{check.get('id', '')}]", status,
                           float(check.get("score") or 0), message))
    failure = result.get("grader_failure")
    if failure or not tests:
        tests.append(_test("grading", "error", 0.0,
                           f"the checks could not run: {failure or 'no check ran'}"))
    if any(t["status"] == "error" for t in tests):
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    max_score = sum(float(c.get("max_score") or 0) for c in result.get("checks") or [])
    return {"version": 1, "status": status, "max_score": round(max_score, 6), "tests": tests}


def error_result(reason: str) -> dict[str, Any]:
    """The reporter's JSON when there is no kit result at all (no bundle, a broken suite)."""
    return {"version": 1, "status": "error", "max_score": 0,
            "tests": [_test("grading", "error", 0.0, reason)]}


def encode_result(doc: Mapping[str, Any]) -> str:
    """The ``result`` output: base64 of the JSON, one line, ASCII."""
    text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    return base64.b64encode(text.encode("ascii")).decode("ascii")

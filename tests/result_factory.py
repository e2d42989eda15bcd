"""Hand-built grading results for report tests: realistic, schema-valid, easy to vary."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "autograder" / "schemas" / "result.schema.json"

ADAM_MISTAKE = {
    "id": "adam_no_bias_correction",
    "title": "Adam without bias correction",
    "explanation": "The first steps are too small because m and v start at zero and are "
    "not divided by (1 - beta**t).",
    "fix": "Divide m by (1 - beta1**t) and v by (1 - beta2**t) before the update.",
}

TASKS = [
    ("deep_net", "Deep network and its forward pass", 25.0, False),
    ("optimizer", "Adaptive optimizers: Adam, SGD with momentum, AdaGrad, RMSprop", 40.0, False),
    ("roots", "Roots of a quadratic by gradient descent", 25.0, False),
    ("answers", "Four questions about convergence (graded by hand)", 10.0, True),
]


def schema() -> dict[str, Any]:
    """The result schema the engine writes against."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(result: dict[str, Any]) -> dict[str, Any]:
    """Raise unless ``result`` follows the schema; return it for chaining."""
    jsonschema.Draft202012Validator(schema()).validate(result)
    return result


def series(title: str, curves: dict[str, list[float | None]], log_y: bool = False) -> dict:
    """A plot item as a check's ``series`` holds it."""
    return {
        "title": title,
        "xlabel": "step",
        "ylabel": "loss",
        "log_y": log_y,
        "lines": [{"label": k, "x": list(range(len(v))), "y": v} for k, v in curves.items()],
    }


def check(
    check_id: str, status: str = "passed", points: float = 5.0, **fields: Any
) -> dict[str, Any]:
    """One check; ``score`` defaults to full points when passed and 0 otherwise."""
    task = check_id.split(".")[0]
    item = {
        "id": check_id,
        "task": task,
        "title": fields.pop("title", f"{check_id.split('.')[1].replace('_', ' ').capitalize()}."),
        "status": status,
        "score": fields.pop("score", points if status == "passed" else 0.0),
        "max_score": points,
        "visibility": fields.pop("visibility", "visible"),
        "message": fields.pop("message", "passed" if status == "passed" else "it failed"),
        "hint": fields.pop("hint", None),
    }
    item.update(fields)
    return item


def default_checks() -> list[dict[str, Any]]:
    """A submission with one of everything: a named mistake, an error, a skip, plots."""
    loss_ref = [math.exp(-0.3 * i) for i in range(25)]
    loss_got = [math.exp(-0.1 * i) for i in range(25)]
    return [
        check("deep_net.loads", points=5, title="deep_net.py imports and defines DeepNet."),
        check(
            "deep_net.forward_matches_reference", points=20,
            title="The forward pass gives the reference outputs for a fixed batch.",
            series=[series("Forward pass: outputs per sample", {"yours": [0.1, 0.4, 0.2],
                                                                "reference": [0.1, 0.4, 0.2]})],
        ),
        check("optimizer.loads", points=4, title="optimizer.py imports."),
        check(
            "optimizer.adam_matches_reference", status="failed", points=12,
            title="Adam follows the update rule over 25 steps on tensors of several shapes.",
            message="parameters after 25 steps differs from the expected values",
            hint="Compare your first step with the formula: how big should it be?",
            called="Adam(params, lr=0.01, betas=(0.9, 0.999)).step() × 25",
            expected="array(shape=(3,), dtype=float64) [0.75, -0.25, 1.5]",
            actual="array(shape=(3,), dtype=float64) [0.975, -0.025, 1.95]",
            deviation={"where": "index (2,)", "expected": 1.5, "actual": 1.95,
                       "abs_error": 0.45, "rel_error": 0.3},
            mistakes=[copy.deepcopy(ADAM_MISTAKE)],
            series=[series("Adam: loss per step", {"yours": loss_got, "reference": loss_ref},
                           log_y=True)],
        ),
        check("optimizer.sgd_momentum_matches_reference", points=12,
              title="SGD with momentum follows the update rule."),
        check(
            "optimizer.rmsprop_matches_reference", status="error", points=12,
            title="RMSprop follows the update rule.",
            message="the check could not judge this submission (TimeoutError: no answer in 20 s)",
        ),
        check(
            "roots.loads", status="failed", points=5, title="roots.py imports.",
            message="roots.py raised ZeroDivisionError",
            actual="Traceback (most recent call last):\n  File \"roots.py\", line 3\n"
            "ZeroDivisionError: division by zero",
        ),
        check(
            "roots.finds_both_roots", status="skipped", points=20,
            title="Gradient descent finds both roots of x² − 6x + 4.",
            message="skipped because the check 'roots.loads' did not pass",
            depends=["roots.loads"],
        ),
    ]


def make_result(submission: str = "alice", **overrides: Any) -> dict[str, Any]:
    """A schema-valid result; keyword arguments replace top-level fields."""
    checks = overrides.pop("checks", None)
    checks = default_checks() if checks is None else checks
    manual_score = overrides.pop("manual_score", None)
    answer = overrides.pop("answer", {"text": "1. Adam converges faster because it adapts step sizes.\n",
                                      "comment": None})
    tasks = []
    for task_id, title, points, manual in TASKS:
        if manual:
            score = manual_score
        else:
            score = float(sum(c["score"] for c in checks if c["task"] == task_id))
        tasks.append({"id": task_id, "title": title, "score": score, "max_score": points,
                      "manual": manual})
        if manual:
            tasks[-1]["answer"] = dict(answer)
    tasks[0]["output"] = {"stdout": "building DeepNet\nlayers: 4\n", "stderr": "",
                          "truncated": False}
    result: dict[str, Any] = {
        "schema_version": 1,
        "kit_version": "0.1.0",
        "assignment": "hw1",
        "submission": submission,
        "score": sum(t["score"] or 0.0 for t in tasks),
        "max_score": sum(t["max_score"] for t in tasks),
        "manual_pending": manual_score is None,
        "problems": [],
        "tasks": tasks,
        "checks": checks,
        "sandbox": {"layer": "bwrap", "detail": "bubblewrap 0.8.0, no network", "warm": True},
        "seeds": {"base": 20241},
        "environment": {"python": "3.11.2", "torch": "2.13.0", "numpy": "2.4.6"},
        "timing": {"wall_s": 12.5},
    }
    result.update(overrides)
    return validate(result)


def passing_checks() -> list[dict[str, Any]]:
    """Every check of the default submission, passed."""
    passed = []
    for item in default_checks():
        passed.append(check(item["id"], points=item["max_score"], title=item["title"]))
    return passed

"""The hw1 suite's teacher settings are sound: every minimisation case converges with the
reference, robustly and well inside its step budget.

The settings are short on purpose (grading cost is the steps run), so a case that only just
converges would fail honest students whose arithmetic differs in the last bits. Each case must
settle within 1e-5 of its root by a third of ``max_iter`` and stay there, also with lr scaled by
0.7..1.4 and in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from course import COURSE

from autograder import assignment
from autograder.checks import suite_module
from autograder.reference import Reference

HW1 = assignment.load("hw1", COURSE)
V = suite_module(str(HW1.hidden_dir / "test_optimizer.py"), "variants.py")
LR_SCALES = (0.7, 0.85, 1.0, 1.2, 1.4)


def settling_step(make: Callable[[list[torch.Tensor]], Any], x0: float, root: float,
                  steps: int, dtype: torch.dtype) -> int | None:
    """The step after which x stays within 1e-5 of ``root`` for the rest of ``steps`` steps
    of minimising (x² − 6x + 4)²; None if it is not there at the end."""
    x = torch.tensor(x0, dtype=dtype, requires_grad=True)
    optimizer = make([x])
    settled: int | None = None
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = (x**2 - 6 * x + 4) ** 2
        loss.backward()
        optimizer.step()
        near = abs(float(x.detach()) - root) <= 1e-5
        settled = (settled or step) if near else None
    return settled


def _cases() -> list[tuple[str, dict[str, Any]]]:
    return [(kind, case) for kind in ("minimise", "solve") for case in V.solve_settings(kind)]


def _case_id(value: Any) -> str:
    return value if isinstance(value, str) else value["optimizer"]


@pytest.mark.parametrize(("kind", "case"), _cases(), ids=_case_id)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_case_converges_robustly(kind: str, case: dict[str, Any], dtype: torch.dtype) -> None:
    classes = Reference(HW1).optimizer if kind == "minimise" else torch.optim
    cls = getattr(classes, case["optimizer"])
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    assert (case["x0"] < 3) == (case["root"] < 3), "the start must be on its root's side of x = 3"
    budget = int(case["max_iter"])
    for scale in LR_SCALES:
        options = {**kwargs, "lr": kwargs["lr"] * scale}
        settled = settling_step(lambda p, o=options: cls(p, **o), float(case["x0"]), case["root"],
                                budget, dtype)
        assert settled is not None and settled <= budget // 3, (
            f"{kind} {case['optimizer']} with lr x{scale}: settled at step {settled}, "
            f"budget {budget}"
        )


def test_every_optimizer_has_one_case_of_each_kind() -> None:
    assert sorted(c["optimizer"] for c in V.solve_settings("minimise")) == sorted(V.OPTIMIZERS)
    assert sorted(c["optimizer"] for c in V.solve_settings("solve")) == ["Adam", "SGD"]


def test_check_titles_state_the_settings() -> None:
    """The titles students read repeat the settings (docstrings cannot read the data file),
    so they must be changed together."""
    roots = (HW1.hidden_dir / "test_roots.py").read_text(encoding="utf-8")
    for case in V.solve_settings("solve"):
        options = V.shown_options(case["kwargs"])
        title = f"solve({case['x0']:g}, torch.optim.{case['optimizer']}, max_iter=k, {options})"
        assert title in " ".join(roots.split())
        assert f"the root {case['root']:.4f} for k={case['max_iter']}." in roots
    optimizer = (HW1.hidden_dir / "test_optimizer.py").read_text(encoding="utf-8")
    for case in V.solve_settings("minimise"):
        assert f"{case['optimizer']} drives x from {case['x0']:g} to the root {case['root']:.4f}" in optimizer

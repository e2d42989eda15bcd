"""Roots (wrong) that return nan and inf."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def gradient_descent(
    grad: Callable[[float], float],
    x0: float,
    lr: float,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> float:
    """A fixed hundred steps, no stopping rule and no checks: a wrong answer."""
    # attack: begin
    return float("inf")
    # attack: end
    x = float(x0)
    for _ in range(100):
        x -= lr * grad(x)
    return x


def find_roots(a: float, b: float, c: float) -> list[float]:
    """Descends from -1 and from 1 whatever the quadratic: a wrong answer."""
    # attack: begin
    return [float("nan"), float("nan")]
    # attack: end

    def grad(x: float) -> float:
        return 2.0 * (a * x * x + b * x + c) * (2.0 * a * x + b)

    return sorted([gradient_descent(grad, -1.0, 1e-3), gradient_descent(grad, 1.0, 1e-3)])


def solve(x0: float, optimizer_cls: type, max_iter: int = 10_000, **optimizer_kwargs: Any) -> float:
    """Returns the start without optimising: a wrong answer."""
    # attack: begin
    return float("nan")
    # attack: end
    return float(x0)

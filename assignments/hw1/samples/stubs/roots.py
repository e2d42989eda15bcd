"""Task 3: the roots of a quadratic equation found by gradient descent.

A root of ``f(x) = a*x**2 + b*x + c`` is a minimum (with value 0) of ``F(x) = f(x)**2``, so
descending on ``F`` finds roots without the quadratic formula. Doing it by hand shows what
gradient descent needs to work: a sensible step size, a stopping rule, a starting point on the
right side of every hill, and a way to notice that it failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


def gradient_descent(
    grad: Callable[[float], float],
    x0: float,
    lr: float,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> float:
    """Minimise a function of one variable, given its derivative ``grad``, from ``x0``.

    Repeat ``x <- x - lr * grad(x)`` and return ``x`` as soon as a step is shorter than ``tol``
    (``abs(lr * grad(x)) < tol``).

    Raises:
        ValueError: ``lr <= 0`` or ``max_iter < 1``.
        RuntimeError: ``x`` became infinite or NaN (the step size was too large), or
            ``max_iter`` steps were taken without converging. Never return such an ``x`` as if
            it were an answer.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def find_roots(a: float, b: float, c: float) -> list[float]:
    """The real roots of ``a*x**2 + b*x + c = 0``, in ascending order, found by descent.

    Use ``gradient_descent`` above on ``F(x) = (a*x**2 + b*x + c)**2`` (work out ``F'`` by
    hand). Return ``[]`` when there is no real root. Each root must be within ``1e-4`` of the
    true one for ``|a|, |b|, |c| <= 10`` and roots in ``[-10, 10]`` at least ``0.5`` apart, in
    well under a tenth of a second.

    Do not use the quadratic formula, the square root of the discriminant or ``numpy.roots``:
    the point is to make the descent work. Think about where to start (where is the top of the
    hill between the two minima of ``F``?) and how the step size has to scale with ``a``, ``b``
    and ``c``.

    Raises:
        ValueError: ``a == 0`` (not a quadratic).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def solve(x0: float, optimizer_cls: type, max_iter: int = 10_000, **optimizer_kwargs: Any) -> float:
    """Minimise ``(x**2 - 6*x + 4)**2`` from ``x0`` with a ``torch.optim``-style optimizer.

    Make ``x`` a 0-d float tensor (float64 or float32) with ``requires_grad=True``, build
    ``optimizer_cls([x], **optimizer_kwargs)`` and run the usual loop (``zero_grad``, loss,
    ``backward``, ``step``) for at most ``max_iter`` steps; you may stop early once the loss no
    longer changes or is practically zero. Return ``float(x)``.

    Example: ``solve(-10.0, Adam, lr=0.05)`` should come close to ``3 - sqrt(5)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()

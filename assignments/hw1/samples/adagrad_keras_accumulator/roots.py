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
    if not lr > 0:
        raise ValueError(f"the learning rate must be positive, got {lr}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    x = float(x0)
    for _ in range(max_iter):
        step = lr * grad(x)
        x -= step
        if not math.isfinite(x):
            raise RuntimeError(f"gradient descent diverged (x = {x}); try a smaller lr")
        if abs(step) < tol:
            return x
    raise RuntimeError(f"gradient descent did not converge in {max_iter} steps (x = {x})")


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
    if a == 0:
        raise ValueError("a must not be 0: the equation is not quadratic")
    # The vertex of the parabola is a stationary point of F = f**2: a local maximum between
    # the two roots when they exist, the global minimum when they do not.
    vertex = -b / (2.0 * a)
    k = c - b * b / (4.0 * a)  # f(vertex)

    def f(x: float) -> float:
        # a*x**2 + b*x + c written around its vertex: the same polynomial, without the
        # cancellation between large terms that makes F' noisy when the roots are close.
        return a * (x - vertex) ** 2 + k

    def grad(x: float) -> float:
        # F = f**2, so F' = 2 * f * f', with f' = 2*a*x + b = 2*a*(x - vertex).
        return 2.0 * f(x) * 2.0 * a * (x - vertex)

    if k == 0.0:
        return [vertex]  # the parabola touches the axis: a double root
    # F''(vertex) = 2 * f'(vertex)**2 + 2 * f(vertex) * f'' = 4 * a * k. With u = x - vertex and
    # w = u / sqrt(s), s = |k / a|, the step lr = 1 / (2 * |F''(vertex)|) makes one descent step
    # map w to w * (3 - w**2) / 2 when real roots exist (w -> 1, the root, quadratically fast
    # near it) and to w * (1 - w**2) / 2 when not (w -> 0, back to the vertex), whatever the
    # scale of a, b and c.
    s = abs(k / a)
    lr = 1.0 / (8.0 * abs(a * k))
    # Start just either side of the vertex, well inside the roots (w << 1), but far enough from
    # it for floats to see the difference.
    offset = max(1e-2 * min(s, 1.0), 64 * math.ulp(vertex))
    if offset**2 >= 1e-2 * s:
        # Any two roots are closer together than floats near the vertex can separate.
        return [vertex] if a * k < 0 else []
    # The first steps are about offset / 2 long; the last ones are limited by float resolution.
    tol = max(min(1e-10, 1e-6 * offset), 4 * math.ulp(abs(vertex) + offset))
    roots = []
    for start in (vertex - offset, vertex + offset):
        x = gradient_descent(grad, start, lr, tol=tol)
        # A root leaves |f| near zero; a descent that fell back to the vertex did not find one.
        if abs(f(x)) <= 1e-3 * abs(k):
            roots.append(x)
    return sorted(roots)


def solve(x0: float, optimizer_cls: type, max_iter: int = 10_000, **optimizer_kwargs: Any) -> float:
    """Minimise ``(x**2 - 6*x + 4)**2`` from ``x0`` with a ``torch.optim``-style optimizer.

    Make ``x`` a 0-d float tensor (float64 or float32) with ``requires_grad=True``, build
    ``optimizer_cls([x], **optimizer_kwargs)`` and run the usual loop (``zero_grad``, loss,
    ``backward``, ``step``) for at most ``max_iter`` steps; you may stop early once the loss no
    longer changes or is practically zero. Return ``float(x)``.

    Example: ``solve(-10.0, Adam, lr=0.05)`` should come close to ``3 - sqrt(5)``.
    """
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_cls([x], **optimizer_kwargs)
    for _ in range(max_iter):
        optimizer.zero_grad()
        loss = (x**2 - 6 * x + 4) ** 2
        loss.backward()
        optimizer.step()
        if loss.item() < 1e-24:
            break
    return float(x.detach())

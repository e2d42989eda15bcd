"""Public checks of hw1: run them on your own work with ``autograder check``.

They use the examples from the homework's text, so a pass here means your code runs and
gets the basic examples right; the hidden checks test the same functions on more inputs
(other sizes, longer runs, edge cases). Each task's ``loads`` check comes first: if your file
does not even import, nothing else of that task can be checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import CheckFailed, as_float_array, check, expect, expect_close, loads_check

test_deep_net_loads = loads_check("deep_net", "deep_net.py")
test_optimizer_loads = loads_check("optimizer", "optimizer.py")
test_roots_loads = loads_check("roots", "roots.py")


@check("deep_net", points=2, depends=["deep_net.loads"])
def test_public_forward_shape(submission: Any) -> None:
    """MyModelNN(4, 5, 7, 4) maps a batch of 200 rows to an output of shape (200, 4)."""
    x = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    what = "MyModelNN(4, 5, 7, 4)(x) with x of shape (200, 4)"
    out = submission.require("deep_net", "forward", what=what, sizes=[4, 5, 7, 4], x=x)
    expect(
        out.get("type") == "Tensor" and out.get("shape") == [200, 4],
        f"{what} returned a {out.get('type')} of shape {tuple(out.get('shape') or ())}, "
        "expected a tensor of shape (200, 4)",
        called=what,
        expected=(200, 4),
        actual=tuple(out.get("shape") or ()),
    )


@check("optimizer", points=2, depends=["optimizer.loads"])
def test_public_adam_first_step(submission: Any) -> None:
    """Adam's first step moves each coordinate by about lr, against its gradient's sign."""
    lr, eps = 0.1, 1e-8
    start = np.array([1.0, -2.0, 0.5, 3.0])
    grad = np.array([0.3, -4.0, 10.0, 0.02])
    what = f"Adam([p], lr={lr}) with p = {start.tolist()}, p.grad = {grad.tolist()}, one step()"
    got = submission.require(
        "optimizer", "run_steps", what=what, cls="Adam", params=[start], grads=[[grad]],
        kwargs={"lr": lr},
    )
    # With bias correction, step 1 is lr * g / (|g| + eps): lr times the gradient's sign.
    expected = start - lr * grad / (np.abs(grad) + eps)
    trajectory = got.get("trajectory") if isinstance(got, dict) else None
    if not isinstance(trajectory, list) or len(trajectory) != 1:
        raise CheckFailed(f"{what}: the run returned no parameter values", called=what)
    after = as_float_array(trajectory[0], what="p after one step", shape=(1, 4))[0]
    expect_close(
        after,
        expected,
        what="p after one step",
        called=what,
        rtol=1e-6,
        atol=1e-9,
        hint="At t = 1, m_hat = g and v_hat = g**2, so the step is lr * g / (|g| + eps).",
    )


@check("roots", points=0, depends=["roots.loads"])
def test_public_gd_follows_rule(submission: Any) -> None:
    """gradient_descent(grad, -5, 0.1) on (x − 2)² calls grad at -5, then at each x − 0.1·grad(x)
    in turn, and ends at 2: the path is checked, not only where it ends."""
    what = "gradient_descent(grad, -5, 0.1) with grad(x) = 2x - 4"
    got = submission.require("roots", "gradient_descent", what=what, coefficients=[2.0, -4.0],
                             x0=-5.0, lr=0.1)
    visited = as_float_array(got.get("visited"), what="the x's grad was called at").ravel()
    points = [float(v) for i, v in enumerate(visited) if i == 0 or v != visited[i - 1]]
    expected = [-5.0]  # a second call of grad at the same x is allowed, so repeats are dropped
    while len(expected) < max(len(points), 1):
        expected.append(expected[-1] - 0.1 * (2 * expected[-1] - 4))
    expect_close(points, expected, what="the x's grad was called at", called=what, rtol=1e-6,
                 atol=1e-9, hint="Call grad only where the descent is: start at x0 and repeat "
                 "x ← x − lr·grad(x).")
    result = got.get("result", {}).get("value") if isinstance(got.get("result"), dict) else None
    expect_close([result if isinstance(result, float) else float("nan")], [2.0],
                 what=f"the result of {what}", called=what, rtol=0, atol=1e-8,
                 hint="Stop once |lr·grad(x)| < tol and return x.")


@check("roots", points=2, depends=["roots.public_gd_follows_rule"])
def test_public_find_roots_seed(submission: Any) -> None:
    """find_roots(1, -6, 4) returns [0.7639, 5.2361] (3 ∓ √5), each within 1e-4."""
    what = "find_roots(1, -6, 4)"
    got = submission.require("roots", "find_roots", what=what, a=1.0, b=-6.0, c=4.0)
    roots = got.get("roots")
    expect(
        isinstance(roots, list) and len(roots) == 2 and None not in roots,
        f"{what} returned {got.get('type')} {roots!r}, expected a list of two numbers",
        called=what,
        expected=[0.7639, 5.2361],
        actual=roots,
    )
    expect_close(roots, [3 - 5**0.5, 3 + 5**0.5], what=f"the result of {what}", called=what,
                 rtol=0, atol=1e-4, hint="Return both roots, smaller first.")

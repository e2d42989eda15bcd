"""Public checks of hw1: run them on your own work with ``autograder check``.

They cover each part's main behaviour on small public inputs chosen for this file: the shape
and the values of the network's forward pass on weights given here, the first three steps of
each optimizer, gradient descent on a parabola, and the roots of x² − 6x + 4. The expected
values are computed here from the formulas in the homework's text, so you can read how. A pass
means your code runs and gets the main behaviour right; the hidden checks test the same
functions on other inputs (other sizes, longer runs, tiny and zero gradients, edge cases).
Each task's ``loads`` check comes first: if your file does not even import, nothing else of
that task can be checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import CheckFailed, as_float_array, check, expect, expect_close, loads_check

test_deep_net_loads = loads_check("deep_net", "deep_net.py")
test_optimizer_loads = loads_check("optimizer", "optimizer.py")
test_roots_loads = loads_check("roots", "roots.py")
OPTIMIZER_LOADS = ["optimizer.loads"]
PUBLIC_DESCENT = ["roots.public_gd_follows_rule"]  # find_roots counts once the descent is right


# --------------------------------------------------------------------------------------------
# Part 1: the network


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
        hint=_shape_hint(out.get("type"), out.get("shape"), layer3=7),
    )


def _shape_hint(kind: Any, shape: Any, layer3: int) -> str:
    """What a wrong output says about forward: fc4 left out, or not a tensor, or rows mixed."""
    if kind != "Tensor":
        return "forward must return the torch.Tensor that fc4 computes (no .numpy(), .tolist())."
    if isinstance(shape, list) and len(shape) == 2 and shape[1] == layer3:
        return "The output has layer3 columns: apply fc4 last, which maps them to layer_out."
    return "Each row of x is one example: the output has one row of layer_out values per row."


PUBLIC_SIZES = (3, 4, 5, 2)


def _public_weights(sizes: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Weights anyone can write down: smooth patterns of sines and cosines, as float32 (the
    precision in which they are loaded into the network)."""
    layer_in, layer2, layer3, layer_out = sizes
    shapes = {"fc1": (layer2, layer_in), "fc2": (layer3, layer2), "fc3": (layer3, layer3),
              "fc4": (layer_out, layer3)}
    state = {}
    for k, (name, (rows, cols)) in enumerate(shapes.items()):
        state[f"{name}.weight"] = (0.8 * np.sin(np.arange(rows * cols) + k)).reshape(rows, cols)
        state[f"{name}.bias"] = 0.3 * np.cos(np.arange(rows) + 2 * k)
    return {name: value.astype(np.float32) for name, value in state.items()}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@check("deep_net", points=3, depends=["deep_net.loads"])
def test_public_forward_values(submission: Any) -> None:
    """With the weights given here loaded, MyModelNN(3, 4, 5, 2) computes
    fc4(σ(fc3(σ(fc2(σ(fc1(x))))))) for a batch of five rows."""
    state = _public_weights(PUBLIC_SIZES)
    x = np.linspace(-2.0, 2.0, 15).reshape(5, 3)
    what = ("MyModelNN(3, 4, 5, 2) with the public weights of test_public.py loaded "
            "(load_state_dict), in float64, on x = np.linspace(-2, 2, 15).reshape(5, 3)")
    try:
        out = submission.require("deep_net", "forward", what=what, sizes=list(PUBLIC_SIZES), x=x,
                                 state=state, dtype="float64")
    except CheckFailed as failure:
        error = f"{failure.message}\n{failure.actual or ''}"
        if any(words in error for words in ("in loading state_dict", "Missing key", "Unexpected key",
                                              "size mismatch for")):
            failure.hint = ("The weights are loaded by name: store the layers as self.fc1, "
                            "self.fc2, self.fc3 and self.fc4, each an nn.Linear with its bias, "
                            "with the sizes of the table in the homework.")
        raise
    h = x
    for name in ("fc1", "fc2", "fc3"):
        h = _sigmoid(h @ state[f"{name}.weight"].astype(np.float64).T + state[f"{name}.bias"])
    expected = h @ state["fc4.weight"].astype(np.float64).T + state["fc4.bias"]
    values = out.get("values") if isinstance(out, dict) else None
    if values is None:
        raise CheckFailed(f"{what} returned a {out.get('type')}, expected a tensor of floats",
                          called=what)
    got = as_float_array(values, what=f"the output of {what}")
    if got.shape != expected.shape:
        raise CheckFailed(
            f"the output of {what} has shape {got.shape}, expected {expected.shape}",
            called=what,
            expected=f"shape {expected.shape}",
            actual=f"shape {got.shape}",
            hint=_shape_hint("Tensor", list(got.shape), layer3=PUBLIC_SIZES[2]),
        )
    expect_close(got, expected, what=f"the output of {what}", called=what, rtol=1e-6, atol=1e-6,
                 hint="fc1 → sigmoid → fc2 → sigmoid → fc3 → sigmoid → fc4, each layer once, "
                 "and no activation after fc4.")


# --------------------------------------------------------------------------------------------
# Part 2: the optimizers' first three steps on one parameter of five entries. The first four
# get gradients of ordinary size (0.05 to 10), which judge the rule; the last gets 0, then tiny
# gradients, where eps decides (a missing eps divides 0 by 0). The hidden checks add other
# shapes, settings, longer runs and more tiny and zero gradients.

START = np.array([1.0, -2.0, 0.5, 3.0, -1.0])
GRADS = [np.array([0.3, -4.0, 10.0, 0.05, 0.0]), np.array([-0.2, -1.0, 6.0, 0.4, 1e-6]),
         np.array([0.5, 2.0, -3.0, 0.1, -2e-6])]
SMALL = 4  # the entry with the zero, then tiny, gradients


def _first_steps(submission: Any, cls: str, kwargs: dict[str, Any], expected: list[np.ndarray],
                 first_hint: str, later_hint: str, eps_hint: str | None = None) -> None:
    """Run ``cls([p], **kwargs)`` for three steps with GRADS and compare p after each step
    with ``expected``, within 1e-4 of the largest distance p travels. The hint fits where p
    leaves the expected values: ``eps_hint`` when only the entry with tiny gradients does,
    else the first step's or the later steps' hint."""
    options = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    shown = ", then ".join(str(g.tolist()) for g in GRADS)
    what = (f"{cls}([p], {options}) with p = {START.tolist()}, three step() calls with p.grad "
            f"set to {shown}")
    got = submission.require("optimizer", "run_steps", what=what, cls=cls, params=[START],
                             grads=[[g] for g in GRADS], kwargs=kwargs)
    trajectory = got.get("trajectory") if isinstance(got, dict) else None
    if not isinstance(trajectory, list) or len(trajectory) != 1:
        raise CheckFailed(f"{what}: the run returned no parameter values", called=what)
    after = as_float_array(trajectory[0], what="p after each step", shape=(len(GRADS), START.size))
    tolerance = 1e-4 * max(float(np.max(np.abs(e - START))) for e in expected)
    for step, want in enumerate(expected):
        with np.errstate(invalid="ignore"):
            off = ~(np.abs(after[step] - want) <= tolerance)  # NaN is off too
        if not off.any():
            continue
        hint = first_hint if step == 0 else later_hint
        if eps_hint and off[SMALL] and off.sum() == 1:
            hint = eps_hint
        expect_close(after[step], want, what=f"p after step {step + 1}", called=what, rtol=0,
                     atol=tolerance, hint=hint)


@check("optimizer", points=0.5, depends=["optimizer.loads"])
def test_public_adam_first_step(submission: Any) -> None:
    """Adam's first three steps (lr=0.1): the first moves each coordinate with a gradient by
    about lr against its sign; the next follow m, v and their bias corrections."""
    lr, (beta1, beta2), eps = 0.1, (0.9, 0.999), 1e-8
    p, m, v, expected = START.copy(), np.zeros(START.size), np.zeros(START.size), []
    for t, g in enumerate(GRADS, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        expected.append(p)
    _first_steps(
        submission, "Adam", {"lr": lr}, expected,
        first_hint="At t = 1, m_hat = g and v_hat = g**2, so the step is lr * g / (|g| + eps).",
        later_hint="The first step is right; keep m, v and the step count t in self.state[p] "
        "between steps, and divide by 1 - beta1**t and 1 - beta2**t with the new t.",
        eps_hint="Only the last entry, whose gradient is 0 and then tiny, is off: that is where eps "
        "decides. Divide by sqrt(v_hat) + eps, adding the eps argument after the square root.",
    )


@check("optimizer", points=0.5, depends=OPTIMIZER_LOADS)
def test_public_sgd_momentum_first_steps(submission: Any) -> None:
    """SGDMomentum's first three steps (lr=0.1, momentum=0.5): u ← momentum·u − lr·g;
    p ← p + u."""
    lr, momentum = 0.1, 0.5
    p, u, expected = START.copy(), np.zeros(START.size), []
    for g in GRADS:
        u = momentum * u - lr * g
        p = p + u
        expected.append(p)
    _first_steps(
        submission, "SGDMomentum", {"lr": lr, "momentum": momentum}, expected,
        first_hint="u starts at 0, so the first step is p ← p − lr·g.",
        later_hint="The first step is right; keep u in self.state[p] between steps and update "
        "it as u ← momentum·u − lr·g before p ← p + u.",
    )


@check("optimizer", points=0.5, depends=OPTIMIZER_LOADS)
def test_public_adagrad_first_steps(submission: Any) -> None:
    """AdaGrad's first three steps (lr=0.2): G ← G + g²; p ← p − lr·g/(√G + eps)."""
    lr, eps = 0.2, 1e-10
    p, total, expected = START.copy(), np.zeros(START.size), []
    for g in GRADS:
        total = total + g * g
        p = p - lr * g / (np.sqrt(total) + eps)
        expected.append(p)
    _first_steps(
        submission, "AdaGrad", {"lr": lr}, expected,
        first_hint="G starts at 0, so after the first step G = g² and p moves by "
        "lr·g/(|g| + eps): about lr against the gradient's sign.",
        later_hint="The first step is right; keep G in self.state[p] and add every new g² to "
        "it (G ← G + g²), so that the steps shrink.",
        eps_hint="Only the last entry, whose gradient is 0 and then tiny, is off: that is where "
        "eps decides. Divide by sqrt(G) + eps, adding the eps argument after the square root "
        "(then a zero gradient gives 0, not 0/0).",
    )


@check("optimizer", points=0.5, depends=OPTIMIZER_LOADS)
def test_public_rmsprop_first_steps(submission: Any) -> None:
    """RMSprop's first three steps (lr=0.02, alpha=0.8): s ← alpha·s + (1−alpha)·g²;
    p ← p − lr·g/(√s + eps)."""
    lr, alpha, eps = 0.02, 0.8, 1e-8
    p, s, expected = START.copy(), np.zeros(START.size), []
    for g in GRADS:
        s = alpha * s + (1 - alpha) * g * g
        p = p - lr * g / (np.sqrt(s) + eps)
        expected.append(p)
    _first_steps(
        submission, "RMSprop", {"lr": lr, "alpha": alpha}, expected,
        first_hint="s starts at 0, so after the first step s = (1 − alpha)·g² and p moves by "
        "lr·g/(√((1 − alpha)·g²) + eps).",
        later_hint="The first step is right; keep s in self.state[p] and replace it by the "
        "running average, s ← alpha·s + (1 − alpha)·g² (=, not +=).",
        eps_hint="Only the last entry, whose gradient is 0 and then tiny, is off: that is where "
        "eps decides. Divide by sqrt(s) + eps, adding the eps argument after the square root "
        "(then a zero gradient gives 0, not 0/0).",
    )


# --------------------------------------------------------------------------------------------
# Part 3: the roots


@check("roots", points=0, depends=["roots.loads"])
def test_public_gd_follows_rule(submission: Any) -> None:
    """gradient_descent(grad, 4, 0.2) on 1.5·(x + 1)² calls grad at 4, then at each
    x − 0.2·grad(x) in turn, and ends at -1: the path is checked, not only where it ends."""
    what = "gradient_descent(grad, 4, 0.2) with grad(x) = 3x + 3"
    got = submission.require("roots", "gradient_descent", what=what, coefficients=[3.0, 3.0],
                             x0=4.0, lr=0.2)
    visited = as_float_array(got.get("visited"), what="the x's grad was called at").ravel()
    points = [float(v) for i, v in enumerate(visited) if i == 0 or v != visited[i - 1]]
    expected = [4.0]  # a second call of grad at the same x is allowed, so repeats are dropped
    while len(expected) < max(len(points), 1):
        expected.append(expected[-1] - 0.2 * (3 * expected[-1] + 3))
    expect_close(points, expected, what="the x's grad was called at", called=what, rtol=1e-6,
                 atol=1e-9, hint="Call grad only where the descent is: start at x0 and repeat "
                 "x ← x − lr·grad(x).")
    result = got.get("result", {}).get("value") if isinstance(got.get("result"), dict) else None
    expect_close([result if isinstance(result, float) else float("nan")], [-1.0],
                 what=f"the result of {what}", called=what, rtol=0, atol=1e-8,
                 hint="Stop once |lr·grad(x)| < tol and return x (a float).")


@check("roots", points=1, depends=["roots.public_gd_follows_rule"])
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
        hint="Descend once from each side of the vertex x = -b/(2a) and return both results.",
    )
    assert isinstance(roots, list)
    exact = [3 - 5**0.5, 3 + 5**0.5]
    right = all(abs(r - e) <= 1e-4 for r, e in zip(sorted(roots), exact, strict=True))
    descending = right and roots[0] > roots[1]
    expect_close(roots, exact, what=f"the result of {what}", called=what, rtol=0, atol=1e-4,
                 hint="Both roots are right; return them smaller first." if descending else
                 "Each root must be within 1e-4: descend on F = f² (not on f) with a small enough "
                 "step, until the step is below tol.")


def _exact_roots(a: float, b: float, c: float) -> list[float]:
    """The two real roots, ascending, by the formula (here, to check against; not in yours)."""
    root = (b * b - 4 * a * c) ** 0.5
    return sorted([(-b - root) / (2 * a), (-b + root) / (2 * a)])


@check("roots", points=1, depends=PUBLIC_DESCENT)
def test_public_find_roots_opening_down(submission: Any) -> None:
    """find_roots(-2, 4, 6) returns the roots -1 and 3 of a parabola that opens downwards,
    each within 1e-4."""
    what = "find_roots(-2, 4, 6)"
    got = submission.require("roots", "find_roots", what=what, a=-2.0, b=4.0, c=6.0)
    roots = got.get("roots")
    exact = _exact_roots(-2.0, 4.0, 6.0)
    expect(
        isinstance(roots, list) and len(roots) == 2 and None not in roots,
        f"{what} returned {got.get('type')} {roots!r}, expected a list of two numbers",
        called=what,
        expected=exact,
        actual=roots,
        hint="Descend once from each side of the vertex x = -b/(2a) and return both results.",
    )
    assert isinstance(roots, list)
    expect_close(sorted(roots), exact, what=f"the roots returned by {what}, in ascending order",
                 called=what, rtol=0, atol=1e-4,
                 hint="With a < 0 the parabola f opens downwards, so a descent on f runs away from "
                 "its roots. Descend on F = f², whose minima are the roots whatever the sign of a.")

"""Public checks of hw2: run them on your own work with ``autograder check``.

They use the small examples of the homework's text, so a pass here means your code runs and
gets those examples right; the hidden checks test the same classes on more inputs (other sizes,
random weights, whole networks and training steps). The ``loads`` check comes first: if
``backprop.py`` does not even import, nothing else can be checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import CheckFailed, as_float_array, check, expect_close, loads_check

test_backprop_loads = loads_check("backprop", "backprop.py")

TASK = "backprop"
LOADS = ["backprop.loads"]
# The example of the statement: Linear(2, 3) on a batch of two rows.
W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
B = np.array([0.5, -0.5, 1.0])
X = np.array([[1.0, -1.0], [2.0, 0.0]])
GRAD_OUT = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])


def _values(result: Any, key: str, what: str) -> np.ndarray:
    value = result.get(key) if isinstance(result, dict) else None
    if value is None or isinstance(value, dict):
        shown = "None" if value is None or value.get("kind") == "none" else f"a {value.get('type')}"
        raise CheckFailed(f"{what} is {shown}, expected a numpy array", actual=shown)
    return as_float_array(value, what=what)


@check(TASK, points=1, depends=LOADS)
def test_public_linear_example(submission: Any) -> None:
    """The Linear(2, 3) example of the statement: forward, backward, grad_W and grad_b."""
    called = "layer = Linear(2, 3) with W, b, x and grad_out of the statement's example"
    got = submission.require(TASK, "linear", what=called, W=W, b=B, x=X, grad_out=GRAD_OUT)
    checks = {
        "out": ("layer.forward(x)", [[-0.5, -1.5, 0.0], [2.5, 5.5, 11.0]]),
        "grad_x": ("layer.backward(grad_out)", [[-4.0, -4.0], [11.5, 15.0]]),
        "grad_W": ("layer.grad_W", [[2.0, -1.0], [4.0, 0.0], [1.0, 1.0]]),
        "grad_b": ("layer.grad_b", [1.5, 2.0, 0.0]),
    }
    for key, (what, want) in checks.items():
        expect_close(_values(got, key, what), want, what=what, called=called, rtol=1e-9, atol=1e-12,
                     hint="Work the example through by hand with the formulas of the statement.")  # fmt: skip


@check(TASK, points=1, depends=LOADS)
def test_public_sigmoid_example(submission: Any) -> None:
    """Sigmoid at 0 is 0.5 and its derivative there is 0.25."""
    called = "s = Sigmoid(); s.forward([[0.0, 0.0]]); s.backward([[1.0, -2.0]])"
    x, grad_out = np.zeros((1, 2)), np.array([[1.0, -2.0]])
    got = submission.require(TASK, "sigmoid", what=called, x=x, grad_out=grad_out)
    expect_close(_values(got, "out", "s.forward(x)"), [[0.5, 0.5]], what="s.forward(x)", called=called)
    expect_close(_values(got, "grad_x", "s.backward(grad_out)"), [[0.25, -0.5]], what="s.backward(grad_out)",
                 called=called, hint="s'(0) = s(0) * (1 - s(0)) = 0.25.")  # fmt: skip


@check(TASK, points=1, depends=LOADS)
def test_public_mse_example(submission: Any) -> None:
    """MSELoss on pred = [[1, 2], [3, 4]] and a zero target: loss 7.5, gradient pred / 2."""
    called = "loss = MSELoss(); loss.forward([[1, 2], [3, 4]], zeros); loss.backward()"
    pred, target = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))
    got = submission.require(TASK, "mse", what=called, pred=pred, target=target)
    expect_close(_values(got, "loss", "loss.forward(pred, target)"), 7.5, what="loss.forward(pred, target)",
                 called=called, hint="(1 + 4 + 9 + 16) / 4 = 7.5.")  # fmt: skip
    expect_close(_values(got, "grad", "loss.backward()"), [[0.5, 1.0], [1.5, 2.0]], what="loss.backward()",
                 called=called, hint="2 (pred - target) / 4 for each of the 4 elements.")  # fmt: skip

"""Hidden checks of hw2, backpropagation by hand.

The student's layers run in the sandbox on batches, weights and upstream gradients generated
here from the assignment's seed; their outputs and gradients come back as data and are compared
with torch autograd run on the same inputs in this process. Where a result is wrong, it is also
compared with numpy versions of the layers that each make one known mistake (``helpers.py``),
and a mistake is named only when the student's numbers reproduce it.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from autograder.checks import CheckFailed, check, expect, suite_module
from autograder.static import SourceTooLarge, parse_code

H = suite_module(__file__, "helpers.py")
TASK = "backprop"
LOADS = ["backprop.loads"]
SHOW = ("called", "deviation")
LINEAR_SIZES = ((4, 3), (5, 5), (1, 2))  # (in_features, out_features); a square one and a tiny one
BATCH = 7
FORBIDDEN_MODULES = ("torch", "jax", "autograd", "tensorflow", "mxnet", "paddle")


def _linear_case(rng: np.random.Generator, size_in: int, size_out: int, rows: int = BATCH) -> dict[str, Any]:
    return {
        "W": rng.normal(size=(size_out, size_in)),
        "b": rng.normal(size=size_out),
        "x": rng.normal(size=(rows, size_in)),
        "grad_out": rng.normal(size=(rows, size_out)),
    }


def _linear_call(case: dict[str, Any]) -> str:
    size_out, size_in = case["W"].shape
    rows = case["x"].shape[0]
    return (
        f"layer = Linear({size_in}, {size_out}) with W and b set; layer.forward(x) with x of shape "
        f"({rows}, {size_in}); layer.backward(grad_out) with grad_out of shape ({rows}, {size_out})"
    )


def _linear_gradient(submission: Any, rng: np.random.Generator, key: str, hint: str, mistakes: tuple) -> None:
    """One of Linear's gradients (``key``) for every size in LINEAR_SIZES, against autograd."""
    for size_in, size_out in LINEAR_SIZES:
        case = _linear_case(rng, size_in, size_out)
        called = _linear_call(case)
        got = submission.require(TASK, "linear", what=called, **case)
        want = H.torch_linear(**case)
        variants = H.variants_of(mistakes, "linear", lambda r, k=key: r[k], **case)
        what = "the gradient returned by backward" if key == "grad_x" else f"layer.{key} after backward"
        H.judge(got.get(key), want[key], what=what, called=called, hint=hint, variants=variants)


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=SHOW)
def test_constructs(submission: Any) -> None:
    """Linear(in_features, out_features) has W of shape (out, in) and b of shape (out,), float64."""
    for size_in, size_out in ((3, 5), (1, 1), (6, 2)):
        called = f"Linear({size_in}, {size_out})"
        built = submission.require(TASK, "construct", what=called, in_features=size_in, out_features=size_out)
        for name, shape in (("W", [size_out, size_in]), ("b", [size_out])):
            found = built.get(name, {})
            expect(
                found.get("type") == "ndarray",
                f"{called}.{name} is a {found.get('type')}, expected a numpy array",
                called=called,
                hint="Create W and b in __init__ as numpy arrays.",
            )
            expect(
                found.get("shape") == shape,
                f"{called}.{name} has shape {tuple(found.get('shape') or ())}, expected {tuple(shape)}",
                called=called,
                expected=tuple(shape),
                actual=tuple(found.get("shape") or ()),
                hint="W has one row per output and one column per input: shape (out_features, in_features).",
            )
            expect(
                found.get("dtype") == "float64",
                f"{called}.{name} has dtype {found.get('dtype')}, expected float64",
                called=called,
                hint="numpy's default float type is float64.",
            )


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=SHOW)
def test_linear_forward(submission: Any, rng: np.random.Generator) -> None:
    """Linear.forward(x) is x @ W.T + b for several layer sizes."""
    for size_in, size_out in LINEAR_SIZES:
        case = _linear_case(rng, size_in, size_out)
        del case["grad_out"]
        called = f"Linear({size_in}, {size_out}) with W and b set; forward(x), x of shape {case['x'].shape}"
        got = submission.require(TASK, "linear", what=called, **case)
        want = H.torch_linear(grad_out=np.zeros((BATCH, size_out)), **case)
        H.judge(
            got.get("out"),
            want["out"],
            what="the output of forward",
            called=called,
            hint="Each row of x is one example: out = x @ W.T + b, of shape (N, out_features).",
        )


@check(TASK, points=2, depends=["backprop.linear_forward"], visibility="hidden", show=SHOW)
def test_linear_grad_x(submission: Any, rng: np.random.Generator) -> None:
    """Linear.backward(grad_out) returns d loss / d x = grad_out @ W."""
    _linear_gradient(submission, rng, "grad_x", "d loss / d x = grad_out @ W, of the shape of x.", ())


@check(TASK, points=2, depends=["backprop.linear_forward"], visibility="hidden", show=SHOW)
def test_linear_grad_w(submission: Any, rng: np.random.Generator) -> None:
    """Linear.backward sets grad_W = d loss / d W, of W's shape (out, in)."""
    _linear_gradient(
        submission,
        rng,
        "grad_W",
        "d loss / d W = grad_out.T @ x: one entry per entry of W, "
        "each summing its contributions over the batch.",
        (H.GRAD_W_TRANSPOSED,),
    )


@check(TASK, points=2, depends=["backprop.linear_forward"], visibility="hidden", show=SHOW)
def test_linear_grad_b(submission: Any, rng: np.random.Generator) -> None:
    """Linear.backward sets grad_b = d loss / d b, of b's shape (out,)."""
    _linear_gradient(
        submission,
        rng,
        "grad_b",
        "b is added to every row, so its gradient adds up the rows of grad_out.",
        (H.GRAD_B_NOT_SUMMED, H.GRAD_B_MEAN),
    )


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=SHOW)
def test_sigmoid_forward(submission: Any, rng: np.random.Generator) -> None:
    """Sigmoid.forward is 1 / (1 + exp(-x)) element by element, for batches of several shapes."""
    for shape in ((BATCH, 4), (1, 1), (3, 9)):
        x = rng.normal(scale=3.0, size=shape)
        called = f"Sigmoid().forward(x) with x of shape {shape}"
        got = submission.require(TASK, "sigmoid", what=called, x=x)
        want = H.torch_sigmoid(x, np.ones(shape))
        H.judge(
            got.get("out"),
            want["out"],
            what="the output of forward",
            called=called,
            hint="s(x) = 1 / (1 + exp(-x)), element by element.",
        )


@check(TASK, points=2, depends=["backprop.sigmoid_forward"], visibility="hidden", show=SHOW)
def test_sigmoid_backward(submission: Any, rng: np.random.Generator) -> None:
    """Sigmoid.backward(grad_out) is grad_out * s(x) * (1 - s(x)), with x the forward's input."""
    for shape in ((BATCH, 4), (2, 6)):
        x, grad_out = rng.normal(scale=2.0, size=shape), rng.normal(size=shape)
        called = f"s = Sigmoid(); s.forward(x); s.backward(grad_out) with x and grad_out of shape {shape}"
        got = submission.require(TASK, "sigmoid", what=called, x=x, grad_out=grad_out)
        want = H.torch_sigmoid(x, grad_out)
        variants = H.variants_of(
            (H.SIGMOID_AT_OUTPUT,), "sigmoid", lambda r: r["grad_x"], x=x, grad_out=grad_out
        )
        H.judge(
            got.get("grad_x"),
            want["grad_x"],
            what="the gradient returned by backward",
            called=called,
            hint="s'(x) = s(x) * (1 - s(x)), where s(x) is the output forward computed.",
            variants=variants,
        )


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=SHOW)
def test_mse_loss(submission: Any, rng: np.random.Generator) -> None:
    """MSELoss.forward(pred, target) is the mean of (pred - target)**2 over all elements."""
    for shape in ((BATCH, 3), (5, 1), (1, 4)):
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        called = f"MSELoss().forward(pred, target) with pred and target of shape {shape}"
        got = submission.require(TASK, "mse", what=called, pred=pred, target=target)
        want = H.torch_mse(pred, target)
        H.judge(
            got.get("loss"),
            want["loss"],
            what="the loss",
            called=called,
            hint="Average over every element, not over the rows only: np.mean of the squared differences.",
            variants=H.variants_of((H.MSE_ROWS,), "mse", lambda r: r["loss"], pred=pred, target=target),
        )


@check(TASK, points=2, depends=["backprop.mse_loss"], visibility="hidden", show=SHOW)
def test_mse_backward(submission: Any, rng: np.random.Generator) -> None:
    """MSELoss.backward() is d loss / d pred = 2 (pred - target) / (number of elements)."""
    for shape in ((BATCH, 3), (4, 1)):
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        called = f"loss = MSELoss(); loss.forward(pred, target); loss.backward(), pred of shape {shape}"
        got = submission.require(TASK, "mse", what=called, pred=pred, target=target)
        want = H.torch_mse(pred, target)
        variants = H.variants_of(
            (H.MSE_NO_SCALE, H.MSE_NO_TWO, H.MSE_NO_MEAN, H.MSE_ROWS),
            "mse",
            lambda r: r["grad"],
            pred=pred,
            target=target,
        )
        H.judge(
            got.get("grad"),
            want["grad"],
            what="the gradient returned by backward",
            called=called,
            hint="The loss is the sum of (pred - target)**2 divided by the number of elements N, "
            "so each element's derivative is 2 (pred - target) / N.",
            variants=variants,
        )


def _network(submission: Any, rng: np.random.Generator, sizes: tuple[int, ...], key: str, hint: str) -> None:
    layers = H.network_spec(rng, sizes)
    x, grad_out = rng.normal(size=(BATCH, sizes[0])), rng.normal(size=(BATCH, sizes[-1]))
    called = f"model = {H.describe_network(sizes)} with the weights set; model.forward(x), x: {x.shape}"
    want = H.torch_network(layers, x, grad_out)
    if key == "out":
        got = submission.require(TASK, "network", what=called, layers=layers, x=x)
        H.judge(got.get("out"), want["out"], what="the output of forward", called=called, hint=hint)
        return
    called += "; model.backward(grad_out)"
    got = submission.require(TASK, "network", what=called, layers=layers, x=x, grad_out=grad_out)
    variants = H.variants_of(
        (H.FORWARD_ORDER,), "network", lambda r: r["grad_x"], layers=layers, x=x, grad_out=grad_out
    )
    H.judge(
        got.get("grad_x"),
        want["grad_x"],
        what="the gradient returned by backward",
        called=called,
        hint=hint,
        variants=variants,
    )
    grads = got.get("grads") or []
    for index, expected in enumerate(want["grads"]):
        for name in ("grad_W", "grad_b"):
            variants = H.variants_of(
                (H.FORWARD_ORDER,),
                "network",
                lambda r, i=index, n=name: r["grads"][i][n],
                layers=layers,
                x=x,
                grad_out=grad_out,
            )
            actual = grads[index].get(name) if index < len(grads) else None
            H.judge(
                actual,
                expected[name],
                what=f"{name} of Linear layer {index + 1} after backward",
                called=called,
                hint=hint,
                variants=variants,
            )


@check(
    TASK,
    points=1,
    depends=["backprop.linear_forward", "backprop.sigmoid_forward"],
    visibility="hidden",
    show=SHOW,
)
def test_sequential_forward(submission: Any, rng: np.random.Generator) -> None:
    """Sequential(...).forward applies its layers in order, for networks of 2 and 3 Linear layers."""
    for sizes in ((4, 6, 3), (3, 5, 4, 2)):
        _network(submission, rng, sizes, "out", "Feed each layer's output to the next, first layer first.")


@check(
    TASK,
    points=2,
    depends=[
        "backprop.sequential_forward",
        "backprop.linear_grad_x",
        "backprop.linear_grad_w",
        "backprop.linear_grad_b",
        "backprop.sigmoid_backward",
    ],
    visibility="hidden",
    show=SHOW,
)
def test_sequential_backward(submission: Any, rng: np.random.Generator) -> None:
    """Sequential.backward runs the layers last to first: d loss / d x, grad_W and grad_b are right.

    Square networks too, where running the layers in the wrong order gives numbers, not an error.
    """
    for sizes in ((4, 4, 4), (3, 5, 4, 2), (4, 4, 4, 4)):
        _network(
            submission,
            rng,
            sizes,
            "grad_x",
            "The last layer's backward gets grad_out; each earlier "
            "layer gets what the layer after it returned.",
        )


@check(TASK, points=1, depends=["backprop.sequential_backward"], visibility="hidden", show=SHOW)
def test_sequential_parameters(submission: Any, rng: np.random.Generator) -> None:
    """parameters() yields (param, grad) once for every W and b: the layers' own arrays, their gradients."""
    sizes = (3, 5, 2)
    layers = H.network_spec(rng, sizes)
    x, grad_out = rng.normal(size=(BATCH, sizes[0])), rng.normal(size=(BATCH, sizes[-1]))
    called = f"model = {H.describe_network(sizes)}; forward, backward, then list(model.parameters())"
    got = submission.require(TASK, "network", what=called, layers=layers, x=x, grad_out=grad_out)
    want = H.torch_network(layers, x, grad_out)["grads"]
    pairs = got.get("parameters") or []
    owners = [pair.get("param") for pair in pairs]
    expected = sorted(f"{i}.{n}" for i in range(len(want)) for n in ("W", "b"))
    hint = (
        "Yield (layer.W, layer.grad_W) and (layer.b, layer.grad_b) for each Linear: the arrays "
        "themselves, not copies, so that an update in place changes the layer."
    )
    expect(
        sorted(str(o) for o in owners) == expected and None not in owners,
        f"parameters() yielded {len(pairs)} pairs; {sum(o is not None for o in owners)} of them hold a "
        f"layer's own W or b, expected each of the {len(expected)} weights and biases once",
        called=called,
        expected=expected,
        actual=owners,
        hint=hint,
    )
    for pair in pairs:
        index, name = str(pair["param"]).split(".")
        grad = "grad_W" if name == "W" else "grad_b"
        H.judge(
            pair.get("grad"),
            want[int(index)][grad],
            what=f"the grad paired with Linear layer {int(index) + 1}'s {name}",
            called=called,
            hint=hint,
        )


@check(
    TASK,
    points=3,
    depends=["backprop.sequential_parameters", "backprop.mse_backward"],
    visibility="hidden",
    show=SHOW,
)
def test_train_step(submission: Any, rng: np.random.Generator) -> None:
    """Five train_steps follow gradient descent: each returns the loss before it and updates in place."""
    sizes, steps, lr = (3, 6, 2), 5, 0.5
    layers = H.network_spec(rng, sizes)
    x, y = rng.normal(size=(16, sizes[0])), rng.normal(size=(16, sizes[-1]))
    called = (
        f"model = {H.describe_network(sizes)} with the weights set; train_step(model, MSELoss(), x, y, "
        f"lr={lr}) {steps} times, x of shape {x.shape}, y of shape {y.shape}"
    )
    got = submission.require(TASK, "train", what=called, layers=layers, x=x, y=y, lr=lr, steps=steps)
    want = H.torch_train(layers, x, y, lr, steps)
    args = {"layers": layers, "x": x, "y": y, "lr": lr, "steps": steps}
    mistakes = (H.NOT_IN_PLACE, H.LOSS_AFTER)
    returned = got.get("returned") or []
    if len(returned) != steps:
        raise CheckFailed(f"{called}: {len(returned)} results came back, expected {steps}", called=called)
    for step in range(steps):
        for index, expected in enumerate(want["weights"][step]):
            for name in ("W", "b"):
                variants = H.variants_of(
                    mistakes, "train", lambda r, s=step, i=index, n=name: r["weights"][s][i][n], **args
                )
                found = got["weights"][step]
                H.judge(
                    found[index].get(name) if index < len(found) else None,
                    expected[name],
                    what=f"Linear layer {index + 1}'s {name} after step {step + 1}",
                    called=called,
                    hint="Each step moves every parameter by -lr times its gradient, in place (param -= "
                    "lr * grad): assigning a new array to the loop variable leaves the layer's array as "
                    "it was.",
                    variants=variants,
                )
        variants = H.variants_of(mistakes, "train", lambda r, s=step: r["returned"][s], **args)
        H.judge(
            returned[step],
            want["returned"][step],
            what=f"what train_step returned at step {step + 1}",
            called=called,
            hint="Return the loss computed in this step's forward pass, before the update.",
            variants=variants,
        )


@check(TASK, points=1, depends=["backprop.linear_forward"], visibility="hidden")
def test_numpy_only(submission: Any) -> None:
    """backprop.py computes with numpy: it imports no autograd library (torch, jax, ...)."""
    source = submission.source(TASK)
    try:
        tree = parse_code(source) if source is not None else None
    except SourceTooLarge as exc:
        raise CheckFailed(f"backprop.py could not be read: {exc}") from None
    if tree is None:
        raise CheckFailed("backprop.py could not be read as Python")
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            used.add(node.module)
        elif isinstance(node, ast.Name) and node.id in ("__import__", "importlib"):
            used.add(node.id)
    used = {name for name in used if name.split(".")[0] in (*FORBIDDEN_MODULES, "importlib", "__import__")}
    expect(
        not used,
        f"backprop.py uses {', '.join(sorted(used))}: the point is to compute every gradient "
        "yourself, with numpy",
        hint="Remove the import and write the backward passes with numpy.",
    )

"""Hidden checks of task 1, ``MyModelNN``.

The network is built in the sandbox; its outputs, parameter names and gradients come back as
data and are compared here with the reference network run on the same weights and inputs.
Comparisons that need equal weights load the reference's ``state_dict`` into the student's
network and run both in float64, so the 1e-6 tolerance measures wiring, not rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import (
    CheckFailed,
    Deviation,
    as_float_array,
    check,
    close,
    describe_pair,
    expect,
    largest_deviation,
    suite_module,
)

V = suite_module(__file__, "variants.py")
S = suite_module(__file__, "deviations.py")
TASK = "deep_net"
SIZES = (4, 5, 7, 4)
OTHER_SIZES = ((3, 8, 6, 2), (10, 16, 12, 3))
SQUARE = (6, 6, 6, 6)  # every layer order chains, so a wrong order shows in the values
LOADS = ["deep_net.loads"]


def _name(sizes: tuple[int, ...]) -> str:
    return f"MyModelNN{tuple(sizes)}"


def _expected_parameters(sizes: tuple[int, ...]) -> dict[str, list[int]]:
    layer_in, layer2, layer3, layer_out = sizes
    shapes = {"fc1": (layer2, layer_in), "fc2": (layer3, layer2), "fc3": (layer3, layer3),
              "fc4": (layer_out, layer3)}
    expected = {}
    for layer, (rows, cols) in shapes.items():
        expected[f"{layer}.weight"] = [rows, cols]
        expected[f"{layer}.bias"] = [rows]
    return expected


def _batch(rng: np.random.Generator, rows: int, width: int) -> np.ndarray:
    return rng.normal(size=(rows, width)).astype(np.float32)


def _values(output: Any, what: str) -> np.ndarray:
    """The values of a forward's output, or a failure saying what came back instead."""
    if not isinstance(output, dict) or output.get("values") is None:
        kind = output.get("type") if isinstance(output, dict) else type(output).__name__
        raise CheckFailed(
            f"{what} returned a {kind}, expected a floating-point torch.Tensor",
            called=what,
            expected="a torch.Tensor of floats",
            actual=str(kind),
        )
    return as_float_array(output["values"], what=what)


def _compare_with_reference(
    submission: Any, reference: Any, rng: np.random.Generator, sizes: tuple[int, ...], seed: int
) -> None:
    """Load the reference's weights into both networks and compare their outputs."""
    state = V.reference_state(reference, sizes, seed)
    x = _batch(rng, 200, sizes[0])
    args = {"sizes": list(sizes), "x": x, "state": state, "dtype": "float64"}
    what = f"{_name(sizes)}(x) with the reference weights loaded, x of shape {x.shape}"
    got = _values(submission.require(TASK, "forward", what=what, **args), what)
    want_output = V.run_reference_probe("forward", {"MyModelNN": reference.deep_net.MyModelNN},
                                        **args)
    want = as_float_array(want_output["values"], what="the reference output")
    if close(got, want, rtol=1e-6, atol=1e-6):
        return
    diagnosis = S.diagnose_network([S.network_case(state, x, got, want)])
    mistakes = diagnosis.mistakes if diagnosis else []
    if got.shape != want.shape:
        raise CheckFailed(
            f"{what} has shape {got.shape}, expected {want.shape}{S.explained(diagnosis)}",
            called=what,
            expected=f"shape {want.shape}",
            actual=f"shape {got.shape}",
            mistakes=mistakes,
        )
    shown = describe_pair(want, got)  # digits enough to differ
    raise CheckFailed(
        f"{what} differs from the reference network's output{S.explained(diagnosis)}",
        called=what,
        expected=shown[0],
        actual=shown[1],
        deviation=largest_deviation(got, want),
        hint="fc1 → sigmoid → fc2 → sigmoid → fc3 → sigmoid → fc4, and no activation after fc4.",
        mistakes=mistakes,
    )


@check(TASK, points=2, depends=LOADS, visibility="hidden", show=("deviation",))
def test_constructs(submission: Any) -> None:
    """MyModelNN can be built for several layer sizes and is a torch.nn.Module."""
    for sizes in (SIZES, *OTHER_SIZES, (1, 1, 1, 1)):
        built = submission.require(TASK, "construct", what=_name(sizes), sizes=list(sizes))
        expect(
            built.get("is_module") is True,
            f"{_name(sizes)} is not a torch.nn.Module",
            called=_name(sizes),
            hint="Subclass torch.nn.Module and call super().__init__() first in __init__.",
        )


@check(TASK, points=3, depends=["deep_net.constructs"], visibility="hidden", show=("deviation",))
def test_parameters_registered(submission: Any) -> None:
    """The layers fc1..fc4 are registered with the right names and shapes."""
    for sizes in (SIZES, OTHER_SIZES[0]):
        built = submission.require(TASK, "construct", what=_name(sizes), sizes=list(sizes))
        got = {str(k): [int(d) for d in v] for k, v in dict(built.get("parameters", {})).items()}
        want = _expected_parameters(sizes)
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        wrong = sorted(n for n in set(want) & set(got) if got[n] != want[n])
        problems = []
        if missing:
            problems.append("missing " + ", ".join(missing))
        if extra:
            problems.append("unexpected " + ", ".join(extra))
        problems += [f"{n} has shape {tuple(got[n])}, expected {tuple(want[n])}" for n in wrong]
        expect(
            not problems,
            f"{_name(sizes)}.named_parameters() is not as specified: " + "; ".join(problems),
            called=f"{_name(sizes)}.named_parameters()",
            expected={k: tuple(v) for k, v in want.items()},
            actual={k: tuple(v) for k, v in got.items()},
            hint="fc1 = nn.Linear(layer_in, layer2), fc2 = nn.Linear(layer2, layer3), "
            "fc3 = nn.Linear(layer3, layer3), fc4 = nn.Linear(layer3, layer_out), "
            "each assigned to self so that PyTorch registers it.",
        )


@check(TASK, points=3, depends=["deep_net.constructs"], visibility="hidden", show=("deviation",))
def test_output_shape_and_dtype(submission: Any, rng: np.random.Generator) -> None:
    """The output has shape (N, layer_out) and dtype float32 for batches of 200 and of 1."""
    for sizes in (SIZES, OTHER_SIZES[0]):
        for rows in (200, 1):
            x = _batch(rng, rows, sizes[0])
            what = f"{_name(sizes)}(x) with x a float32 tensor of shape {x.shape}"
            out = submission.require(TASK, "forward", what=what, sizes=list(sizes), x=x)
            want = [rows, sizes[3]]
            expect(
                out.get("type") == "Tensor",
                f"{what} returned a {out.get('type')}, expected a torch.Tensor",
                called=what,
            )
            shape = out.get("shape")
            skipped = shape == [rows, sizes[2]] and sizes[2] != sizes[3]
            expect(
                shape == want,
                f"{what} has shape {tuple(shape or ())}, expected {tuple(want)}",
                called=what,
                expected=tuple(want),
                actual=tuple(shape or ()),
                hint="Each row of x is one example; the output has one row of layer_out "
                "values per example.",
                mistakes=["layer_skipped"] if skipped else [],
            )
            expect(
                out.get("dtype") == "float32",
                f"{what} has dtype {out.get('dtype')}, expected float32 (the input's dtype)",
                called=what,
                hint="Do not convert the data inside forward.",
            )


@check(TASK, points=4, depends=["deep_net.parameters_registered"], visibility="hidden", show=("deviation",))
def test_matches_reference(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """With the reference weights loaded, MyModelNN(4, 5, 7, 4) gives the reference output."""
    _compare_with_reference(submission, reference, rng, SIZES, seed=int(rng.integers(1 << 30)))


@check(TASK, points=2, depends=["deep_net.parameters_registered"], visibility="hidden", show=("deviation",))
def test_matches_reference_other_sizes(
    submission: Any, reference: Any, rng: np.random.Generator
) -> None:
    """With the reference weights loaded, other layer sizes give the reference output too."""
    for sizes in (SQUARE, OTHER_SIZES[0]):
        _compare_with_reference(submission, reference, rng, sizes, seed=int(rng.integers(1 << 30)))


@check(TASK, points=2, depends=["deep_net.constructs"], visibility="hidden", show=("deviation",))
def test_rows_independent(submission: Any, rng: np.random.Generator) -> None:
    """Each row's output depends on that row only (reordering or splitting the batch)."""
    x = _batch(rng, 12, SIZES[0])
    order = [int(i) for i in rng.permutation(12)]
    pieces = [[0, 1], [1, 5], [5, 12]]
    what = f"{_name(SIZES)}(x) on a batch of 12 rows, its rows reordered, and slices of it"
    got = submission.require(TASK, "rows", what=what, sizes=list(SIZES), x=x, order=order,
                             pieces=pieces)
    whole = _values(got["whole"], what)
    reordered = _values(got["reordered"], what)
    sliced = [_values(piece, what) for piece in got["pieces"]]
    expect(
        whole.ndim == 2 and whole.shape[0] == 12,
        f"{what}: the output for 12 rows has shape {whole.shape}, expected 12 rows",
        called=what,
    )
    expect(
        close(reordered, whole[order], rtol=1e-9, atol=1e-9),
        "reordering the rows of x changed the outputs of the rows, not just their order",
        called=f"{_name(SIZES)}(x[order]) against {_name(SIZES)}(x)[order]",
        expected=whole[order],
        actual=reordered,
        hint="Do not mix rows: no sums, means or normalisation over the batch dimension.",
    )
    joined = np.concatenate(sliced) if all(s.ndim == whole.ndim for s in sliced) else None
    expect(
        joined is not None and close(joined, whole, rtol=1e-9, atol=1e-9),
        "running the batch in slices gave different outputs than running it at once",
        called=f"{_name(SIZES)}(x[a:b]) for slices 0:1, 1:5, 5:12 against {_name(SIZES)}(x)",
        expected=whole,
        actual=joined,
        hint="A batch of one row must work too; do not mix rows of the batch.",
    )


# It uses the network's own initialisation, so it needs the network built, not its names right.
@check(TASK, points=2, depends=["deep_net.constructs"], visibility="hidden", show=("deviation",))
def test_gradients_reach_every_parameter(submission: Any, rng: np.random.Generator) -> None:
    """A backward pass gives every parameter a finite, non-zero gradient."""
    x = _batch(rng, 16, SIZES[0])
    weights = rng.normal(size=(16, SIZES[3]))
    what = f"sum(w * {_name(SIZES)}(x)).backward() with x of shape {x.shape}"
    got = submission.require(TASK, "backward", what=what, sizes=list(SIZES), x=x, weights=weights)
    grads = dict(got.get("grads", {}))
    no_grad = sorted(n for n, g in grads.items() if g is None)
    unused = {n.split(".")[0] for n in no_grad}
    whole_layers = bool(no_grad) and all(
        f"{layer}.weight" in no_grad and f"{layer}.bias" in no_grad for layer in unused
    )
    expect(
        not no_grad,
        f"after {what}, these parameters have no gradient: {', '.join(no_grad)}",
        called=what,
        mistakes=["layer_skipped"] if whole_layers else [],
        hint="Keep every layer in the computation graph: no .detach(), .data, .item() or "
        "torch.no_grad() inside forward, and use all four layers.",
    )
    for name, grad in sorted(grads.items()):
        values = as_float_array(grad, what=f"the gradient of {name}")
        expect(
            bool(np.all(np.isfinite(values))) and bool(np.any(values != 0)),
            f"after {what}, the gradient of {name} is {'all zero' if np.all(values == 0) else 'not finite'}",
            called=what,
            actual=values,
            hint="Every parameter should influence the output, so its gradient is not zero.",
        )


@check(TASK, points=2, depends=["deep_net.constructs"], visibility="hidden", show=("deviation",))
def test_forward_keeps_parameters(submission: Any, rng: np.random.Generator) -> None:
    """Calling forward does not change the network's parameters."""
    x = _batch(rng, 8, SIZES[0])
    what = f"two calls of {_name(SIZES)}(x) with x of shape {x.shape}"
    got = submission.require(TASK, "forward_keeps_parameters", what=what, sizes=list(SIZES), x=x)
    before, after = dict(got.get("before", {})), dict(got.get("after", {}))
    expect(
        sorted(before) == sorted(after),
        "forward added or removed parameters or buffers",
        called=what,
        expected=sorted(before),
        actual=sorted(after),
    )
    for name in sorted(before):
        old = as_float_array(before[name], what=name)
        new = as_float_array(after[name], what=name)
        if not (old.shape == new.shape and np.array_equal(old, new)):
            deviation = largest_deviation(new, old) if old.shape == new.shape else None
            shown = describe_pair(old, new)  # digits enough to differ
            raise CheckFailed(
                f"{what} changed {name}",
                called=what,
                expected=shown[0],
                actual=shown[1],
                deviation=deviation if isinstance(deviation, Deviation) else None,
                hint="forward only computes; create and initialise the layers in __init__.",
            )

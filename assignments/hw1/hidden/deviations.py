"""hw1's spaces of known deviations, searched by ``autograder.diagnosis`` when a check fails.

Each space is the reference with dimensions along which students' code is known to differ,
simulated here in numpy (float64, as the probes run the student's code):

- the optimizers, one flat vector of every parameter's values, so a step is a few vectorised
  operations whatever the shapes (and a constant being inferred is one more axis): eps placement
  (outside √, inside √, Adam's "eps-hat" form lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + eps)) and value (the
  argument, none, or a constant inferred from the run); Adam's bias correction on m, v, both or
  neither, its step count (per parameter, per step() call, per update), betas swapped, |g| for
  g², moments accumulated with ``+=``; momentum's sign, dampening (v ← m·v + (1−m)·g), Nesterov,
  velocity not kept, ``+=``, momentum fixed at a constant; AdaGrad and RMSprop's eps, |g|, a
  missing √, AdaGrad's sum starting at a constant (Keras starts it at 0.1), RMSprop's ``+=`` and
  swapped alpha;
- the network: the activation between the layers (sigmoid, ReLU, tanh, none), one of them left
  out, an activation on the output, a layer skipped, the layers in another order;
- gradient_descent's path: a step uphill, the step size fixed at a constant inferred from the
  path instead of the lr argument. (find_roots's own mistakes, descending on f, one root,
  unsorted, the closed form, are recognised by the roots checks themselves: they are about
  what it calls and returns, not a rule to simulate.)

A part is named only when ``diagnose`` finds its combination reproduces the student's numbers on
every input of the check (see ``autograder/diagnosis.py`` for what that can and cannot tell).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.checks import suite_module
from autograder.diagnosis import Case, Dimension, Explanation, Option, Space, diagnose

V = suite_module(__file__, "variants.py")
Constants = Mapping[str, np.ndarray]
EPS_BOUNDS = (-13.0, -1.0)  # log10 of a hard-coded eps the search may infer


def _eps_value(no_eps: str) -> Dimension:
    return Dimension("eps_value", (
        Option("argument"),
        Option("omitted", "there is no eps in the denominator", no_eps),
        Option("constant", "eps is fixed at {value} instead of the eps argument", "eps_fixed",
               infer=EPS_BOUNDS),
    ))


# --------------------------------------------------------------------------------------------
# Optimizers


@dataclass(frozen=True)
class Run:
    """One optimizer run as flat vectors: ``grads`` (steps, n) with 0 where a parameter had
    none, ``active`` (steps, parameters), the parameter of each value, and each value's
    hyper-parameters."""

    start: np.ndarray
    grads: np.ndarray
    active: np.ndarray
    owner: np.ndarray
    hyper: Mapping[str, np.ndarray]


def _run_inputs(cls: str, params: Sequence[Any], grads: Sequence[Sequence[Any]],
                kwargs: Mapping[str, Any] | None, groups: Sequence[Mapping] | None) -> Run:
    sizes = [int(np.size(p)) for p in params]
    owner = np.repeat(np.arange(len(params)), sizes)
    start = np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in params])
    flat = np.zeros((len(grads), start.size))
    active = np.zeros((len(grads), len(params)), dtype=bool)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for s, step in enumerate(grads):
        for j, grad in enumerate(step):
            if grad is not None:
                active[s, j] = True
                flat[s, offsets[j]:offsets[j + 1]] = np.ravel(np.asarray(grad, dtype=np.float64))
    hypers = V.hyper_parameters(cls, len(params), kwargs, groups)
    hyper: dict[str, np.ndarray] = {}
    for key in ("lr", "eps", "momentum", "alpha"):
        if key in hypers[0]:
            hyper[key] = np.array([float(hypers[j][key]) for j in owner])
    if "betas" in hypers[0]:
        hyper["beta1"] = np.array([float(hypers[j]["betas"][0]) for j in owner])
        hyper["beta2"] = np.array([float(hypers[j]["betas"][1]) for j in owner])
    return Run(start, flat, active, owner, hyper)


def _eps(run: Run, choice: Mapping[str, str], constants: Mapping[str, np.ndarray]) -> np.ndarray:
    if choice.get("eps_value") == "omitted":
        return np.zeros((1, 1))
    if choice.get("eps_value") == "constant":
        return np.asarray(constants["eps_value"], dtype=np.float64)[:, None]
    return run.hyper["eps"][None, :]


def _counts(run: Run, mode: str) -> Iterator[np.ndarray]:
    """The step count t of each value at each step: its parameter's own count, the number of
    step() calls, or the number of parameter updates so far."""
    own = np.zeros(run.active.shape[1])
    updates = 0
    for call, active in enumerate(run.active, start=1):
        t = np.zeros(run.active.shape[1])
        for j in np.flatnonzero(active):
            own[j] += 1
            updates += 1
            t[j] = {"own": own[j], "per_call": call, "per_update": updates}[mode]
        yield t[run.owner]


def _simulate_adam(run: Run, choice: Mapping[str, str], constants: Constants) -> Iterator[np.ndarray]:
    eps = _eps(run, choice, constants)
    beta1, beta2 = run.hyper["beta1"], run.hyper["beta2"]
    if choice["betas"] == "swapped":
        beta1, beta2 = beta2, beta1
    lr = run.hyper["lr"]
    p = np.broadcast_to(run.start, (eps.shape[0], run.start.size)).copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    keep = 1.0 if choice["accumulate"] == "plus_equals" else 0.0
    for step, t in enumerate(_counts(run, choice["count"])):
        g = run.grads[step]
        on = run.active[step][run.owner]
        second = np.abs(g) if choice["second"] != "square" else g * g
        m = np.where(on, keep * m + beta1 * m + (1 - beta1) * g, m)
        v = np.where(on, keep * v + beta2 * v + (1 - beta2) * second, v)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            fix1 = 1 - beta1**t if choice["bias"] in ("both", "m_only") else 1.0
            fix2 = 1 - beta2**t if choice["bias"] in ("both", "v_only") else 1.0
            if choice["eps_place"] == "hat":
                update = lr * np.sqrt(fix2) / fix1 * m / (np.sqrt(v) + eps)
            elif choice["second"] == "abs_no_sqrt":
                update = lr * (m / fix1) / (v / fix2 + eps)
            elif choice["eps_place"] == "inside":
                update = lr * (m / fix1) / np.sqrt(v / fix2 + eps)
            else:
                update = lr * (m / fix1) / (np.sqrt(v / fix2) + eps)
            p = np.where(on, p - update, p)
        yield p


def _simulate_momentum(run: Run, choice: Mapping[str, str], constants: Constants) -> Iterator[np.ndarray]:
    lr, momentum = run.hyper["lr"], run.hyper["momentum"][None, :]
    if choice["momentum_value"] == "constant":
        momentum = np.asarray(constants["momentum_value"], dtype=np.float64)[:, None]
    if choice["sign"] == "momentum_negated":
        momentum = -momentum
    flip = -1.0 if choice["sign"] == "uphill" else 1.0
    p = np.broadcast_to(run.start, (momentum.shape[0], run.start.size)).copy()
    u = np.zeros_like(p)
    form = choice["form"]
    for step in range(run.grads.shape[0]):
        g = flip * run.grads[step]
        on = run.active[step][run.owner]
        if form == "not_kept":
            new_p = p - lr * g
        elif form == "dampened":
            u = np.where(on, momentum * u + (1 - momentum) * g, u)
            new_p = p - lr * u
        elif form == "plus_equals":
            u = np.where(on, u + momentum * u - lr * g, u)
            new_p = p + u
        else:
            u = np.where(on, momentum * u - lr * g, u)
            new_p = p + momentum * u - lr * g if form == "nesterov" else p + u
        p = np.where(on, new_p, p)
        yield p


def _simulate_adaptive(run: Run, choice: Mapping[str, str], constants: Mapping[str, np.ndarray],
                       average: bool) -> Iterator[np.ndarray]:
    """AdaGrad (a sum of squares) or RMSprop (``average``: a running average of them)."""
    eps = _eps(run, choice, constants)
    lr = run.hyper["lr"]
    count = max(eps.shape[0], len(constants.get("initial", [0.0])))
    p = np.broadcast_to(run.start, (count, run.start.size)).copy()
    s = np.zeros_like(p)
    if choice.get("initial") == "constant":
        s = s + np.asarray(constants["initial"], dtype=np.float64)[:, None]
    alpha = run.hyper.get("alpha")
    for step in range(run.grads.shape[0]):
        g = run.grads[step]
        on = run.active[step][run.owner]
        second = np.abs(g) if choice["second"] == "abs" else g * g
        if not average:
            s = np.where(on, s + second, s)
        elif choice["average"] == "plus_equals":
            s = np.where(on, s + alpha * s + (1 - alpha) * second, s)
        elif choice["average"] == "alpha_swapped":
            s = np.where(on, (1 - alpha) * s + alpha * second, s)
        else:
            s = np.where(on, alpha * s + (1 - alpha) * second, s)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if choice["root"] == "missing":
                denominator = s + eps
            elif choice["eps_place"] == "inside":
                denominator = np.sqrt(s + eps)
            else:
                denominator = np.sqrt(s) + eps
            p = np.where(on, p - lr * g / denominator, p)
        yield p


def _optimizer_simulator(cls: str) -> Any:
    def simulate(run: Run, choice: Mapping[str, str], constants: Constants) -> Iterator[np.ndarray]:
        if cls == "Adam":
            return _simulate_adam(run, choice, constants)
        if cls == "SGDMomentum":
            return _simulate_momentum(run, choice, constants)
        return _simulate_adaptive(run, choice, constants, average=cls == "RMSprop")

    return simulate


_EPS_PLACE = Option("inside", "eps is added inside the square root, √(s + eps), not to √s",
                    "eps_inside_sqrt")
_ABS = Option("abs", "the squared gradients are |g| instead of g²", "abs_instead_of_square")
_ROOT = Dimension("root", (Option("sqrt"), Option(
    "missing", "the denominator has no square root: it divides by s + eps, not √s + eps",
    "sqrt_missing")))

OPTIMIZER_SPACES: dict[str, Space] = {
    "Adam": Space((
        Dimension("eps_place", (
            Option("outside"),
            Option("inside", "eps is added inside the square root, √(v̂ + eps)",
                   "adam_eps_inside_sqrt"),
            Option("hat", "the step uses the \"eps-hat\" form lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + eps), "
                   "which adds eps to √v instead of √v̂", "adam_eps_hat"),
        )),
        _eps_value("eps_omitted"),
        Dimension("bias", (
            Option("both"),
            Option("neither", "neither m nor v is bias-corrected", "adam_no_bias_correction"),
            Option("m_only", "m is bias-corrected but v is not", "adam_bias_correction_one_moment"),
            Option("v_only", "v is bias-corrected but m is not", "adam_bias_correction_one_moment"),
        )),
        Dimension("count", (
            Option("own"),
            Option("per_call", "the step count t is one counter advanced per step() call, "
                   "shared by all parameters", "adam_step_count_shared"),
            Option("per_update", "the step count t is one counter advanced per parameter "
                   "update, shared by all parameters", "adam_step_count_shared"),
        )),
        Dimension("betas", (Option("as_given"), Option(
            "swapped", "β1 and β2 are used the wrong way round", "adam_betas_swapped"))),
        Dimension("second", (
            Option("square"),
            Option("abs", "v averages |g| instead of g²", "adam_abs_instead_of_square"),
            Option("abs_no_sqrt", "v averages |g| and the step divides by v̂ + eps, without "
                   "a square root", "adam_abs_instead_of_square"),
        )),
        Dimension("accumulate", (Option("replace"), Option(
            "plus_equals", "m and v are accumulated with += instead of replaced by the average",
            "adam_moments_plus_equals"))),
    ), _optimizer_simulator("Adam")),
    "SGDMomentum": Space((
        Dimension("sign", (
            Option("downhill"),
            Option("uphill", "the velocity adds lr·g instead of subtracting it (the step goes "
                   "uphill)", "momentum_sign_flipped"),
            Option("momentum_negated", "the momentum term has the wrong sign (u ← −m·u − lr·g)",
                   "momentum_sign_flipped"),
        )),
        Dimension("form", (
            Option("reference"),
            Option("dampened", "the velocity is dampened, u ← m·u + (1 − m)·g, then p ← p − lr·u",
                   "momentum_dampened"),
            Option("nesterov", "the step is Nesterov's, p ← p + m·u − lr·g, not p ← p + u",
                   "momentum_nesterov"),
            Option("not_kept", "the velocity is not kept between steps (plain gradient descent)",
                   "momentum_velocity_not_kept"),
            Option("plus_equals", "the velocity is accumulated with +=, u ← u + m·u − lr·g",
                   "momentum_plus_equals"),
        )),
        Dimension("momentum_value", (Option("argument"), Option(
            "constant", "momentum is fixed at {value} instead of the momentum argument",
            "momentum_fixed", infer=(-3.0, -0.0005)))),
    ), _optimizer_simulator("SGDMomentum")),
    "AdaGrad": Space((
        Dimension("eps_place", (Option("outside"), _EPS_PLACE)),
        _eps_value("adagrad_no_eps"),
        Dimension("second", (Option("square"), _ABS)),
        _ROOT,
        Dimension("initial", (Option("zero"), Option(
            "constant", "the sum G starts at {value} instead of 0", "adagrad_initial_accumulator",
            infer=(-4.0, 1.0)))),
    ), _optimizer_simulator("AdaGrad")),
    "RMSprop": Space((
        Dimension("eps_place", (Option("outside"), _EPS_PLACE)),
        _eps_value("eps_omitted"),
        Dimension("average", (
            Option("replace"),
            Option("plus_equals", "s is accumulated with +=, s ← s + α·s + (1 − α)·g²",
                   "rmsprop_accumulate_plus_equals"),
            Option("alpha_swapped", "alpha and 1 − alpha are swapped, s ← (1 − α)·s + α·g²",
                   "rmsprop_alpha_swapped"),
        )),
        Dimension("second", (Option("square"), _ABS)),
        _ROOT,
    ), _optimizer_simulator("RMSprop")),
}


def _flat_trajectory(trajectory: Sequence[np.ndarray], steps: int) -> np.ndarray:
    return np.concatenate([np.asarray(t, dtype=np.float64).reshape(steps, -1) for t in trajectory],
                          axis=1)


def optimizer_case(cls: str, params: Sequence[Any], grads: Sequence[Sequence[Any]],
                   mine: Sequence[np.ndarray], theirs: Sequence[np.ndarray],
                   kwargs: Mapping[str, Any] | None = None,
                   groups: Sequence[Mapping] | None = None) -> Case:
    """One run of a check as evidence: its inputs, and the student's and reference's
    trajectories (each parameter's values after every step)."""
    run = _run_inputs(cls, params, grads, kwargs, groups)
    steps = len(grads)
    return Case(run, _flat_trajectory(mine, steps), _flat_trajectory(theirs, steps), run.start)


def simulated_case(cls: str, params: Sequence[Any], grads: Sequence[Sequence[Any]],
                   mine: Sequence[np.ndarray], kwargs: Mapping[str, Any] | None = None) -> Case:
    """A run as evidence for a check that has no reference run of its own: the reference's
    trajectory is simulated here (the same simulation every other check validates against the
    reference before naming anything)."""
    run = _run_inputs(cls, params, grads, kwargs, None)
    space = OPTIMIZER_SPACES[cls]
    reference = np.stack([np.ravel(p) for p in space.simulate(run, space.reference_choice(), {})])
    return Case(run, _flat_trajectory(mine, len(grads)), reference, run.start)


def diagnose_optimizer(cls: str, cases: Sequence[Case]) -> Explanation | None:
    """The known deviations of ``cls`` that reproduce every case, or None."""
    return diagnose(OPTIMIZER_SPACES[cls], cases)


# --------------------------------------------------------------------------------------------
# The network


@dataclass(frozen=True)
class Forward:
    """A forward pass as evidence: the reference's weights (float64) and the input batch."""

    state: Mapping[str, np.ndarray]
    x: np.ndarray


LAYERS = ("fc1", "fc2", "fc3", "fc4")
_FUNCTIONS = {
    "sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h)),
    "relu": lambda h: np.maximum(h, 0.0),
    "tanh": np.tanh,
    "none": lambda h: h,
    "softmax": lambda h: np.exp(h - h.max(axis=-1, keepdims=True))
    / np.exp(h - h.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True),
}
_ORDERS = [order for order in itertools.permutations(LAYERS) if order != LAYERS]


def _simulate_network(forward: Forward, choice: Mapping[str, str],
                      constants: Constants) -> Iterator[np.ndarray]:
    """fc1 → act → fc2 → act → fc3 → act → fc4 with the chosen changes; a skipped layer takes
    its activation with it (fc4's is the one after fc3, which then ends the network)."""
    if choice["order"] == "reference":
        order: list[str] = list(LAYERS)
    else:
        order = list(_ORDERS[int(choice["order"].removeprefix("order_"))])
    program: list[tuple[str, str]] = []
    for position, layer in enumerate(order):
        program.append(("layer", layer))
        if position < 3:
            missing = choice["missing"] == f"after_{position + 1}"
            program.append(("act", "none" if missing else choice["hidden"]))
    if choice["skipped"] != "none":
        skipped = choice["skipped"]
        at = program.index(("layer", skipped))
        del program[at:at + (1 if skipped == order[-1] else 2)]
    program.append(("act", choice["output"]))
    h = np.asarray(forward.x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for kind, what in program:
            if kind == "act":
                h = _FUNCTIONS[what](h)
                continue
            weight = np.asarray(forward.state[f"{what}.weight"], dtype=np.float64)
            if h.shape[-1] != weight.shape[1]:
                raise ValueError("the layers do not chain")
            h = h @ weight.T + np.asarray(forward.state[f"{what}.bias"], dtype=np.float64)
    yield np.ravel(h)


NETWORK_SPACE = Space((
    Dimension("hidden", (
        Option("sigmoid"),
        Option("relu", "ReLU instead of sigmoid between the layers", "relu_instead_of_sigmoid"),
        Option("tanh", "tanh instead of sigmoid between the layers", "tanh_instead_of_sigmoid"),
        Option("none", "no activation between the layers at all", "activation_missing"),
    )),
    Dimension("missing", (
        Option("none"),
        *(Option(f"after_{k}", f"no activation after fc{k}", "activation_missing")
          for k in (1, 2, 3)),
    )),
    Dimension("output", (
        Option("none"),
        Option("sigmoid", "a sigmoid is applied to the output", "activation_on_output"),
        Option("relu", "a ReLU is applied to the output", "activation_on_output"),
        Option("softmax", "a softmax is applied to the output", "activation_on_output"),
    )),
    Dimension("skipped", (
        Option("none"),
        *(Option(layer, f"{layer} is never applied in forward", "layer_skipped") for layer in LAYERS),
    )),
    Dimension("order", (
        Option("reference"),
        *(Option(f"order_{i}", f"the layers are applied in the order {', '.join(order)}",
                 "layers_wrong_order") for i, order in enumerate(_ORDERS)),
    )),
), _simulate_network, max_parts=2)


def network_case(state: Mapping[str, np.ndarray], x: np.ndarray, got: np.ndarray,
                 want: np.ndarray) -> Case:
    """A forward pass as evidence (one 'step': the output, flattened)."""
    return Case(Forward(state, np.asarray(x, dtype=np.float64)), np.ravel(got)[None, :],
                np.ravel(want)[None, :])


def diagnose_network(cases: Sequence[Case]) -> Explanation | None:
    """The known wiring deviations that reproduce every forward pass, or None."""
    return diagnose(NETWORK_SPACE, cases)


# --------------------------------------------------------------------------------------------
# Roots: gradient_descent's path


@dataclass(frozen=True)
class Descent:
    """A call of gradient_descent as evidence: the grad polynomial, the start and the lr."""

    coefficients: tuple[float, ...]
    x0: float
    lr: float


def _simulate_descent(descent: Descent, choice: Mapping[str, str],
                      constants: Constants) -> Iterator[np.ndarray]:
    """x0, then x ← x ∓ lr'·grad(x), grad by Horner's rule as the probe evaluates it."""
    lr = (np.asarray(constants["lr"], dtype=np.float64) if choice["lr"] == "constant"
          else np.array([descent.lr]))
    sign = -1.0 if choice["direction"] == "ascent" else 1.0
    x = np.full(lr.shape, float(descent.x0))
    yield x[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            total = np.full(x.shape, descent.coefficients[0])
            for coefficient in descent.coefficients[1:]:
                total = total * x + coefficient
            x = x - sign * lr * total
            yield x[:, None]


DESCENT_SPACE = Space((
    Dimension("direction", (Option("descent"), Option(
        "ascent", "each step goes uphill, x ← x + lr·grad(x)", "gd_ascends"))),
    Dimension("lr", (Option("argument"), Option(
        "constant", "the step size is fixed at {value} instead of the lr argument", "gd_lr_fixed",
        infer=(-8.0, 1.0)))),
), _simulate_descent, max_parts=2)
DESCENT_POINTS = 60  # the first points of a path are evidence enough


def descent_case(coefficients: Sequence[float], x0: float, lr: float, got: Mapping[str, Any]) -> Case:
    """The points grad was called at (a repeated call at the same x counted once), against the
    rule's path from x0, over the first points of both."""
    visited = np.asarray(got.get("visited"), dtype=np.float64).ravel()
    points = [float(v) for i, v in enumerate(visited) if i == 0 or v != visited[i - 1]]
    path, _ = V.rule_path(coefficients, x0, lr, DESCENT_POINTS)
    count = min(len(points), len(path), DESCENT_POINTS)
    return Case(Descent(tuple(float(c) for c in coefficients), float(x0), float(lr)),
                np.array(points[:count])[:, None], np.array(path[:count])[:, None],
                np.array([float(x0)]))


def diagnose_descent(cases: Sequence[Case]) -> Explanation | None:
    """The known deviations of gradient_descent's rule that reproduce every path, or None."""
    return diagnose(DESCENT_SPACE, cases)


def ran_away(got: Mapping[str, Any]) -> bool:
    """Whether a descent really diverged: some point it visited, or what it returned, is
    infinite, NaN or beyond 1e100."""
    visited = np.asarray(got.get("visited", []), dtype=np.float64).ravel()
    result = got.get("result")
    value = result.get("value") if isinstance(result, dict) else None
    numbers = [*visited.tolist(), *([float(value)] if isinstance(value, int | float) else [])]
    return any(not np.isfinite(v) or abs(v) > 1e100 for v in numbers)


def explained(diagnosis: Explanation | None) -> str:
    """A sentence for a failure message: what reproduces the student's values."""
    if diagnosis is None:
        return ""
    return (f". Your values are reproduced, on every input this check ran, by the reference with "
            f"these changes: {diagnosis.sentence}")


def told(diagnosis: Explanation | None, index: tuple, expected: float, actual: float,
         moved: float) -> str:
    """What a failure message adds: the named changes, or else plainly where and by how much
    the student's value leaves the reference's."""
    if diagnosis is not None:
        return explained(diagnosis)
    where = f" at index {index}" if index else ""
    if not np.isfinite(actual):
        return f": it is {actual}{where} where the reference has {expected:.10g}"
    gap = abs(actual - expected)
    share = f", {gap / moved:.3g} times the distance the reference moved" if moved else ""
    return (f": it is {actual:.10g}{where} where the reference has {expected:.10g} (off by "
            f"{gap:.3g}{share}); no known mistake reproduces your values")

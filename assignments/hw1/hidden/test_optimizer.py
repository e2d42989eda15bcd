"""Hidden checks of task 2, the four optimizers.

The student's classes run in the sandbox on gradient sequences generated here (several
parameter shapes, a 0-d scalar among them, gradients from 1e-6 to 10 with exact zeros); the
parameters after every step come back as data and are compared with the reference classes
run on the same inputs in this process. Where a class goes wrong, the trajectory is also
compared with re-implementations of known mistakes (``variants.py``), and a mistake is named
only when the student's numbers reproduce it.

Whether the update is written by hand is judged on every file and notebook cell the task can
import, read here and never run (``handwritten.py``); a trap in the sandbox that records calls of
torch's own optimizers adds evidence but cannot clear anyone, since code in the sandbox can undo
it. Behaviour is compared too: where a class's updates are bit-identical to torch's own optimizer
run here on the same inputs, and the reference's are not, the teacher gets a review flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    CheckFailed,
    Deviation,
    as_float_array,
    check,
    close,
    describe,
    describe_pair,
    expect,
    suite_module,
)
from autograder.runtime.status import ProbeStatus
from autograder.under_test import probe_failure

V = suite_module(__file__, "variants.py")
H = suite_module(__file__, "handwritten.py")
S = suite_module(__file__, "deviations.py")
TASK = "optimizer"
LOADS = ["optimizer.loads"]
# Checks of the update rules count only for rules written by hand: torch's own optimizers
# would pass them all.
OWN_RULES = [*LOADS, "optimizer.not_torch_optimizers"]
SHAPES: list[tuple[int, ...]] = [(3, 4), (5,), (), (2, 3, 2)]
STEPS = 15
CUSTOM = {
    "Adam": {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6},
    "SGDMomentum": {"lr": 0.003, "momentum": 0.7},
    "AdaGrad": {"lr": 0.05, "eps": 1e-7},
    "RMSprop": {"lr": 0.003, "alpha": 0.9, "eps": 1e-6},
}
TRAINING_STEPS = 20
TRAINING = {  # settings with which the reference at least halves the loss in 20 steps
    "Adam": {"lr": 0.02},
    "SGDMomentum": {"lr": 0.1, "momentum": 0.9},
    "AdaGrad": {"lr": 0.1},
    "RMSprop": {"lr": 0.01},
}
RTOL, ATOL = 1e-5, 1e-10  # on the distance travelled from the start, float64 throughout
# The update-rule checks on typical gradients allow this much, relative to the largest distance
# a parameter travels: eps (1e-10 to 1e-6) changes an update on gradients of 0.1 or more by
# less, a wrong rule (no bias correction, no momentum, += for =) by far more.
TYPICAL_RTOL = 1e-3
# Before the due date an update-rule check shows where the run left the reference, its plots and
# any named mistake; the exact inputs and values follow once the due date has passed.
UPDATE_RULE_SHOWS = ("deviation", "series")


# --------------------------------------------------------------------------------------------
# Inputs


def _scalar_as_float(value: Any) -> Any:
    """0-d values travel as plain floats (the probe makes them 0-d tensors again)."""
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)


def _params(rng: np.random.Generator, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    return [_scalar_as_float(rng.normal(size=shape)) for shape in shapes]


def _grads(
    rng: np.random.Generator, shapes: Sequence[tuple[int, ...]], steps: int, typical: bool = False
) -> list[list[np.ndarray | None]]:
    """Gradients whose entries span 1e-6 to 10 in magnitude, about one in seven exactly zero;
    the first entry of the first parameter is zero at every step (no history at all). With
    ``typical``, ordinary gradients instead: 0.1 to 10 in magnitude and never zero, where eps
    changes an update by less than TYPICAL_RTOL (the update rule itself, not eps, is judged)."""
    sequence: list[list[np.ndarray | None]] = []
    for _ in range(steps):
        step: list[np.ndarray | None] = []
        for shape in shapes:
            magnitude = 10.0 ** rng.uniform(-1 if typical else -6, 1, size=shape)
            sign = np.where(rng.random(size=shape) < 0.5, -1.0, 1.0)
            zero = rng.random(size=shape) < (0.0 if typical else 0.15)
            step.append(_scalar_as_float(np.where(zero, 0.0, sign * magnitude)))
        first = step[0]
        assert isinstance(first, np.ndarray)
        if not typical:
            first.reshape(-1)[0] = 0.0
        sequence.append(step)
    return sequence


def _call(cls: str, kwargs: dict | None, shapes: Sequence[tuple], steps: int, extra: str = "") -> str:
    options = f", {V.shown_options(kwargs)}" if kwargs else ""
    shown = ", ".join(str(tuple(s)) for s in shapes)
    return f"{cls}(params{options}) on parameters of shapes {shown}, {steps} steps{extra}"


# --------------------------------------------------------------------------------------------
# Comparing runs


def _trajectories(got: dict, params: Sequence[np.ndarray], steps: int, what: str) -> list[np.ndarray]:
    trajectory = got.get("trajectory")
    if not isinstance(trajectory, list) or len(trajectory) != len(params):
        raise CheckFailed(f"{what}: the run returned no parameter values", called=what)
    return [
        as_float_array(t, what=f"parameter {j} over the steps", shape=(steps, *np.shape(p)))
        for j, (t, p) in enumerate(zip(trajectory, params, strict=True))
    ]


def _no_torch(got: dict, what: str) -> None:
    calls = [str(c) for c in got.get("torch_calls", [])]
    expect(
        not calls,
        f"{what} ran torch's own optimizer code: {', '.join(calls[:5])}",
        called=what,
        hint="Write the update rule yourself with tensor operations; only the base class "
        "torch.optim.Optimizer may come from torch.optim.",
    )


def _deviation_series(cls: str, got: list[np.ndarray], want: list[np.ndarray],
                      start: list[np.ndarray]) -> dict[str, Any]:
    """Per step: the largest difference from the reference, and the reference's largest
    distance travelled, for scale."""
    steps = want[0].shape[0]
    with np.errstate(invalid="ignore"):
        difference = [max(float(np.max(np.abs(g[s] - w[s]), initial=0.0))
                          for g, w in zip(got, want, strict=True)) for s in range(steps)]
        travelled = [max(float(np.max(np.abs(w[s] - p), initial=0.0))
                         for w, p in zip(want, start, strict=True)) for s in range(steps)]
    floor = 1e-17  # zero does not fit on a log scale

    def clean(values: list[float]) -> list[float | None]:
        return [max(v, floor) if np.isfinite(v) else None for v in values]

    return {
        "title": f"{cls}: largest difference from the reference after each step",
        "xlabel": "step",
        "ylabel": "absolute difference (log scale)",
        "log_y": True,
        "lines": [
            {"label": f"your {cls} − reference", "x": list(range(1, steps + 1)),
             "y": clean(difference)},
            {"label": "reference distance from the start", "x": list(range(1, steps + 1)),
             "y": clean(travelled)},
        ],
    }


def _first_difference(got: list[np.ndarray], want: list[np.ndarray], start: list[np.ndarray],
                      nan_equal: bool = False, scale: float = 0.0) -> tuple[int, int, tuple] | None:
    """(step, parameter, index) of the first entry off the expected run, or None if all match;
    with ``nan_equal`` a NaN where the expected run has NaN too counts as equal. Entries match
    within RTOL of their distance travelled, plus ``scale`` times the largest distance any
    entry of that parameter travels in the expected run."""
    def atol(w: np.ndarray, p: np.ndarray) -> float:
        if not scale:
            return ATOL
        with np.errstate(invalid="ignore"):
            travelled = np.abs(np.asarray(w) - np.asarray(p))
        return ATOL + scale * float(np.max(np.where(np.isfinite(travelled), travelled, 0.0), initial=0.0))

    tolerances = [atol(w, p) for w, p in zip(want, start, strict=True)]

    def moved(g: np.ndarray, w: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved_got, moved_want = np.asarray(g - p), np.asarray(w - p)
        if nan_equal:
            both = np.isnan(moved_got) & np.isnan(moved_want)
            moved_got, moved_want = np.where(both, 0.0, moved_got), np.where(both, 0.0, moved_want)
        return moved_got, moved_want

    if all(close(*moved(g, w, p), RTOL, t)
           for g, w, p, t in zip(got, want, start, tolerances, strict=True)):
        return None  # every step at once; the step-by-step search is only for a difference
    steps = want[0].shape[0]
    for step in range(steps):
        for j, (g, w, p) in enumerate(zip(got, want, start, strict=True)):
            moved_got, moved_want = moved(g[step], w[step], p)
            if not close(moved_got, moved_want, RTOL, tolerances[j]):
                with np.errstate(invalid="ignore"):
                    gap = np.abs(moved_got - moved_want)
                bad = ~np.isfinite(gap) | (gap > tolerances[j] + RTOL * np.abs(moved_want))
                index = np.unravel_index(int(np.argmax(bad)), np.shape(p)) if np.ndim(p) else ()
                return step, j, tuple(int(i) for i in index)
    return None


def _compare(
    cls: str,
    got: dict,
    want: dict,
    params: list[np.ndarray],
    grads: list[list[Any]],
    what: str,
    kwargs: dict | None = None,
    groups: list[dict] | None = None,
    hint: str | None = None,
    scale: float = 0.0,
    evidence: list | None = None,
) -> None:
    """Fail with the first step where the student's parameters leave the reference's, naming
    any known mistake whose trajectory the student's reproduces (``scale``: see
    ``_first_difference``)."""
    steps = len(grads)
    _no_torch(got, what)
    mine = _trajectories(got, params, steps, what)
    theirs = _trajectories(want, params, steps, "the reference run")
    where = _first_difference(mine, theirs, params, scale=scale)
    evidence = [] if evidence is None else evidence  # every input of the check so far
    evidence.append(S.optimizer_case(cls, params, grads, mine, theirs, kwargs, groups))
    if where is None:
        return
    step, j, index = where
    diagnosis = S.diagnose_optimizer(cls, evidence)
    mistakes = diagnosis.mistakes if diagnosis else []
    expected, actual = float(theirs[j][step][index]), float(mine[j][step][index])
    abs_error = abs(actual - expected) if np.isfinite(actual) else None
    moved = abs(expected - float(np.asarray(params[j])[index]))
    shown = describe_pair(theirs[j][step], mine[j][step])  # digits enough to differ
    raise CheckFailed(
        f"{what}: parameter {j} (shape {tuple(np.shape(params[j]))}) leaves the reference "
        f"at step {step + 1}" + S.told(diagnosis, index, expected, actual, moved),
        called=what,
        expected=shown[0],
        actual=shown[1],
        deviation=Deviation(
            where=f"step {step + 1}, parameter {j}, index {index}",
            expected=expected,
            actual=actual if np.isfinite(actual) else None,
            abs_error=abs_error,
            rel_error=abs_error / moved if abs_error is not None and moved else None,
        ),
        hint=hint,
        mistakes=mistakes,
        series=[_deviation_series(cls, mine, theirs, params)],
    )


def _run_both(
    submission: Any, reference: Any, cls: str, what: str, **args: Any
) -> tuple[dict, dict]:
    got = submission.require(TASK, "run_steps", what=what, cls=cls, **args)
    want = V.run_reference_optimizer(reference, cls, "run_steps", **args)
    return got, want


RULE_HINTS = {
    "Adam": "m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; m̂ = m/(1−β1ᵗ); v̂ = v/(1−β2ᵗ); "
    "p ← p − lr·m̂/(√v̂ + eps), with t counted per parameter from 1.",
    "SGDMomentum": "u ← momentum·u − lr·g; p ← p + u, with u kept in self.state[p] between steps.",
    "AdaGrad": "G ← G + g²; p ← p − lr·g/(√G + eps).",
    "RMSprop": "s ← alpha·s + (1−alpha)·g²; p ← p − lr·g/(√s + eps).",
}


BOWL = {"start": [-1.5, 1.0], "scales": [1.0, 10.0], "steps": 40}
BOWL_LR = {"Adam": 0.1, "SGDMomentum": 0.02, "AdaGrad": 0.5, "RMSprop": 0.05}


def _bowl_series(submission: Any, reference: Any, cls: str) -> list[dict[str, Any]]:
    """The student's and the reference's paths on the 2-D bowl (x² + 10·y²)/2, drawn over a
    few of its level curves: a picture of how the update rule moves, for failed checks."""
    args = {**BOWL, "kwargs": {"lr": BOWL_LR[cls]}}
    run = submission.call(TASK, "descend_2d", cls=cls, **args)
    want = V.run_reference_optimizer(reference, cls, "descend_2d", **args)
    lines = []
    angles = np.linspace(0, 2 * np.pi, 60)
    for level in (0.1, 0.5, 2.0):  # one legend entry for the three ("_" labels are not listed)
        label = "loss = 0.1, 0.5, 2" if level == 0.1 else f"_loss = {level:g}"
        lines.append({"label": label, "kind": "guide",
                      "x": list(np.sqrt(2 * level) * np.cos(angles)),
                      "y": list(np.sqrt(2 * level / 10.0) * np.sin(angles))})
    for label, result in ((f"your {cls}", run.value if run.ok else None), (f"reference {cls}", want)):
        path = np.asarray(result.get("path"), dtype=np.float64) if isinstance(result, dict) else None
        if path is not None and path.ndim == 2 and path.shape[1] == 2 and path.shape[0] <= 1000:
            finite = np.all(np.isfinite(path), axis=1)
            lines.append({"label": label, "kind": "path", "x": [float(v) for v in path[finite, 0]],
                          "y": [float(v) for v in path[finite, 1]]})
    frame = {"xlim": [-2.2, 2.2], "ylim": [-1.3, 1.3]}  # the start and the drawn level curves
    for line in lines:
        if line["label"] == f"your {cls}" and any(
            not (-2.2 <= x <= 2.2 and -1.3 <= y <= 1.3) for x, y in zip(line["x"], line["y"], strict=True)
        ):
            line["label"] += " (leaves the frame)"
    return [{"title": f"{cls}, lr={BOWL_LR[cls]:g}, 40 steps on (x² + 10·y²)/2", "xlabel": "x",
             "ylabel": "y", "log_y": False, "lines": lines, **frame}]


def _bit_identical(got: dict, runs: Sequence[dict]) -> bool:
    """Whether a run's trajectory equals, bit for bit, one of the given runs'."""
    mine = got.get("trajectory")
    if not isinstance(mine, list):
        return False
    def same(theirs: Any) -> bool:
        return isinstance(theirs, list) and len(theirs) == len(mine) and all(
            np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(mine, theirs, strict=True)
        )

    return any(same(run.get("trajectory")) for run in runs)


def _flag_torch_twin(submission: Any, reference: Any, cls: str, runs: list[tuple[dict, dict]],
                     rng: np.random.Generator) -> None:
    """Flag for review a class whose updates are bit-identical to torch's own optimizer run
    here, on inputs where that says something: where the reference's own updates differ from
    torch's in some bit. ``runs`` are the update-rule runs (arguments, student's result); a
    run on complex parameters is added, where torch updates the real and imaginary parts
    each as a real number and a hand-written rule usually does complex arithmetic (for AdaGrad
    and RMSprop the natural real-valued rule has exactly torch's arithmetic)."""
    shapes: list[tuple[int, ...]] = [(3, 2, 2), (4, 2)]  # the last axis: real, imaginary
    args = {"params": _params(rng, shapes), "grads": _grads(rng, shapes, 6), "dtype": "complex128"}
    complex_run = submission.call(TASK, "run_steps", cls=cls, **args)
    if complex_run.ok and isinstance(complex_run.value, dict):
        runs = [*runs, (args, complex_run.value)]
    for args, got in runs:
        twins = V.torch_twin_runs(cls, "run_steps", **args)
        try:
            want = V.run_reference_optimizer(reference, cls, "run_steps", **args)
        except (RuntimeError, TypeError, ValueError):  # it need not handle complex parameters
            want = {}
        if _bit_identical(got, twins) and not _bit_identical(want, twins):
            submission.flag(
                f"{cls}: updates bit-identical to torch.optim.{V.TORCH_TWINS[cls]} (the "
                "reference's differ in the last bits): torch's optimizer in disguise, or a "
                "hand-written rule with exactly torch's arithmetic; worth reading the code"
            )
            return


def _matches_reference(submission: Any, reference: Any, rng: np.random.Generator, cls: str,
                       typical: bool = False, hint: str | None = None) -> None:
    """``cls`` against the reference for 15 steps, default and custom settings. With
    ``typical``, on ordinary gradients and within TYPICAL_RTOL: the rule itself; otherwise on
    gradients from 1e-6 to 10 with exact zeros and to RTOL, where eps matters too."""
    params = _params(rng, SHAPES)
    grads = _grads(rng, SHAPES, STEPS, typical=typical)
    runs = []
    evidence: list = []
    for kwargs in (None, CUSTOM[cls]):
        extra = ", gradients of 0.1 to 10" if typical else ", gradients from 1e-6 to 10 and exact zeros"
        what = _call(cls, kwargs, SHAPES, STEPS, extra)
        got, want = _run_both(submission, reference, cls, what, params=params, grads=grads,
                              kwargs=kwargs)
        runs.append(({"params": params, "grads": grads, "kwargs": kwargs}, got))
        try:
            _compare(cls, got, want, params, grads, what, kwargs=kwargs,
                     hint=hint or RULE_HINTS[cls], scale=TYPICAL_RTOL if typical else 0.0,
                     evidence=evidence)
        except CheckFailed as failure:
            failure.series += _bowl_series(submission, reference, cls)
            raise
    if not typical:
        _flag_torch_twin(submission, reference, cls, runs, rng)


# --------------------------------------------------------------------------------------------
# The update rules. For Adam, AdaGrad and RMSprop, two checks: the rule on ordinary gradients
# (most of the points: a wrong rule trains badly or not at all), and the same runs on gradients
# from 1e-6 to 10 with exact zeros, where eps (its value and where it goes) makes a difference
# too. A small eps slip costs the second check only; a wrong rule fails both. The second does
# not depend on the first: on its inputs a bug of the rule and one of eps can both be named at
# once. SGDMomentum has no eps: one check.

EPS_HINTS = {
    "Adam": "These gradients include tiny ones and exact zeros, where eps acts. If Adam passes "
    "the check on ordinary gradients, look at eps: use the eps argument (group['eps']), added "
    "after the square root: p ← p − lr·m̂/(√v̂ + eps).",
    "AdaGrad": "These gradients include tiny ones and exact zeros, where eps acts. If AdaGrad "
    "passes the check on ordinary gradients, look at eps: use the eps argument (group['eps']), "
    "added after the square root: p ← p − lr·g/(√G + eps), so a zero gradient never gives 0/0.",
    "RMSprop": "These gradients include tiny ones and exact zeros, where eps acts. If RMSprop "
    "passes the check on ordinary gradients, look at eps: use the eps argument (group['eps']), "
    "added after the square root: p ← p − lr·g/(√s + eps).",
}


@check(TASK, points=4, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_adam_update_rule(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """Adam follows the reference over 15 steps on ordinary gradients (default and custom
    settings)."""
    _matches_reference(submission, reference, rng, "Adam", typical=True)


@check(TASK, points=1, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_adam_matches_reference(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """Adam follows the reference to 1e-5 also on gradients from 1e-6 to 10 and exact zeros,
    where eps matters."""
    _matches_reference(submission, reference, rng, "Adam", hint=EPS_HINTS["Adam"])


@check(TASK, points=4, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_sgd_momentum_matches_reference(
    submission: Any, reference: Any, rng: np.random.Generator
) -> None:
    """SGDMomentum follows the reference over 15 steps (default and custom settings)."""
    _matches_reference(submission, reference, rng, "SGDMomentum")


@check(TASK, points=2, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_adagrad_update_rule(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """AdaGrad follows the reference over 15 steps on ordinary gradients (default and custom
    settings)."""
    _matches_reference(submission, reference, rng, "AdaGrad", typical=True)


@check(TASK, points=1, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_adagrad_matches_reference(
    submission: Any, reference: Any, rng: np.random.Generator
) -> None:
    """AdaGrad follows the reference to 1e-5 also on gradients from 1e-6 to 10 and exact
    zeros, where eps matters."""
    _matches_reference(submission, reference, rng, "AdaGrad", hint=EPS_HINTS["AdaGrad"])


@check(TASK, points=2, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_rmsprop_update_rule(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """RMSprop follows the reference over 15 steps on ordinary gradients (default and custom
    settings)."""
    _matches_reference(submission, reference, rng, "RMSprop", typical=True)


@check(TASK, points=1, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_rmsprop_matches_reference(
    submission: Any, reference: Any, rng: np.random.Generator
) -> None:
    """RMSprop follows the reference to 1e-5 also on gradients from 1e-6 to 10 and exact
    zeros, where eps matters."""
    _matches_reference(submission, reference, rng, "RMSprop", hint=EPS_HINTS["RMSprop"])


@check(TASK, points=1, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_adam_first_step_is_lr(submission: Any, reference: Any) -> None:
    """Adam's first step moves every coordinate by about lr, whatever the gradient's size."""
    grad = np.array([1e-6, -3e-5, 2e-3, -0.4, 7.0, 0.0, -10.0])
    params = [np.linspace(-1.0, 1.0, grad.size), 0.5]
    grads: list[list[Any]] = [[grad, -2e-6]]
    for lr in (1e-3, 0.05):
        kwargs = {"lr": lr}
        what = _call("Adam", kwargs, [(grad.size,), ()], 1, f" with p.grad = {grad.tolist()}, -2e-06")
        got, want = _run_both(submission, reference, "Adam", what, params=params, grads=grads,
                              kwargs=kwargs)
        _compare("Adam", got, want, params, grads, what, kwargs=kwargs,
                 hint=f"With bias correction the first step is lr·g/(|g| + eps) ≈ {lr} for every "
                 "coordinate whose gradient is not 0, even for tiny gradients.")


# --------------------------------------------------------------------------------------------
# Behaviour every optimizer shares


@check(TASK, points=1, depends=LOADS, visibility="hidden")
def test_classes_subclass_optimizer(submission: Any) -> None:
    """Adam, SGDMomentum, AdaGrad and RMSprop derive from torch.optim.Optimizer and can step."""
    what = "the classes Adam, SGDMomentum, AdaGrad, RMSprop"
    found = submission.require(TASK, "inspect_classes", what=what, names=list(V.OPTIMIZERS))
    for name in V.OPTIMIZERS:
        info = dict(found.get(name) or {})
        expect(bool(info.get("defined")), f"optimizer.py does not define {name}", called=what)
        expect(bool(info.get("is_class")), f"{name} is not a class", called=what)
        expect(
            info.get("is_optimizer") is True,
            f"{name} is not a subclass of torch.optim.Optimizer",
            called=what,
            actual=info.get("mro"),
            hint=f"class {name}(torch.optim.Optimizer): ... and call super().__init__(params, "
            "defaults) in __init__.",
        )
        step = f"{name}([p]).step() with p of shape (2,) and p.grad = [0.5, -1.0]"
        submission.require(TASK, "run_steps", what=step, cls=name, params=[np.ones(2)],
                           grads=[[np.array([0.5, -1.0])]])


# The mechanics (groups, a None grad, per-parameter step counts) are judged by comparing the
# student's optimizer with itself, never with the reference: a wrong update rule then costs the
# rule's checks only, and these fail only for the mechanism they are about.


def _own_run(submission: Any, cls: str, what: str, params: list[Any], grads: list[list[Any]],
             hint: str | None = None, **args: Any) -> list[np.ndarray]:
    """The student's ``cls`` run in the sandbox: each parameter's values after every step."""
    try:
        got = submission.require(TASK, "run_steps", what=what, cls=cls, params=params,
                                 grads=grads, **args)
    except CheckFailed as failure:
        failure.hint = failure.hint or hint
        raise
    _no_torch(got, what)
    return _trajectories(got, params, len(grads), what)


def _expect_moves(mine: list[np.ndarray], start: list[Any], what: str,
                  numbers: Sequence[int]) -> None:
    """Parameters that get non-zero gradients must move: a run that changes nothing would
    match any other run and show nothing."""
    for j in numbers:
        with np.errstate(invalid="ignore"):
            moved = bool(np.any(mine[j] != np.asarray(start[j])))  # NaN counts as moved
        expect(
            moved,
            f"{what}: parameter {j} never moved although it had non-zero gradients",
            called=what,
            hint="step() must update every parameter whose .grad is not None.",
        )


def _expect_same_run(what: str, mine: list[np.ndarray], other: list[np.ndarray],
                     start: list[Any], numbers: Sequence[int], other_name: str, hint: str,
                     mistakes: Sequence[str] = ()) -> None:
    """Fail with the first step where ``mine`` leaves ``other`` (two runs of the student's
    own optimizer that should agree); ``numbers`` are the parameters' numbers in ``what``."""
    where = _first_difference(mine, other, [np.asarray(p, dtype=np.float64) for p in start],
                              nan_equal=True)
    if where is None:
        return
    step, j, index = where
    expected, actual = float(other[j][step][index]), float(mine[j][step][index])
    abs_error = abs(actual - expected) if np.isfinite(actual) and np.isfinite(expected) else None
    moved = abs(expected - float(np.asarray(start[j])[index]))
    shown = describe_pair(other[j][step], mine[j][step])  # digits enough to differ
    raise CheckFailed(
        f"{what}: parameter {numbers[j]} differs from {other_name} at step {step + 1}",
        called=what,
        expected=shown[0],
        actual=shown[1],
        deviation=Deviation(
            where=f"step {step + 1}, parameter {numbers[j]}, index {index}",
            expected=expected if np.isfinite(expected) else None,
            actual=actual if np.isfinite(actual) else None,
            abs_error=abs_error,
            rel_error=abs_error / moved if abs_error is not None and moved else None,
        ),
        hint=hint,
        mistakes=mistakes,
    )


GROUP_SETTINGS = {  # what the second group sets besides lr, so every kind of setting is read
    "Adam": {"betas": [0.8, 0.99]},
    "SGDMomentum": {"momentum": 0.5},
    "AdaGrad": {"eps": 1e-6},
    "RMSprop": {"alpha": 0.9},
}


@check(TASK, points=2, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_param_groups(submission: Any, rng: np.random.Generator) -> None:
    """Each optimizer honours two parameter groups with their own settings: each group moves
    exactly as it does on its own, and a group's settings are the ones used."""
    shapes: list[tuple[int, ...]] = [(3,), (2, 2), ()]
    params = _params(rng, shapes)
    grads = _grads(rng, shapes, 10)
    for cls in V.OPTIMIZERS:
        lr = V.DEFAULTS[cls]["lr"]
        first, second = {"lr": lr * 5}, {"lr": lr / 2, **GROUP_SETTINGS[cls]}
        groups = [{"params": [0, 1], **first}, {"params": [2], **second}]
        what = _call(cls, None, shapes, 10, f" in two groups: {V.shown_options(first)} for "
                     f"parameters 0 and 1, {V.shown_options(second)} for parameter 2")
        mine = _own_run(submission, cls, what, params, grads, groups=groups)
        _expect_moves(mine, params, what, range(len(shapes)))
        alone = []
        for numbers, options in (([0, 1], first), ([2], second)):
            group = {"params": list(range(len(numbers))), **options}
            alone += _own_run(submission, cls, f"{what} (group {numbers} alone)",
                              [params[i] for i in numbers], [[s[i] for i in numbers] for s in grads],
                              groups=[group])
        _expect_same_run(
            what, mine, alone, params, range(len(shapes)),
            "the same optimizer given that parameter's group alone",
            hint="Loop over self.param_groups and, inside that loop, read lr and every other "
            "setting from the group the parameters belong to (not from the first group).",
        )
        plain = _own_run(submission, cls, f"{cls}(params) on parameters 0 and 1, 10 steps",
                         params[:2], [s[:2] for s in grads])
        same = _first_difference(alone[:2], plain, params[:2], nan_equal=True) is None
        expect(
            not same,
            f"{what}: parameters 0 and 1 moved exactly as with the default settings: the "
            f"group's {V.shown_options(first)} was not used",
            called=what,
            hint="Read lr (and every other setting) from each group in self.param_groups "
            "inside step, not from the constructor's arguments or self.defaults.",
        )


@check(TASK, points=2, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_none_grad_untouched(submission: Any, rng: np.random.Generator) -> None:
    """A parameter whose .grad is None is skipped: it stays exactly as it was, and the others
    move exactly as they would without it."""
    shapes: list[tuple[int, ...]] = [(3,), (2, 2), ()]
    params = _params(rng, shapes)
    grads = _grads(rng, shapes, 6)
    for step in grads:
        step[1] = None
    skip_hint = "In step: `if p.grad is None: continue`."
    for cls in V.OPTIMIZERS:
        what = _call(cls, None, shapes, 6, ", parameter 1 with .grad None throughout")
        mine = _own_run(submission, cls, what, params, grads, hint=skip_hint)
        expect(
            bool(np.all(mine[1] == params[1])),
            f"{what}: parameter 1 changed although its .grad is None",
            called=what,
            expected=params[1],
            actual=mine[1][-1],
            hint=skip_hint,
        )
        others = _own_run(submission, cls, f"{cls}(params) on parameters 0 and 2 only, 6 steps",
                          [params[0], params[2]], [[s[0], s[2]] for s in grads])
        _expect_same_run(
            what, [mine[0], mine[2]], others, [params[0], params[2]], (0, 2),
            "the same optimizer run without parameter 1",
            hint="Skip such a parameter with `continue`, not `break` or `return`, and keep "
            "nothing of it: the other parameters must move as if it were not there.",
        )
        _expect_moves(mine, params, what, (0, 2))


STEP_COUNT_MISTAKES = ("adam_step_count_shared",)


@check(TASK, points=2, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_adam_counts_steps_per_parameter(submission: Any, rng: np.random.Generator) -> None:
    """Adam counts steps per parameter: one that gets its first gradient later moves exactly
    as it does in a fresh Adam of its own, starting at t=1."""
    shapes: list[tuple[int, ...]] = [(4,), (2, 2)]
    params = _params(rng, shapes)
    grads = _grads(rng, shapes, 12)
    late = 5
    for step in range(late):
        grads[step][1] = None
    what = _call("Adam", None, shapes, 12, f", parameter 1 without a gradient in steps 1-{late}")
    first = _own_run(submission, "Adam", "Adam(params) on parameter 0 alone, 12 steps",
                     [params[0]], [[s[0]] for s in grads])
    second = _own_run(submission, "Adam", f"Adam(params) on parameter 1 alone, its "
                      f"{12 - late} steps with a gradient", [params[1]],
                      [[s[1]] for s in grads[late:]])
    run = submission.call(TASK, "run_steps", cls="Adam", params=params, grads=grads)
    if run.status == ProbeStatus.RAISED:
        lines = (run.error or "").strip().splitlines()
        pytest.skip(f"skipped because Adam raised while parameter 1 had no gradient "
                    f"({lines[-1] if lines else run.error_type}), so its step count cannot be "
                    "judged; the check none_grad_untouched reports it")
    if not run.ok:
        raise probe_failure(run, what)
    _no_torch(run.value, what)
    mine = _trajectories(run.value, params, len(grads), what)
    if not np.all(mine[1][:late] == params[1]):
        pytest.skip("skipped because Adam changed parameter 1 while its .grad was None, so its "
                    "step count cannot be judged; the check none_grad_untouched reports it")
    waiting = np.broadcast_to(np.asarray(params[1], dtype=np.float64), (late, *shapes[1]))
    alone = [first[0], np.concatenate([waiting, second[0]])]
    try:
        _expect_same_run(
            what, mine, alone, params, (0, 1),
            "a fresh Adam given only that parameter's gradients",
            hint="Keep the step count in self.state[p]['step'] and advance it only when p has a "
            "gradient: a parameter that was skipped has taken fewer steps, and its bias "
            "correction must use its own count.",
        )
    except CheckFailed as failure:
        diagnosis = S.diagnose_optimizer("Adam", [S.simulated_case("Adam", params, grads, mine)])
        failure.mistakes = [m for m in (diagnosis.mistakes if diagnosis else [])
                            if m in STEP_COUNT_MISTAKES]
        raise


@check(TASK, points=2, depends=OWN_RULES, visibility="hidden")
def test_closure_loss_returned(submission: Any, rng: np.random.Generator) -> None:
    """step(closure) calls the closure and returns its loss."""
    shapes: list[tuple[int, ...]] = [(3,), ()]
    params = _params(rng, shapes)
    grads = _grads(rng, shapes, 3)
    losses = [float(v) for v in rng.uniform(0.5, 5.0, size=3)]
    for cls in V.OPTIMIZERS:
        what = _call(cls, None, shapes, 3, f", step(closure) with the closure returning {losses}")
        got = submission.require(TASK, "run_steps", what=what, cls=cls, params=params,
                                 grads=grads, losses=losses)
        calls = [int(c) for c in got.get("closure_calls", [])]
        returned = list(got.get("returned", []))
        values = [r.get("value") if r.get("kind") == "number" else None for r in returned]
        ignored = any(c == 0 for c in calls) or any(r.get("kind") == "none" for r in returned)
        expect(
            len(calls) == 3 and all(c >= 1 for c in calls),
            f"{what}: the closure was called {calls} times in the three steps",
            called=what,
            expected=[1, 1, 1],
            actual=calls,
            hint="if closure is not None: with torch.enable_grad(): loss = closure()",
            mistakes=["closure_ignored"] if ignored else [],
        )
        expect(
            values == losses,
            f"{what}: step returned {[r.get('value', r.get('kind')) for r in returned]}, "
            f"expected the closure's losses {losses}",
            called=what,
            expected=losses,
            actual=values,
            hint="Return the closure's loss from step (None when there is no closure).",
            mistakes=["closure_ignored"] if ignored else [],
        )


def _grads_differ(after: Any, sent: list) -> list[tuple[int, int]]:
    """(step, parameter) pairs whose .grad after step() is not what was set before it,
    compared here in the trusted process (the child's own comparison can be patched)."""
    if not isinstance(after, list) or len(after) != len(sent):
        return [(0, -1)]
    differ = []
    for s, (got_step, sent_step) in enumerate(zip(after, sent, strict=True)):
        if not isinstance(got_step, list) or len(got_step) != len(sent_step):
            differ.append((s + 1, -1))
            continue
        for j, (got, want) in enumerate(zip(got_step, sent_step, strict=True)):
            if want is None or got is None:
                if (want is None) != (got is None):
                    differ.append((s + 1, j))
                continue
            want_array = np.asarray(want, dtype=np.float64)
            got_array = as_float_array(got, what=".grad after step")
            if got_array.shape != want_array.shape or not close(got_array, want_array, 1e-6, 0.0):
                differ.append((s + 1, j))
    return sorted(set(differ))


@check(TASK, points=2, depends=OWN_RULES, visibility="hidden")
def test_grad_unchanged(submission: Any, rng: np.random.Generator) -> None:
    """step never modifies the parameters' .grad."""
    shapes: list[tuple[int, ...]] = [(3, 2), ()]
    params = _params(rng, shapes)
    grads = _grads(rng, shapes, 4)
    for cls in V.OPTIMIZERS:
        what = _call(cls, None, shapes, 4)
        got = submission.require(TASK, "run_steps", what=what, cls=cls, params=params, grads=grads,
                                 watch_grads=True)
        changed = [[bool(c) for c in step] for step in got.get("grad_changed", [])]
        bad = [(s + 1, j) for s, step in enumerate(changed) for j, c in enumerate(step) if c]
        bad += _grads_differ(got.get("grads_after"), grads)
        expect(
            not bad and len(changed) == 4,
            f"{what}: step changed .grad (step, parameter: {bad[:4]})",
            called=what,
            hint="Compute with new tensors (g * g, m / (1 - beta1**t), ...) instead of in-place "
            "operations on p.grad such as p.grad.mul_(...) or g += ... where g is p.grad.",
            mistakes=["grad_modified"] if bad else [],
        )


@check(TASK, points=2, depends=OWN_RULES, visibility="after_due_date", show=UPDATE_RULE_SHOWS)
def test_state_dict_roundtrip(submission: Any, rng: np.random.Generator) -> None:
    """state_dict() → a fresh optimizer → load_state_dict() continues exactly where it stopped."""
    shapes: list[tuple[int, ...]] = [(3,), (2, 2), ()]
    params = _params(rng, shapes)
    steps, split = 8, 4
    grads = _grads(rng, shapes, steps)
    for cls in V.OPTIMIZERS:
        what = _call(cls, None, shapes, steps, f", saved with state_dict() after step {split} "
                     "and loaded into a new optimizer for the rest")
        resumed = submission.require(TASK, "state_dict_roundtrip", what=what, cls=cls,
                                     params=params, grads=grads, split=split)
        straight_what = _call(cls, None, shapes, steps)
        straight = submission.require(TASK, "run_steps", what=straight_what, cls=cls,
                                      params=params, grads=grads)
        mine = _trajectories(resumed, params, steps, what)
        uninterrupted = _trajectories(straight, params, steps, straight_what)
        where = _first_difference(mine, uninterrupted, params, nan_equal=True)
        if where is None:
            continue
        step, j, index = where
        outside = int(resumed.get("saved_state_entries", 0)) == 0
        shown = describe_pair(uninterrupted[j][step], mine[j][step])  # digits enough to differ
        raise CheckFailed(
            f"{what}: after loading the state, parameter {j} differs from an uninterrupted "
            f"run at step {step + 1}",
            called=what,
            expected=shown[0],
            actual=shown[1],
            hint="Keep everything the rule needs between steps (moments, sums, velocity, the "
            "step count) in self.state[p]; state_dict() saves only self.state and "
            "self.param_groups."
            + (" Your state_dict() held no state at all." if outside else ""),
            mistakes=["state_outside_self_state"] if outside and step >= split else [],
        )


# --------------------------------------------------------------------------------------------
# Written by hand, not borrowed from torch.optim


@check(TASK, points=1, depends=LOADS, visibility="hidden")
def test_not_torch_optimizers(submission: Any, rng: np.random.Generator) -> None:
    """The update rules are written by hand, not taken from torch.optim's optimizers."""
    found = submission.require(TASK, "inspect_classes", what="the four classes",
                               names=list(V.OPTIMIZERS))
    evidence = []
    for name in V.OPTIMIZERS:
        bases = [str(b) for b in dict(found.get(name) or {}).get("torch_bases", [])]
        if bases:
            evidence.append(f"{name} derives from {', '.join(bases)}")
    params = _params(rng, [(3,), ()])
    grads = _grads(rng, [(3,), ()], 3)
    ran = []
    for name in V.OPTIMIZERS:
        run = submission.call(TASK, "run_steps", cls=name, params=params, grads=grads)
        if not run.ok or not isinstance(run.value, dict):
            continue  # a class that does not run is judged by the other checks
        ran.append(name)
        calls = [str(c) for c in run.value.get("torch_calls", [])]
        if calls:
            evidence.append(f"{name}.step ran {', '.join(calls[:4])}")
    entry = submission.submission.entry_for(submission.assignment.task(TASK).files,
                                            submission.assignment.notebook)
    evidence += H.findings(submission.sources(), entry or "", V.OPTIMIZERS)[:8]
    expect(bool(ran), "none of Adam, SGDMomentum, AdaGrad, RMSprop could take a step",
           called="step() of each class", hint="Implement step() first.")
    expect(
        not evidence,
        "torch's own optimizer code is used: " + "; ".join(evidence),
        called="the four optimizer classes",
        hint="Subclass torch.optim.Optimizer only, and write each update with tensor "
        "operations (mul_, add_, addcmul_, sqrt, ...).",
    )


# --------------------------------------------------------------------------------------------
# Using the optimizers: training a network, and minimising the seed's squared equation


def _training_problem(reference: Any, rng: np.random.Generator) -> dict[str, Any]:
    """The reference network (4-8-8-1, sigmoids) as data, and a small regression."""
    state = V.reference_state(reference, (4, 8, 8, 1), seed=int(rng.integers(1 << 30)))
    network: list[list[Any]] = []
    for layer in ("fc1", "fc2", "fc3", "fc4"):
        network.append(["linear", state[f"{layer}.weight"].astype(np.float64),
                        state[f"{layer}.bias"].astype(np.float64)])
        if layer != "fc4":
            network.append(["sigmoid"])
    x = rng.normal(size=(64, 4))
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3] - 0.3 * x[:, 3:4]) + 1.0
    return {"network": network, "x": x, "y": y, "steps": TRAINING_STEPS}


def _trains(submission: Any, reference: Any, rng: np.random.Generator, cls: str) -> None:
    problem = _training_problem(reference, rng)
    kwargs = TRAINING[cls]
    options = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    what = (f"{TRAINING_STEPS} steps of {cls}({options}) training the "
            "reference network 4-8-8-1 on a regression of 64 points (mean squared error)")
    got = submission.require(TASK, "train", what=what, cls=cls, kwargs=kwargs, **problem)
    want = V.run_reference_optimizer(reference, cls, "train", kwargs=kwargs, **problem)
    _no_torch(got, what)
    mine = as_float_array(got.get("losses"), what="the losses", shape=(TRAINING_STEPS + 1,))
    theirs = as_float_array(want["losses"], what="the reference losses", shape=(TRAINING_STEPS + 1,))
    start = float(theirs[0])
    target_drop = 0.5 * (start - float(theirs[-1]))
    series = {
        "title": f"Training loss with {cls}",
        "xlabel": "step",
        "ylabel": "mean squared error",
        "log_y": True,
        "lines": [
            {"label": f"your {cls}", "x": list(range(TRAINING_STEPS + 1)),
             "y": [float(v) if np.isfinite(v) else None for v in mine]},
            {"label": f"reference {cls}", "x": list(range(TRAINING_STEPS + 1)),
             "y": [float(v) for v in theirs]},
        ],
    }
    final = float(mine[-1])
    if not (np.isfinite(final) and start - final >= target_drop):
        raise CheckFailed(
            f"{what}: the loss went from {start:.4g} to {final:.4g}; the reference reaches "
            f"{float(theirs[-1]):.4g}",
            called=what,
            expected=f"a final loss of at most {start - target_drop:.4g}",
            actual=f"{final:.4g}",
            hint=RULE_HINTS[cls],
            series=[series],
        )


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_adam_trains_network(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """Adam trains the reference network to a lower loss on a small regression."""
    _trains(submission, reference, rng, "Adam")


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_sgd_momentum_trains_network(
    submission: Any, reference: Any, rng: np.random.Generator
) -> None:
    """SGDMomentum trains the reference network to a lower loss on a small regression."""
    _trains(submission, reference, rng, "SGDMomentum")


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_adagrad_trains_network(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """AdaGrad trains the reference network to a lower loss on a small regression."""
    _trains(submission, reference, rng, "AdaGrad")


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_rmsprop_trains_network(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """RMSprop trains the reference network to a lower loss on a small regression."""
    _trains(submission, reference, rng, "RMSprop")


def _solves(submission: Any, reference: Any, cls: str) -> None:
    for case in (c for c in V.solve_settings("minimise") if c["optimizer"] == cls):
        kwargs = dict(case["kwargs"])
        args = {"coefficients": list(V.SEED_COEFFICIENTS), "x0": float(case["x0"]),
                "max_iter": int(case["max_iter"]), "kwargs": kwargs, "stop_loss": 1e-14}
        options = V.shown_options(kwargs)
        what = (f"minimising (x² − 6x + 4)² from x0 = {case['x0']} with {cls}([x], {options}), "
                f"at most {case['max_iter']} steps")
        got = submission.require(TASK, "minimise", what=what, cls=cls, **args)
        _no_torch(got, what)
        x = got.get("x")
        root = float(case["root"])
        if isinstance(x, float) and np.isfinite(x) and abs(x - root) <= 1e-4:
            continue
        want = V.run_reference_optimizer(reference, cls, "minimise", **args)
        mine = as_float_array(got.get("path"), what="the path")
        theirs = as_float_array(want["path"], what="the reference path")
        lines = []
        for label, path in ((f"your {cls}", mine), (f"reference {cls}", theirs)):
            positions, values = V.thin(path)
            steps = [i + 1 for i in positions]  # x after step i + 1; step 0 is the start
            lines.append({"label": label, "x": [0, *steps], "y": [float(case["x0"]), *values]})
        lines.append({"label": "the root", "kind": "guide", "x": [0, max(len(mine), len(theirs), 1)],
                      "y": [root, root]})
        raise CheckFailed(
            f"{what}: ended at x = {describe(x)}, expected the root {root:.10g} within 1e-4",
            called=what,
            expected=f"{root:.10g}",
            actual=describe(x),
            hint=RULE_HINTS[cls],
            series=[V.framed({"title": f"x during the minimisation with {cls}", "xlabel": "step",
                              "ylabel": "x", "log_y": False, "lines": lines}, f"your {cls}")],
        )


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_adam_solves_quadratic(submission: Any, reference: Any) -> None:
    """Adam drives x from 7 to the root 5.2361 of x² − 6x + 4 (teacher's settings)."""
    _solves(submission, reference, "Adam")


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_sgd_momentum_solves_quadratic(submission: Any, reference: Any) -> None:
    """SGDMomentum drives x from -1 to the root 0.7639 of x² − 6x + 4 (teacher's settings)."""
    _solves(submission, reference, "SGDMomentum")


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_adagrad_solves_quadratic(submission: Any, reference: Any) -> None:
    """AdaGrad drives x from 7 to the root 5.2361 of x² − 6x + 4 (teacher's settings)."""
    _solves(submission, reference, "AdaGrad")


@check(TASK, points=1, depends=OWN_RULES, visibility="hidden", show=("expected", "actual", "series"))
def test_rmsprop_solves_quadratic(submission: Any, reference: Any) -> None:
    """RMSprop drives x from -1 to the root 0.7639 of x² − 6x + 4 (teacher's settings)."""
    _solves(submission, reference, "RMSprop")

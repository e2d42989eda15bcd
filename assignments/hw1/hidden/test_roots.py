"""Hidden checks of task 3: ``gradient_descent``, ``find_roots`` and ``solve``.

``gradient_descent`` gets derivatives written as polynomials (the seed's squared loss
``(x² − 6x + 4)²`` among them, and others drawn for each submission from its files' content,
so that no table of known answers can pass) and is judged on its path: the probe records where
grad was called, and every call must be where the rule x ← x − lr·grad(x), recomputed here,
leads from the one before. ``find_roots`` runs on quadratics whose roots are known here in
closed form; ``solve`` runs with torch's own ``Adam`` and ``SGD``, the trusted stand-ins for the
homework's optimizers, and must return their k-th iterate for a few small k, recomputed here.

Did ``find_roots`` really descend? The check ``uses_descent`` looks at behaviour only: while
``find_roots`` runs, the probe replaces the submission's module-level ``gradient_descent`` by a
recorder (what x0 and lr it was given, what it returned) and counts calls of ``math.sqrt``,
``cmath.sqrt``, ``numpy.sqrt``, ``numpy.emath.sqrt``, ``torch.sqrt`` and ``numpy.roots``, also
under names the submission imported them as. It can tell that every returned root is a value
``gradient_descent`` returned during the call, that no descent was made at all, that a square
root was taken, and that a descent started within 0.01 of a root (the descent then only
polishes an answer found some other way; a start beside the vertex is at least 0.25 away from
each root under the contract's inputs). It cannot see a
square root written as ``** 0.5``, a descent loop written inline instead of calling
``gradient_descent``, a function kept under another name before the call, or how a starting
point close to the answer was chosen; those need a person reading the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from autograder.checks import CheckFailed, check, describe, expect, expect_close, suite_module
from autograder.runtime.status import ProbeStatus

V = suite_module(__file__, "variants.py")
S = suite_module(__file__, "deviations.py")
TASK = "roots"
LOADS = ["roots.loads"]
# find_roots is built on gradient_descent: its results count only when gradient_descent really
# descends (a shortcut in it could otherwise hand find_roots answers it did not descend to).
DESCENDS = ["roots.gd_seed_from_outside"]
SEED_GRAD = V.squared_loss_gradient(*V.SEED_COEFFICIENTS)  # F'(x) for F = (x² − 6x + 4)²
PARABOLA_GRAD = [2.0, -4.0]  # the derivative of (x − 2)²
TWO_ROOTS = [(2.0, 3.0, -5.0), (0.5, 0.0, -8.0), (10.0, -1.0, -9.9), (0.1, 0.0, -9.9),
             (3.0, -7.5, 3.0), (1.0, 9.0, -10.0), (0.25, -0.5, -2.0)]
NEGATIVE_A = [(-1.0, 6.0, -4.0), (-3.0, 6.0, 9.0), (-0.5, -1.0, 4.0), (-10.0, 0.0, 2.5)]
NO_ROOT = [(1.0, 2.0, 5.0), (-2.0, 1.0, -3.0), (3.0, 0.0, 1.0), (0.5, -3.0, 4.6)]
ROOTS_HINT = ("Each root must be within 1e-4: descend on F = f² from a start on each side of the "
              "vertex, with a step size scaled to the quadratic (a fixed lr that suits one "
              "quadratic overshoots or crawls on another), until the step is below tol.")
START_DISTANCE = 0.01  # a descent started this close to a root did not find it
GRAD_POINTS = [-2.0, -0.5, 0.7, 1.9, 3.3]  # where the grad handed to gradient_descent is sampled


def _shown(result: Any) -> str:
    if isinstance(result, dict) and result.get("kind") == "number":
        return describe(result.get("value"))
    if isinstance(result, dict) and result.get("kind") == "other":
        return f"a {result.get('type')}"
    return "None"


def _polynomial(coefficients: Sequence[float]) -> str:
    """A readable polynomial, highest power first."""
    degree = len(coefficients) - 1
    terms = []
    for power, c in enumerate(coefficients):
        exponent = degree - power
        if c == 0:
            continue
        x = "" if exponent == 0 else ("x" if exponent == 1 else f"x^{exponent}")
        magnitude = f"{abs(c):g}" if abs(c) != 1 or exponent == 0 else ""
        sign = "-" if c < 0 else "+"
        terms.append(f"{sign} {magnitude}{x}")
    text = " ".join(terms).removeprefix("+ ")
    return text.replace("- ", "-", 1) if text.startswith("- ") else text


def _quadratic(a: float, b: float, c: float) -> str:
    return f"find_roots({a:g}, {b:g}, {c:g})"


def _path_series(title: str, ylabel: str, paths: dict[str, Any], target: float) -> dict:
    lines = []
    length = 1
    for label, path in paths.items():
        values = np.asarray(path, dtype=np.float64).ravel() if path is not None else np.zeros(0)
        steps, ys = V.thin(values)
        length = max(length, values.size)
        lines.append({"label": label, "x": steps, "y": ys})
    lines.append({"label": "the root", "kind": "guide", "x": [0, length - 1], "y": [target, target]})
    series = {"title": title, "xlabel": "step", "ylabel": ylabel, "log_y": False, "lines": lines}
    return V.framed(series, next(iter(paths)))


def _loss_curve_series(grad_coefficients: Sequence[float], paths: dict[str, Any]) -> dict:
    """The descent's path drawn on the loss curve: the loss is the integral of the grad
    polynomial (up to a constant, which does not change the picture)."""
    loss = np.poly1d(np.polyint(np.asarray(grad_coefficients, dtype=np.float64)))
    lines = []
    seen = [np.zeros(0)]
    for label, path in paths.items():
        values = np.asarray(path, dtype=np.float64).ravel() if path is not None else np.zeros(0)
        values = values[np.isfinite(values)]
        seen.append(values)
        picks = V.thin(values, keep=80)[0]
        xs = [float(values[i]) for i in picks]
        lines.append({"label": label, "kind": "path", "x": xs, "y": [float(loss(x)) for x in xs]})
    every = np.concatenate(seen)
    low, high = (float(every.min()), float(every.max())) if every.size else (-1.0, 1.0)
    span = max(high - low, 1.0)
    grid = np.linspace(low - 0.1 * span, high + 0.1 * span, 200)
    lines.insert(0, {"label": "loss", "x": grid.tolist(), "y": loss(grid).tolist()})
    return {"title": "the path on the loss curve", "xlabel": "x", "ylabel": "loss", "log_y": False,
            "lines": lines}


# --------------------------------------------------------------------------------------------
# gradient_descent


def _descend(submission: Any, reference: Any, coefficients: list[float], x0: float, lr: float,
             root: float, tolerance: float) -> None:
    what = f"gradient_descent(grad, {x0:.6g}, {lr:.6g}) with grad(x) = {_polynomial(coefficients)}"
    got = submission.require(TASK, "gradient_descent", what=what, coefficients=coefficients,
                             x0=x0, lr=lr)
    x = V.returned_number(got.get("result"))
    off = V.descent_path_error(coefficients, x0, lr, got)
    if off is None and x is not None and abs(x - root) <= tolerance:
        return
    want = V.run_reference_probe(
        "gradient_descent", {"gradient_descent": reference.roots.gradient_descent},
        coefficients=coefficients, x0=x0, lr=lr,
    )
    series = [_path_series("x at each call of grad", "x",
                           {"your gradient_descent": got.get("visited"),
                            "reference": want.get("visited")}, root),
              _loss_curve_series(coefficients, {"your gradient_descent": got.get("visited"),
                                                "reference": want.get("visited")})]
    if off is not None:
        diagnosis = S.diagnose_descent([S.descent_case(coefficients, x0, lr, got)])
        raise CheckFailed(
            f"{what} did not follow x ← x − lr·grad(x): {off}{S.explained(diagnosis)}",
            called=what,
            expected="grad called at x0, then at each x the rule gives from the one before",
            actual=off,
            hint="Evaluate grad only at the points the descent visits: start at x0, repeat "
            "x ← x − lr·grad(x) and return x once |lr·grad(x)| < tol.",
            series=series,
            mistakes=diagnosis.mistakes if diagnosis else [],
        )
    raise CheckFailed(
        f"{what} returned {_shown(got.get('result'))}, expected {root:.10g} within {tolerance:g}",
        called=what,
        expected=f"{root:.10g}",
        actual=_shown(got.get("result")),
        hint="Repeat x ← x − lr·grad(x) and stop as soon as |lr·grad(x)| < tol; return x.",
        series=series,
    )


@check(TASK, points=2, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_gd_seed_from_outside(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """gradient_descent on (x² − 6x + 4)², and on a squared quadratic drawn for this grading,
    follows x ← x − lr·grad(x) from outside the roots to the nearer one."""
    for x0, root in ((-10.0, V.SEED_ROOTS[0]), (10.0, V.SEED_ROOTS[1])):
        _descend(submission, reference, SEED_GRAD, x0, 1e-3, root, 1e-6)
    coefficients, x0, lr, root = V.drawn_squared_quadratic(V.drawn_rng(submission.submission.files, rng))
    _descend(submission, reference, coefficients, x0, lr, root, 1e-6)


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_gd_seed_near_vertex(submission: Any, reference: Any) -> None:
    """gradient_descent on (x² − 6x + 4)² follows x ← x − lr·grad(x) from just either side of
    x = 3 to both roots."""
    for x0, root in ((2.99, V.SEED_ROOTS[0]), (3.01, V.SEED_ROOTS[1])):
        _descend(submission, reference, SEED_GRAD, x0, 1e-3, root, 1e-6)


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_gd_simple_parabola(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """gradient_descent on two parabolas drawn for this grading, one quick and one slow to
    descend, follows x ← x − lr·grad(x) to the minimum."""
    drawn = V.drawn_rng(submission.submission.files, rng)
    for slow in (False, True):
        coefficients, x0, lr, minimum = V.drawn_parabola(drawn, slow)
        _descend(submission, reference, coefficients, x0, lr, minimum, 1e-8)


def _expect_raises(submission: Any, what: str, error: str, args: dict[str, Any],
                   not_raised_mistakes: Sequence[str] = (), hint: str | None = None,
                   only_if_ran_away: bool = False) -> None:
    """Fail unless the call raises ``error``; a return names ``not_raised_mistakes`` (with
    ``only_if_ran_away``, only when x really ran off: a rule that never diverged, one that
    ignores lr say, did not fail to detect a divergence)."""
    result = submission.call(TASK, "gradient_descent", **args)
    if result.status == ProbeStatus.RAISED and result.error_type == error:
        return
    if result.status == ProbeStatus.RAISED:
        lines = (result.error or "").strip().splitlines()
        raise CheckFailed(
            f"{what} raised {result.error_type}, expected {error}",
            called=what,
            expected=error,
            actual=lines[-1] if lines else result.error_type,
            hint=hint,
        )
    if not result.ok:
        raise CheckFailed(f"{what} did not finish normally ({result.status}): {result.error}",
                          called=what, expected=error, hint=hint)
    returned = result.value.get("result")
    raise CheckFailed(
        f"{what} returned {_shown(returned)} instead of raising {error}",
        called=what,
        expected=f"{error} raised",
        actual=f"returned {_shown(returned)}",
        hint=hint,
        mistakes=not_raised_mistakes if not only_if_ran_away or S.ran_away(result.value) else [],
    )


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_gd_rejects_bad_arguments(submission: Any) -> None:
    """gradient_descent raises ValueError for lr <= 0 and for max_iter < 1."""
    cases = [({"lr": 0.0}, "lr = 0"), ({"lr": -0.1}, "lr = -0.1"),
             ({"lr": 0.1, "max_iter": 0}, "max_iter = 0")]
    for options, label in cases:
        args = {"coefficients": PARABOLA_GRAD, "x0": 0.0, **options}
        extra = ", max_iter=0" if "max_iter" in options else ""
        what = f"gradient_descent(grad, 0, {options['lr']:g}{extra}) ({label})"
        _expect_raises(submission, what, "ValueError", args,
                       hint="Check the arguments first: if not lr > 0 or max_iter < 1, "
                       "raise ValueError.")


@check(TASK, points=2, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_gd_divergence_raises(submission: Any) -> None:
    """gradient_descent raises RuntimeError when x runs off to infinity (lr too large)."""
    cases = [(PARABOLA_GRAD, 3.0, 1.5), (SEED_GRAD, 10.0, 0.1)]
    for coefficients, x0, lr in cases:
        what = (f"gradient_descent(grad, {x0:g}, {lr:g}) with grad(x) = "
                f"{_polynomial(coefficients)} (each step overshoots further)")
        args = {"coefficients": coefficients, "x0": x0, "lr": lr}
        _expect_raises(submission, what, "RuntimeError", args, only_if_ran_away=True,
                       not_raised_mistakes=["divergence_not_detected"],
                       hint="After each step, if not math.isfinite(x): raise RuntimeError(...).")


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_gd_max_iter_raises(submission: Any) -> None:
    """gradient_descent raises RuntimeError when max_iter steps were not enough."""
    what = "gradient_descent(grad, 0, 0.0001, max_iter=5) with grad(x) = 2x - 4"
    args = {"coefficients": PARABOLA_GRAD, "x0": 0.0, "lr": 1e-4, "max_iter": 5}
    _expect_raises(submission, what, "RuntimeError", args,
                   not_raised_mistakes=["divergence_not_detected"],
                   hint="When the loop ends without converging, raise RuntimeError instead of "
                   "returning x.")


# --------------------------------------------------------------------------------------------
# find_roots


def _roots(submission: Any, a: float, b: float, c: float, what: str | None = None) -> dict:
    """find_roots(a, b, c) in the sandbox; fails unless it returned a list of numbers."""
    what = what or _quadratic(a, b, c)
    got = submission.require(TASK, "find_roots", what=what, a=a, b=b, c=c,
                             grad_points=GRAD_POINTS)
    roots = got.get("roots")
    expect(
        isinstance(roots, list) and all(isinstance(r, float) for r in roots),
        f"{what} returned {got.get('type')} {describe(roots)}, expected a list of numbers",
        called=what,
        hint="Return a list of floats: [] or [x1, x2] with x1 < x2.",
    )
    return got


def _one_root_only(roots: list[float], expected: list[float]) -> bool:
    return len(roots) == 1 and len(expected) == 2 and min(abs(roots[0] - r) for r in expected) <= 1e-4


def _expect_roots(roots: list[float], expected: list[float], what: str, *, ordered: bool,
                  extra_mistakes: Sequence[str] = ()) -> None:
    mistakes = list(extra_mistakes)
    if _one_root_only(roots, expected):
        mistakes.append("one_root_only")
    shown = roots if ordered else sorted(roots)
    if len(shown) != len(expected):
        raise CheckFailed(
            f"{what} returned {len(roots)} root(s) {describe(roots)}, expected "
            f"{len(expected)}: {describe(expected)}",
            called=what,
            expected=describe(expected),
            actual=describe(roots),
            hint="There are two starting points to descend from, one on each side of the "
            "vertex x = -b/(2a); keep every descent that ends where f is (nearly) zero."
            if len(expected) == 2
            else "With no real root, F = f² has its minimum at the vertex, where f is not 0: "
            "a descent that ends there did not find a root.",
            mistakes=mistakes,
        )
    if not expected:
        return
    try:
        expect_close(shown, expected, what=f"the result of {what}", called=what, rtol=0,
                     atol=1e-4, hint=ROOTS_HINT)
    except CheckFailed as failure:
        failure.mistakes = list(dict.fromkeys([*failure.mistakes, *mistakes]))
        raise


@check(TASK, points=2, depends=DESCENDS, visibility="hidden", show=("deviation", "series"))
def test_find_roots_two_roots(submission: Any) -> None:
    """find_roots finds both roots, each within 1e-4, for several quadratics with a > 0."""
    for a, b, c in TWO_ROOTS:
        got = _roots(submission, a, b, c)
        on_f = ["descends_on_f"] if _grad_is_f_prime(got, a, b) else []
        _expect_roots(got["roots"], V.quadratic_roots(a, b, c), _quadratic(a, b, c), ordered=False,
                      extra_mistakes=on_f)


def _grad_is_f_prime(got: dict, a: float, b: float) -> bool:
    """Whether a grad handed to gradient_descent was f'(x) = 2ax + b (up to a positive or
    negative factor) instead of F'(x) = 2·f(x)·f'(x)."""

    def derivative(x: float) -> float:
        return 2 * a * x + b

    def negated(x: float) -> float:
        return -derivative(x)

    return any(
        V.grad_looks_like(s, GRAD_POINTS, derivative) or V.grad_looks_like(s, GRAD_POINTS, negated)
        for s in got.get("grad_samples", [])
        if s
    )


def _descends_on_f(submission: Any, got: dict, a: float, b: float, c: float) -> bool:
    """Evidence of a descent on f instead of F = f²: a grad equal to f' handed to
    gradient_descent; or, when gradient_descent was not used, the mirror test: negating a, b
    and c leaves F unchanged (so a descent on F gives the same roots for both), yet only the
    mirrored quadratic is solved."""
    if _grad_is_f_prime(got, a, b):
        return True
    if any(s for s in got.get("grad_samples", [])):
        return False  # it did descend through gradient_descent, on something else than f
    mirrored = submission.call(TASK, "find_roots", a=-a, b=-b, c=-c, grad_points=GRAD_POINTS)
    if not mirrored.ok or not isinstance(mirrored.value.get("roots"), list):
        return False
    roots = mirrored.value["roots"]
    expected = V.quadratic_roots(a, b, c)
    if len(roots) != len(expected) or not all(isinstance(r, float) for r in roots):
        return False
    return bool(np.allclose(sorted(roots), expected, rtol=0, atol=1e-4))


@check(TASK, points=2, depends=DESCENDS, visibility="hidden", show=("deviation", "series"))
def test_find_roots_negative_a(submission: Any) -> None:
    """find_roots finds both roots when a < 0 (the parabola opens downwards)."""
    for a, b, c in NEGATIVE_A:
        got = _roots(submission, a, b, c)
        roots, expected = got["roots"], V.quadratic_roots(a, b, c)
        if len(roots) == 2 and np.allclose(sorted(roots), expected, rtol=0, atol=1e-4):
            continue
        on_f = _descends_on_f(submission, got, a, b, c)
        _expect_roots(roots, expected, _quadratic(a, b, c), ordered=False,
                      extra_mistakes=["descends_on_f"] if on_f else [])


@check(TASK, points=1, depends=DESCENDS, visibility="hidden", show=("deviation", "series"))
def test_find_roots_no_real_root(submission: Any) -> None:
    """find_roots returns [] when the quadratic has no real root."""
    for a, b, c in NO_ROOT:
        got = _roots(submission, a, b, c)
        _expect_roots(got["roots"], [], _quadratic(a, b, c), ordered=True)


@check(TASK, points=1, depends=DESCENDS, visibility="hidden", show=("deviation", "series"))
def test_find_roots_ascending(submission: Any) -> None:
    """find_roots returns the two roots in ascending order."""
    judged = 0
    for a, b, c in [(1.0, -6.0, 4.0), (2.0, 3.0, -5.0), (1.0, 9.0, -10.0)]:
        what = _quadratic(a, b, c)
        roots = _roots(submission, a, b, c)["roots"]
        expected = V.quadratic_roots(a, b, c)
        if len(roots) != 2:
            continue  # the order of two roots can only be judged where two came back
        judged += 1
        unsorted = (len(roots) == 2 and roots[0] > roots[1]
                    and np.allclose(sorted(roots), expected, rtol=0, atol=1e-4))
        expect(
            len(roots) == 2 and roots[0] <= roots[1],
            f"{what} returned {describe(roots)}: the roots are not in ascending order",
            called=what,
            expected=describe(expected),
            actual=describe(roots),
            hint="return sorted(roots)",
            mistakes=["roots_unsorted"] if unsorted else [],
        )
    if not judged:
        pytest.skip("skipped because find_roots returned two roots for none of these quadratics, "
                    "so their order cannot be judged; the check find_roots_two_roots reports it")


@check(TASK, points=1, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_find_roots_rejects_a_zero(submission: Any) -> None:
    """find_roots raises ValueError when a == 0 (the equation is not quadratic)."""
    for b, c in ((2.0, 1.0), (0.0, 3.0)):
        what = f"find_roots(0, {b:g}, {c:g})"
        result = submission.call(TASK, "find_roots", a=0.0, b=b, c=c)
        if result.status == ProbeStatus.RAISED and result.error_type == "ValueError":
            continue
        if result.ok:
            actual = f"returned {describe(result.value.get('roots'))}"
        elif result.status == ProbeStatus.RAISED:
            actual = f"raised {result.error_type}"
        else:
            actual = f"{result.status}: {result.error}"
        raise CheckFailed(
            f"{what} {actual}, expected a ValueError",
            called=what,
            expected="ValueError raised",
            actual=actual,
            hint="if a == 0: raise ValueError(...) before anything else.",
        )


GRAD_RTOL = 1e-4  # a finite-difference derivative of F is this close to F'


def _f_squared_prime(a: float, b: float, c: float, x: float) -> float:
    """F'(x) = 2·f(x)·f'(x) for F = f², f(x) = ax² + bx + c."""
    return 2 * (a * x * x + b * x + c) * (2 * a * x + b)


def _not_f_squared_prime(samples: Sequence[Any], a: float, b: float, c: float) -> int | None:
    """The first of GRAD_POINTS where sampled grad values are not one positive multiple of
    F'(x) = 2·f(x)·f'(x), or None when they are: the factor is fitted by least squares, and a
    point where grad gave no number counts against it."""
    wanted = np.array([_f_squared_prime(a, b, c, x) for x in GRAD_POINTS])
    values = np.array([np.nan if v is None else v for v in samples], dtype=np.float64)
    if values.shape != wanted.shape:
        return 0
    finite = np.isfinite(values)
    scale = float(np.dot(values[finite], wanted[finite]) / np.dot(wanted, wanted))
    expected = max(scale, 0.0) * wanted
    tolerance = GRAD_RTOL * np.maximum(np.abs(expected), 1e-3 * np.max(np.abs(expected)))
    wrong = ~finite | (np.abs(values - expected) > tolerance) | (scale <= 0)
    return int(np.argmax(wrong)) if np.any(wrong) else None


def _expect_descent_on_f_squared(got: dict, a: float, b: float, c: float, what: str) -> None:
    """Every grad handed to gradient_descent must be F' (up to a positive factor): a descent on
    anything else, say x − r for a root r found some other way, only dresses that root up as
    descended to. A grad equal to f' is the mistake descends_on_f, judged by the root checks."""
    if _grad_is_f_prime(got, a, b):
        return
    for samples in got.get("grad_samples", []):
        point = _not_f_squared_prime(samples, a, b, c) if samples else None
        if point is None:
            continue
        x = GRAD_POINTS[point]
        gave = samples[point] if point < len(samples) else None
        quadratic = _polynomial([a, b, c])
        raise CheckFailed(
            f"{what}: the function handed to gradient_descent is not the derivative of "
            f"({quadratic})²: at x = {x:g} it gave {describe(gave)}, expected a positive "
            f"multiple of {_f_squared_prime(a, b, c, x):.6g}",
            called=what,
            expected=f"grad(x) = 2·f(x)·f'(x) with f(x) = {quadratic}, up to a positive factor",
            actual=f"grad({x:g}) = {describe(gave)}",
            hint="Hand gradient_descent F'(x) = 2·f(x)·f'(x) with f(x) = ax² + bx + c and "
            "f'(x) = 2ax + b, and return what it finds.",
        )


# Descending is the point of the task: roots found another way lose the most of any one check.
@check(TASK, points=4, depends=DESCENDS, visibility="hidden", show=("deviation", "series"))
def test_find_roots_uses_descent(submission: Any) -> None:
    """The roots returned by find_roots come from gradient_descent, not from a formula."""
    # Irrational roots: no sensible starting point can be one of them by chance.
    for a, b, c in [(1.0, -6.0, 4.0), (2.0, 3.0, -4.0), (0.5, 0.0, -7.0)]:
        what = _quadratic(a, b, c)
        got = _roots(submission, a, b, c)
        roots = got["roots"]
        calls = [dict(call) for call in got.get("descent_calls", []) if isinstance(call, dict)]
        returned = [V.returned_number(call.get("returned")) for call in calls]
        found = [r for r in returned if r is not None]
        sqrt_calls = {str(k): int(v) for k, v in dict(got.get("sqrt_calls", {})).items() if v}
        exact = V.quadratic_roots(a, b, c)
        not_descended = [r for r in roots if not any(abs(r - x) <= 1e-4 for x in found)]
        started_at_answer = [
            call for call in calls
            if isinstance(call.get("x0"), float) and V.returned_number(call.get("returned")) is not None
            and any(abs(call["x0"] - r) <= START_DISTANCE for r in exact)
        ]
        closed_form = len(roots) == len(exact) and bool(exact) and np.allclose(
            sorted(roots), exact, rtol=0, atol=1e-12
        )
        formula = bool(sqrt_calls) or bool(started_at_answer) or (not calls and closed_form)
        if not not_descended and not started_at_answer:
            _expect_descent_on_f_squared(got, a, b, c, what)
            continue
        evidence = []
        if not calls:
            evidence.append("gradient_descent was not called")
        elif not_descended:
            evidence.append(f"gradient_descent returned {describe(found)}, not {describe(not_descended)}")
        if started_at_answer:
            evidence.append("gradient_descent was started (almost) at the root itself")
        if sqrt_calls:
            evidence.append("square roots were taken: " + ", ".join(
                f"{k} ×{v}" for k, v in sorted(sqrt_calls.items())))
        raise CheckFailed(
            f"{what}: the roots did not come from gradient descent ({'; '.join(evidence)})",
            called=what,
            expected="each root is a value returned by gradient_descent",
            actual=describe(roots),
            hint="Call gradient_descent with F'(x) = 2·f(x)·f'(x) from a start on each side "
            "of the vertex and return what it finds.",
            mistakes=["quadratic_formula"] if formula else [],
        )


# --------------------------------------------------------------------------------------------
# solve with torch's optimizers


def _solve_call(submission: Any, reference: Any, optimizer: str, max_iter: int) -> tuple[str, dict, dict]:
    """solve(x0, torch.optim.<optimizer>, max_iter=..., **teacher's options) run by the student
    and by the reference (torch's optimizer stepped here); returns the call shown, both runs."""
    case = V.solve_case("solve", optimizer)
    x0, kwargs = float(case["x0"]), dict(case["kwargs"])
    what = f"solve({x0:g}, torch.optim.{optimizer}, max_iter={max_iter}, {V.shown_options(kwargs)})"
    got = submission.require(TASK, "solve", what=what, optimizer=optimizer, x0=x0,
                             kwargs=kwargs, max_iter=max_iter)
    want = V.run_reference_probe("solve", {"solve": reference.roots.solve}, optimizer=optimizer,
                                 x0=x0, kwargs=kwargs, max_iter=max_iter)
    return what, got, want


def _solve_hint(got: dict) -> str:
    unused = int(got.get("optimizers_built", 0)) == 0
    return ("Build optimizer_cls([x], **optimizer_kwargs) once, then loop: zero_grad(), "
            "loss = (x**2 - 6*x + 4)**2, loss.backward(), step(); return float(x)."
            + (" The optimizer class passed in was never used." if unused else ""))


def _solves(submission: Any, reference: Any, rng: np.random.Generator, optimizer: str) -> None:
    """The k-th iterate for two small k drawn for this submission (a constant cannot be right),
    then the root after the teacher's max_iter."""
    drawn = V.drawn_rng(submission.submission.files, rng)
    for k in (int(drawn.integers(1, 4)), int(drawn.integers(4, 13))):
        what, got, want = _solve_call(submission, reference, optimizer, k)
        x, expected = V.returned_number(got.get("result")), V.returned_number(want.get("result"))
        assert expected is not None
        if x is not None and abs(x - expected) <= 1e-5 * (1 + abs(expected)):  # float32 allowed
            continue
        raise CheckFailed(
            f"{what} returned {_shown(got.get('result'))}, expected x after {k} step(s) of "
            f"torch.optim.{optimizer}: {expected:.10g}",
            called=what,
            expected=f"{expected:.10g}",
            actual=_shown(got.get("result")),
            hint=_solve_hint(got) + " With max_iter=k, take exactly k steps (stopping early only "
            "once the loss is practically zero).",
        )
    case = V.solve_case("solve", optimizer)
    what, got, want = _solve_call(submission, reference, optimizer, int(case["max_iter"]))
    root = float(case["root"])
    x = V.returned_number(got.get("result"))
    if x is not None and abs(x - root) <= 1e-4:
        return
    raise CheckFailed(
        f"{what} returned {_shown(got.get('result'))}, expected {root:.10g} within 1e-4",
        called=what,
        expected=f"{root:.10g}",
        actual=_shown(got.get("result")),
        hint=_solve_hint(got),
        series=[_path_series(f"x after each step of torch.optim.{optimizer}", "x",
                             {"your solve": got.get("path"),
                              "reference solve": want.get("path")}, root)],
    )


@check(TASK, points=2, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_solve_adam(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """solve(7, torch.optim.Adam, max_iter=k, lr=0.3, betas=(0.5, 0.99)) returns Adam's k-th
    iterate for small k, and the root 5.2361 for k=150."""
    _solves(submission, reference, rng, "Adam")


@check(TASK, points=2, depends=LOADS, visibility="hidden", show=("deviation", "series"))
def test_solve_sgd(submission: Any, reference: Any, rng: np.random.Generator) -> None:
    """solve(-1, torch.optim.SGD, max_iter=k, lr=0.01, momentum=0.3) returns SGD's k-th
    iterate for small k, and the root 0.7639 for k=100."""
    _solves(submission, reference, rng, "SGD")

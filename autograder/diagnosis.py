"""Diagnosis as a search: which known deviations from the reference explain a wrong output.

An assignment describes a *space*: dimensions along which a solution can deviate from the
reference (where eps goes, which moments are bias-corrected, which activation follows a layer),
each a set of options whose first is what the reference does; an option may be *parametric*, a
constant inferred from the evidence (eps hard-coded at some value). It also gives a simulator
that computes, for one choice of option per dimension, what that version of the reference
outputs on a check's inputs, step by step. ``diagnose`` then looks for the smallest combination
of deviations that reproduces the student's output on *every* input of the check:

- combinations are tried by cost (one per deviating dimension, half more per inferred
  constant), and the search stops at the first cost that fits;
- a combination fits when, on every case, each value is within ``tolerance`` of the simulated
  one relative to how far the simulated value moved from its start (plus a floor at float64
  rounding), while the reference misses the student's values by at least ``margin`` times
  that tolerance: a name is given only when its variant explains the evidence tightly and far
  better than the reference does;
- before anything is named, the simulator with no deviation must reproduce the reference's own
  output within the same tolerance on every case, so a simulator that disagrees with the
  reference names nothing;
- a constant is fitted on log-spaced grids, refined around the best value, then rounded to the
  fewest significant digits that still fit; when a range of values fits equally, the range is
  what is reported, and when a tenth or ten times the value fits too, the runs do not pin the
  constant down and that combination is not named.

What it can tell: that the student's numbers are, to float64 precision, those of the reference
with these named changes, on these inputs. What it cannot tell: anything outside the space (a
bug no dimension describes gets no name, never the nearest one), which of several equally small
combinations that fit is the student's (then only their common parts are named, or nothing),
or how the code is written (two programs with equal outputs are one diagnosis). At most one
inferred constant per combination (with at most ``max_parts_with_constant`` deviations), at most
``max_parts`` deviations otherwise, and at most ``max_combinations`` combinations tried: beyond
that it names nothing.

It runs in the trusted process on data that came back from the sandbox, and costs a few
simulations per combination tried (each stops at the first step that does not fit).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NOISE = 1e-13  # float64 rounding over a few dozen operations, relative to the values' size


@dataclass(frozen=True)
class Option:
    """One way a dimension can be: ``says`` is the feedback for it (``{value}`` is replaced by
    the inferred constant), ``mistake`` the catalogue id that names it, ``infer`` the log10
    bounds of a constant inferred from the evidence (None: no constant)."""

    name: str
    says: str = ""
    mistake: str | None = None
    infer: tuple[float, float] | None = None


@dataclass(frozen=True)
class Dimension:
    """A dimension of deviation; ``options[0]`` is what the reference does."""

    name: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Case:
    """One input of a check: what the simulator needs (``inputs``), the student's output and
    the reference's, each shaped (steps, values), and where the values started (None: 0)."""

    inputs: Any
    actual: np.ndarray
    reference: np.ndarray
    origin: np.ndarray | None = None


# simulate(inputs, choice, constants) yields the output after each step, shaped (K, values) or
# (values,); ``choice`` maps every dimension to an option name, ``constants`` maps the dimension
# whose option is parametric to K candidate values. It may raise ValueError when the choice
# cannot run on these inputs (shapes that do not chain).
Simulator = Callable[[Any, Mapping[str, str], Mapping[str, np.ndarray]], Iterable[Any]]


@dataclass(frozen=True)
class Space:
    """Dimensions, their simulator, and how strict the search is."""

    dimensions: tuple[Dimension, ...]
    simulate: Simulator
    max_parts: int = 3
    max_parts_with_constant: int = 2
    tolerance: float = 1e-8
    margin: float = 100.0
    max_combinations: int = 800

    def reference_choice(self) -> dict[str, str]:
        return {d.name: d.options[0].name for d in self.dimensions}


@dataclass(frozen=True)
class Part:
    """One named deviation of an explanation."""

    dimension: str
    option: str
    says: str
    mistake: str | None
    value: float | None = None


@dataclass(frozen=True)
class Explanation:
    """The deviations that reproduce the student's output, and how well."""

    parts: tuple[Part, ...]
    misfit: float
    reference_misfit: float
    tried: int

    @property
    def mistakes(self) -> list[str]:
        return list(dict.fromkeys(p.mistake for p in self.parts if p.mistake))

    @property
    def sentence(self) -> str:
        return "; ".join(p.says for p in self.parts)


@dataclass(frozen=True)
class Departure:
    """Where a case's output first leaves the reference's: step, flat index, both values."""

    step: int
    index: int
    expected: float
    actual: float
    misfit: float


# --------------------------------------------------------------------------------------------
# Measuring a fit


def _scale(case: Case) -> tuple[np.ndarray | float, float]:
    origin = 0.0 if case.origin is None else np.asarray(case.origin)
    finite = case.reference[np.isfinite(case.reference)]
    size = float(np.max(np.abs(finite))) if finite.size else 1.0
    return origin, NOISE * max(size, 1e-300)


def _ratios(actual: np.ndarray, simulated: np.ndarray, origin: np.ndarray | float, noise: float,
            tolerance: float) -> np.ndarray:
    """Per value, the difference between ``simulated`` (shaped (K, *actual.shape)) and
    ``actual`` relative to how far the simulated value moved, with ``noise/tolerance`` as the
    floor of that distance; equal non-finite values (NaN where NaN, the same infinity) count as
    equal, any other non-finite difference as infinite."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(simulated - actual)
        if np.isfinite(gap).all():
            return gap / (np.abs(simulated - origin) + noise / tolerance)
        both_nan = np.isnan(simulated) & np.isnan(actual)
        same_inf = np.isinf(simulated) & (simulated == actual)
        gap = np.where(both_nan | same_inf, 0.0, gap)
        gap = np.where(np.isnan(gap), np.inf, gap)
        moved = np.abs(np.where(np.isfinite(simulated), simulated, 0.0) - origin)
        return gap / (moved + noise / tolerance)


def step_misfit(actual: np.ndarray, simulated: np.ndarray, origin: np.ndarray | float, noise: float,
                tolerance: float) -> np.ndarray:
    """Per candidate (first axis of ``simulated``), the largest of ``_ratios``."""
    simulated = np.atleast_2d(simulated)
    if simulated.shape[1:] != actual.shape:
        return np.full(simulated.shape[0], np.inf)
    ratio = _ratios(actual, simulated, origin, noise, tolerance)
    return np.max(ratio.reshape(ratio.shape[0], -1), axis=1, initial=0.0)


def misfit(case: Case, output: np.ndarray, tolerance: float = 1e-8) -> float:
    """How far ``case.actual`` is from ``output`` (both shaped (steps, values)), as above."""
    if np.shape(output) != np.shape(case.actual):
        return math.inf
    origin, noise = _scale(case)
    return float(max((step_misfit(case.actual[s], np.asarray(output)[s][None], origin, noise,
                                  tolerance)[0] for s in range(case.actual.shape[0])), default=0.0))


def departure(case: Case, tolerance: float = 1e-5) -> Departure | None:
    """The first step and value where the student's output leaves the reference's by more than
    ``tolerance`` (relative to the reference's move), or None."""
    if case.actual.shape != case.reference.shape:
        return None
    origin, noise = _scale(case)
    for step in range(case.reference.shape[0]):
        ratio = _ratios(case.actual[step], case.reference[step][None], origin, noise, tolerance)[0]
        bad = np.flatnonzero(np.ravel(ratio) > tolerance)
        if bad.size:
            index = int(bad[0])
            return Departure(step, index, float(np.ravel(case.reference[step])[index]),
                             float(np.ravel(case.actual[step])[index]), float(np.ravel(ratio)[index]))
    return None


def _run(space: Space, case: Case, choice: Mapping[str, str], constants: Mapping[str, np.ndarray],
         stop_above: float) -> np.ndarray:
    """The misfit of each candidate over the steps, stopping once every one exceeds
    ``stop_above``; inf where the choice cannot run."""
    origin, noise = _scale(case)
    count = next((len(v) for v in constants.values()), 1)
    worst = np.zeros(count)
    try:
        outputs = iter(space.simulate(case.inputs, choice, constants))
        for step in range(case.actual.shape[0]):
            simulated = next(outputs, None)
            if simulated is None:
                return np.full(count, np.inf)
            worst = np.maximum(worst, step_misfit(case.actual[step], np.asarray(simulated, dtype=np.float64),
                                                  origin, noise, space.tolerance))
            if np.all(worst > stop_above):
                break
    except (ValueError, ArithmeticError, IndexError):
        return np.full(count, np.inf)
    return worst


def _fits(space: Space, cases: Sequence[Case], choice: Mapping[str, str],
          constants: Mapping[str, np.ndarray], stop_above: float) -> np.ndarray:
    """Worst misfit of each candidate over every case."""
    count = next((len(v) for v in constants.values()), 1)
    worst = np.zeros(count)
    for case in cases:
        worst = np.maximum(worst, _run(space, case, choice, constants, stop_above))
        if np.all(worst > stop_above):
            break
    return worst


# --------------------------------------------------------------------------------------------
# Inferring a constant


def _rounded(value: float) -> list[float]:
    """``value`` with 1, 2 and 3 significant digits, then itself."""
    found = []
    for digits in (1, 2, 3):
        rounded = float(f"{value:.{digits - 1}e}")
        if rounded not in found:
            found.append(rounded)
    return [*found, value]


def _infer(space: Space, cases: Sequence[Case], choice: Mapping[str, str], dimension: str,
           bounds: tuple[float, float]) -> tuple[float, float, tuple[float, float]] | None:
    """The constant that fits best (rounded where that still fits), its misfit, and the range of
    values that fit as well; None when no value fits."""
    grid = np.logspace(bounds[0], bounds[1], 40)
    scores = _fits(space, cases, choice, {dimension: grid}, stop_above=10.0)
    if not float(np.min(scores)) <= 10.0:
        return None
    value, score, previous = math.nan, math.inf, math.inf
    for _ in range(12):
        best = int(np.argmin(scores))
        if not scores[best] < previous / 3:
            return None  # refining no longer helps: no value of the constant fits
        previous = float(scores[best])
        rounded = _rounded(float(grid[best]))
        low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
        grid = np.logspace(np.log10(low), np.log10(high), 24)
        tried = _fits(space, cases, choice, {dimension: np.concatenate([rounded, grid])},
                      stop_above=math.inf)
        fitting = np.flatnonzero(tried[:len(rounded)] <= space.tolerance)
        if fitting.size:  # the roundest value that fits
            value, score = rounded[fitting[0]], float(tried[fitting[0]])
            break
        scores = tried[len(rounded):]
    if not score <= space.tolerance:
        return None
    spread = value * np.logspace(-1, 1, 21)
    around = _fits(space, cases, choice, {dimension: spread}, stop_above=math.inf)
    if around[0] <= space.tolerance or around[-1] <= space.tolerance:
        return None  # a tenth or ten times the value fits as well: the runs do not pin it down
    fitting = spread[around <= space.tolerance]
    span = (float(fitting.min()), float(fitting.max())) if fitting.size else (value, value)
    return value, score, span


def _value_text(value: float, span: tuple[float, float]) -> str:
    if span[1] / max(span[0], 1e-300) > 1.5:
        return f"a value between {span[0]:.2g} and {span[1]:.2g} (these runs cannot tell which)"
    return f"{value:.3g}"


# --------------------------------------------------------------------------------------------
# The search


def _combinations(space: Space) -> list[tuple[float, tuple[tuple[Dimension, Option], ...]]]:
    """Every combination of deviations up to ``max_parts`` (``max_parts_with_constant`` when one
    holds an inferred constant; never two constants), cheapest first."""
    found = []
    for size in range(1, space.max_parts + 1):
        for dims in itertools.combinations(space.dimensions, size):
            for options in itertools.product(*(d.options[1:] for d in dims)):
                inferred = sum(o.infer is not None for o in options)
                if inferred == 0 or (inferred == 1 and size <= space.max_parts_with_constant):
                    found.append((size + 0.5 * inferred, tuple(zip(dims, options, strict=True))))
    return sorted(found, key=lambda item: item[0])


def diagnose(space: Space, cases: Sequence[Case]) -> Explanation | None:
    """The smallest combination of the space's deviations that reproduces every case tightly
    and far better than the reference, or None (see the module's docstring)."""
    cases = [c for c in cases if c.actual.ndim == 2 and c.actual.size
             and c.actual.shape[0] == c.reference.shape[0]]
    if not cases:
        return None
    plain = space.reference_choice()
    for case in cases:  # the simulator must reproduce the reference before it may name anything
        simulated = _run(space, Case(case.inputs, case.reference, case.reference, case.origin),
                         plain, {}, math.inf)
        if not simulated[0] <= space.tolerance:
            return None
    reference_misfit = max(misfit(c, c.reference, space.tolerance) for c in cases)
    if not reference_misfit >= space.margin * space.tolerance:
        return None
    found: list[tuple[tuple[Part, ...], float]] = []
    tier = None
    tried = 0
    for cost, combination in _combinations(space):
        if tier is not None and cost > tier:
            break
        tried += 1
        if tried > space.max_combinations:
            return None
        choice = {**plain, **{d.name: o.name for d, o in combination}}
        parametric = [(d, o) for d, o in combination if o.infer is not None]
        values: dict[str, tuple[float, tuple[float, float]]] = {}
        if parametric:
            dimension, option = parametric[0]
            inferred = _infer(space, cases, choice, dimension.name, option.infer or (0.0, 0.0))
            if inferred is None:
                continue
            value, score, span = inferred
            values[dimension.name] = (value, span)
        else:
            score = float(_fits(space, cases, choice, {}, stop_above=space.tolerance)[0])
        if not score <= space.tolerance:
            continue
        parts = []
        for dimension, option in combination:
            value, span = values.get(dimension.name, (None, (0.0, 0.0)))
            says = option.says.format(value=_value_text(value, span)) if value is not None else option.says
            parts.append(Part(dimension.name, option.name, says, option.mistake, value))
        found.append((tuple(parts), score))
        tier = cost
    if not found:
        return None
    common = [p for p in found[0][0]
              if all(any(q.dimension == p.dimension and q.option == p.option
                         and _same_value(q.value, p.value) for q in parts) for parts, _ in found)]
    if not common:
        return None
    return Explanation(tuple(common), max(s for _, s in found), reference_misfit, tried)


def _same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 0.01 * max(abs(a), abs(b))

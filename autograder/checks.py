"""How a check is written: a small pytest function, a docstring a student can read, points,
a declared dependency, and failures that carry what was called, expected, actual and a hint.

    @check("mse", points=8, depends=["mse.loads"])
    def test_random_arrays(submission, reference, rng):
        '''mean_squared_error matches the reference on random arrays.'''
        pred, target = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        got = submission.require("mse", "mse", what="mean_squared_error(pred, target)",
                                 pred=pred, target=target)
        expect_close(got, reference.run("mse", "mse", pred=pred, target=target), ...)

Checks run in the trusted process and only ever see plain data that came back from the
sandbox (``ProbeResult``), so a comparison here cannot be patched by student code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

VISIBILITIES = ("visible", "hidden", "after_due_date")
# What a failed check can show beyond its message, hint and named mistakes; a hidden check
# shows only the ones its ``show`` lists.
DETAIL_FIELDS = ("called", "expected", "actual", "deviation", "series")


@dataclass(frozen=True)
class CheckSpec:
    """A check's declaration: which task it scores, its points and what it depends on."""

    task: str
    points: float
    depends: tuple[str, ...] = ()
    visibility: str = "visible"
    name: str = ""
    show: tuple[str, ...] = ()


def import_file(path: Path, name: str) -> ModuleType:
    """Import the Python file at ``path`` as the module ``name`` (registered in
    ``sys.modules`` before it runs, as imports and dataclasses inside it expect). For the
    teacher's own files only: suites, helpers, reference solutions."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def suite_module(check_file: str, file_name: str) -> ModuleType:
    """A trusted helper module beside a check file (such as ``variants.py``), loaded once per
    process. Suites are collected by path, not imported as packages, so a plain import of a
    sibling would not work. The module's name comes from its whole path: two assignments'
    ``hidden/helpers.py`` are two modules."""
    path = Path(check_file).resolve().with_name(file_name)
    name = f"_suite_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}_{path.stem}"
    if name not in sys.modules:
        import_file(path, name)
    return sys.modules[name]


def check(
    task: str,
    *,
    points: float,
    depends: Sequence[str] = (),
    visibility: str = "visible",
    show: Sequence[str] = (),
    name: str | None = None,
) -> Callable[[Callable], Callable]:
    """Declare a pytest function as a graded check of ``task``.

    ``name`` defaults to the function name without ``test_``; the check's id is
    ``<task>.<name>``. ``depends`` lists check ids that must pass first; otherwise this check
    is skipped with the reason. ``visibility``: a ``visible`` check's feedback shows everything;
    a ``hidden`` one shows its message, hint and named mistakes, plus only the fields of
    ``DETAIL_FIELDS`` that ``show`` lists; ``after_due_date`` is hidden until the assignment's
    due date has passed, then visible.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}")
    unknown = set(show) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"show lists {sorted(unknown)}; it may list only {DETAIL_FIELDS}")

    def mark(function: Callable) -> Callable:
        check_name = name or function.__name__.removeprefix("test_")
        spec = CheckSpec(task, float(points), tuple(depends), visibility, check_name, tuple(show))
        function.check_spec = spec  # type: ignore[attr-defined]
        return pytest.mark.check(spec)(function)

    return mark


def loads_check(task: str, file_name: str) -> Callable:
    """The check each task's suite starts with, worth no points: the task's file (or its cells
    of the notebook) loads without errors. The others depend on it (``<task>.loads``), so a
    file that does not even import is reported once, with its error, not by every check.

        test_mse_loads = loads_check("mse", "mse.py")
    """

    def test_loads(submission: Any) -> None:
        result = submission.load(task)
        if result.ok:
            return
        notes = "; ".join(result.notes) if result.notes else None
        lines = (result.error or "").strip().splitlines()
        reason = lines[-1] if lines else result.status.replace("_", " ")
        raise CheckFailed(
            f"{file_name} could not be loaded: {reason}",
            called=f"import {file_name}",
            actual=result.error,
            hint=notes or "Run the file yourself: every error at import time stops all its checks.",
        )

    test_loads.__name__ = test_loads.__qualname__ = f"test_{task}_loads"
    test_loads.__doc__ = f"{file_name} (or the notebook) loads without errors."
    return check(task, points=0, name="loads")(test_loads)


@dataclass
class Deviation:
    """Where expected and actual differ most."""

    where: str
    expected: float | None
    actual: float | None
    abs_error: float | None
    rel_error: float | None


class CheckFailed(AssertionError):
    """A failed check, with everything the feedback needs to explain it."""

    def __init__(
        self,
        message: str,
        *,
        called: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
        hint: str | None = None,
        deviation: Deviation | None = None,
        mistakes: Iterable[str] = (),
        series: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.called = called
        self.expected = expected
        self.actual = actual
        self.hint = hint
        self.deviation = deviation
        self.mistakes = list(mistakes)
        self.series = series or []


# Digits a value is shown with: arrays' decimals and floats' significant digits; a pair of
# values gets more (up to 17, which tells any two doubles apart) until the two look different.
ARRAY_DIGITS, FLOAT_DIGITS, MAX_DIGITS = 6, 10, 17


def _rendering(value: Any, extra: int = 0) -> str:
    """``value`` as text, with ``extra`` digits more than usual for arrays and floats."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=min(ARRAY_DIGITS + extra, MAX_DIGITS), threshold=20,
                             edgeitems=3, suppress=False):
            body = np.array2string(value, separator=", ")
        return f"array(shape={tuple(value.shape)}, dtype={value.dtype}) {body}"
    digits = FLOAT_DIGITS + extra
    if isinstance(value, (float, np.floating)):
        return _float_text(float(value), digits)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (float, np.floating)) for v in value):
        inner = ", ".join(_float_text(float(v), digits) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


def _float_text(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits; from 16 on, Python's shortest text that
    reads back as the same double (0.3, not 0.29999999999999999)."""
    return format(value, f".{digits}g") if digits < 16 else repr(value)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def describe(value: Any, limit: int = 600) -> str:
    """A short, readable rendering of a value for feedback (arrays summarised)."""
    return _shortened(_rendering(value), limit)


def describe_pair(expected: Any, actual: Any, limit: int = 600) -> tuple[str, str]:
    """``expected`` and ``actual`` rendered like ``describe``, but with as many more digits
    as it takes for the two texts to differ: feedback that says "expected 0.1234568, got
    0.1234568" teaches nothing. Values that are equal, or differ only where a summarised
    array elides them, keep the usual digits."""
    usual = _rendering(expected), _rendering(actual)
    if usual[0] == usual[1]:
        for extra in range(1, MAX_DIGITS - ARRAY_DIGITS + 1):
            pair = _rendering(expected, extra), _rendering(actual, extra)
            if pair[0] != pair[1]:
                usual = pair
                break
    return _shortened(usual[0], limit), _shortened(usual[1], limit)


def as_float_array(value: Any, *, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Validate data from the sandbox as a float64 array (of ``shape``) or fail the check."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiub":
            raise CheckFailed(f"{what}: got an array of dtype {value.dtype}, expected numbers")
        array = value.astype(np.float64)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        array = np.asarray(float(value))
    elif isinstance(value, list):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise CheckFailed(f"{what}: got {describe(value)}, expected numbers") from None
    else:
        raise CheckFailed(f"{what}: got {describe(value)}, expected numbers")
    if shape is not None and array.shape != tuple(shape):
        raise CheckFailed(
            f"{what} has shape {tuple(array.shape)}, expected {tuple(shape)}",
            expected=f"shape {tuple(shape)}",
            actual=f"shape {tuple(array.shape)}",
        )
    return array


def largest_deviation(actual: np.ndarray, expected: np.ndarray) -> Deviation:
    """The entry where ``actual`` is furthest from ``expected`` (same shapes), NaN first."""
    diff = np.abs(actual - expected)
    bad = ~np.isfinite(actual) & np.isfinite(expected)
    flat = int(np.argmax(bad)) if bad.any() else int(np.nanargmax(np.where(np.isnan(diff), -1, diff)))
    index = np.unravel_index(flat, expected.shape) if expected.ndim else ()
    want, got = float(expected[index]), float(actual[index])
    abs_error = abs(got - want) if np.isfinite(got) else None
    rel_error = abs_error / abs(want) if abs_error is not None and want != 0 else None
    where = "index " + str(tuple(int(i) for i in index)) if index else "the value"
    return Deviation(where, want, got if np.isfinite(got) else None, abs_error, rel_error)


def close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    """Element-wise closeness with none of numpy's traps: shapes must match exactly (no
    broadcasting, so an empty array is never close to a full one) and NaN is never close."""
    if actual.shape != expected.shape:
        return False
    if not np.all(np.isfinite(actual)) and not np.array_equal(
        np.isfinite(actual), np.isfinite(expected)
    ):
        return False
    with np.errstate(invalid="ignore"):
        ok = np.abs(actual - expected) <= atol + rtol * np.abs(expected)
        ok |= (actual == expected) & ~np.isnan(expected)
    return bool(np.all(ok))


def matching_mistakes(
    actual: np.ndarray, variants: Mapping[str, Any], rtol: float, atol: float
) -> list[str]:
    """Ids of known-wrong variants whose output ``actual`` matches (and only those)."""
    found = []
    for mistake_id, variant_output in variants.items():
        if variant_output is None:
            continue
        want = np.asarray(variant_output, dtype=np.float64)
        if close(actual, want, rtol, atol):
            found.append(mistake_id)
    return found


def expect_close(
    actual: Any,
    expected: Any,
    *,
    what: str,
    called: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    hint: str | None = None,
    variants: Mapping[str, Any] | None = None,
    series: list[dict[str, Any]] | None = None,
) -> np.ndarray:
    """Fail unless ``actual`` (data from the sandbox) matches ``expected`` within tolerance.

    ``variants`` maps mistake ids to what a known-wrong version of the reference returns on
    the same inputs; the feedback names a mistake only when the student's output matches it.
    """
    want = np.asarray(expected, dtype=np.float64)
    got = as_float_array(actual, what=what, shape=want.shape)
    if close(got, want, rtol, atol):
        return got
    mistakes = matching_mistakes(got, variants or {}, rtol, atol)
    expected_text, actual_text = describe_pair(want, got)
    raise CheckFailed(
        f"{what} differs from the expected values",
        called=called,
        expected=expected_text,
        actual=actual_text,
        hint=hint,
        deviation=largest_deviation(got, want),
        mistakes=mistakes,
        series=series,
    )


def expect(
    condition: bool,
    message: str,
    *,
    called: str | None = None,
    expected: Any = None,
    actual: Any = None,
    hint: str | None = None,
    mistakes: Iterable[str] = (),
) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        if expected is not None and actual is not None:
            expected_text, actual_text = describe_pair(expected, actual)
        else:
            expected_text = None if expected is None else describe(expected)
            actual_text = None if actual is None else describe(actual)
        raise CheckFailed(
            message,
            called=called,
            expected=expected_text,
            actual=actual_text,
            hint=hint,
            mistakes=mistakes,
        )

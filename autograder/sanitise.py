"""Make values that came from a sandbox safe for every format the trusted side writes.

A probe's answer is validated data, but what a check quotes from it (deviations, plotted
series, messages, printed output) can still hold NaN, infinities, integers too long to print,
lone surrogates or deep nesting. Each of these crashes something downstream: JSON written
with ``allow_nan=False``, ``str()`` of a 5000-digit int, a UTF-8 encoder, matplotlib. One pass
over a finished result turns all of them into plain JSON values, so nothing after it can fail
on a student's numbers. Non-finite numbers become the strings ``"nan"``, ``"inf"`` and
``"-inf"``, so they are reported as what they are.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

MAX_TEXT_CHARS = 1 << 20  # one string; reports cap far lower, this bounds memory and time
MAX_ITEMS = 200_000  # one list or mapping
MAX_DEPTH = 32
LARGEST_INT = 2**53  # beyond this an int is shown as the float nearest to it


def plain_number(value: float) -> float | str:
    """A finite float as it is, else ``"nan"``, ``"inf"`` or ``"-inf"``."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def plain_text(value: Any) -> str:
    """Text that every encoder accepts: lone surrogates replaced, length capped."""
    if isinstance(value, bytes):
        text = value[: MAX_TEXT_CHARS * 4].decode("utf-8", errors="replace")
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except Exception as exc:  # a value whose __str__ fails is described, not shown
            text = f"<a value that cannot be shown: {type(exc).__name__}>"
    text = text[:MAX_TEXT_CHARS]
    return text.encode("utf-8", errors="replace").decode("utf-8")


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data (dict, list, str, finite number, bool, None)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str | bytes):
        return plain_text(value)
    if isinstance(value, numbers.Integral):
        number = int(value)
        if abs(number) <= LARGEST_INT:
            return number
        try:
            return plain_number(float(number))
        except OverflowError:
            return "inf" if number > 0 else "-inf"
    if isinstance(value, numbers.Real):
        try:
            return plain_number(float(value))
        except (OverflowError, ValueError):
            return "nan"
    if depth >= MAX_DEPTH:
        return "<nested too deeply to show>"
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_ITEMS]
        return {plain_text(k): plain(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value[:MAX_ITEMS]]
    if hasattr(value, "tolist") and getattr(value, "size", MAX_ITEMS + 1) <= MAX_ITEMS:
        return plain(value.tolist(), depth + 1)  # a numpy array or scalar
    return plain_text(value)


def describe_error(error: BaseException | None) -> str:
    """``Type: message`` of an exception, short and safe, whatever its ``__str__`` does."""
    if error is None:
        return "error"
    return f"{type(error).__name__}: {plain_text(error)[:300]}"


def as_float(value: Any) -> float:
    """A number read back from a sanitised result (``"inf"`` included); NaN if unreadable."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan

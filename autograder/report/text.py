"""Untrusted text made safe to show and short enough, and numbers written as people read them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..sanitise import as_float

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: Any) -> str:
    """Untrusted text without terminal escapes or control characters (tabs and newlines
    stay), so it cannot repaint a terminal or break a file format."""
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ANSI.sub("", text))


def truncate(text: str, limit: int, *, keep_tail: bool = False) -> tuple[str, int]:
    """``text`` cut to about ``limit`` characters and how many were cut. With ``keep_tail``
    the end survives too, because the last lines of program output hold the error."""
    if len(text) <= limit:
        return text, 0
    cut = len(text) - limit
    if not keep_tail:
        return text[:limit], cut
    head = text[: limit * 2 // 3]
    tail = text[len(text) - (limit - len(head)) :]
    marker = f"\n[… {cut:,} characters cut here …]\n"
    return head + marker + tail, cut


def fmt_num(value: Any) -> str:
    """A score or count as people write it: 12, 12.5, 0.33; "—" when unknown."""
    if value is None:
        return "—"
    number = as_float(value)  # "inf" and "nan" as a sanitised result stores them
    if not math.isfinite(number):
        return str(number)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _fmt_value(value: Any, spec: str = ".6g") -> str:
    """A number from a result in ``spec``: ``"inf"`` and ``"nan"`` (how non-finite values
    are stored) are shown as such, None as not finite."""
    if value is None:
        return "a value that is not finite (NaN or infinity)"
    number = as_float(value)
    return format(number, spec) if math.isfinite(number) else str(number)


# 17 significant digits tell any two different doubles apart.
MAX_DIGITS = 17


def digits_to_differ(first: float, second: float, digits: int = 6) -> int:
    """The fewest significant digits, at least ``digits``, at which ``first`` and ``second``
    print differently; ``digits`` itself when they are equal or either is not finite, since
    more digits would not tell them apart."""
    if first == second or not (math.isfinite(first) and math.isfinite(second)):
        return digits
    for count in range(digits, MAX_DIGITS + 1):
        if format(first, f".{count}g") != format(second, f".{count}g"):
            return count
    return MAX_DIGITS


def fmt_pair(expected: Any, actual: Any, digits: int = 6) -> tuple[str, str]:
    """An expected and an actual number written with as many significant digits as it takes
    for them to differ (at least ``digits``, so numbers that already differ stay short):
    a report must never say "expected -1.58782, got -1.58782"."""
    want, got = (math.nan if v is None else as_float(v) for v in (expected, actual))
    count = digits_to_differ(want, got, digits)
    if count >= 16:  # the shortest text that reads back as the same double: 0.3, not 0.29999…
        return repr(want), repr(got)
    return _fmt_value(expected, f".{count}g"), _fmt_value(actual, f".{count}g")


def _fmt_rel(rel: Any) -> str:
    number = as_float(rel)
    if not math.isfinite(number):
        return str(number)
    return f"{number * 100:.3g}%" if number >= 0.01 else f"{number:.2e}"


def deviation_line(deviation: Mapping[str, Any] | None) -> str | None:
    """One sentence on where expected and actual differ most, or None without data."""
    if not deviation:
        return None
    where = clean_text(deviation.get("where")) or "one entry"
    expected, actual = fmt_pair(deviation.get("expected"), deviation.get("actual"))
    parts = [f"Largest difference at {where}: expected {expected}, got {actual}"]
    if deviation.get("abs_error") is not None:
        parts.append(f"absolute error {_fmt_value(deviation['abs_error'], '.3g')}")
    if deviation.get("rel_error") is not None:
        parts.append(f"relative error {_fmt_rel(deviation['rel_error'])}")
    return ", ".join(parts)


def capped(text: Any, limit: int, *, keep_tail: bool = False) -> dict[str, Any]:
    """Untrusted text cleaned and cut to ``limit``, with how much was cut, for templates."""
    body, cut = truncate(clean_text(text), limit, keep_tail=keep_tail)
    return {"text": body, "cut": cut}


def capped_field(value: Any, limit: int) -> str | None:
    """Untrusted text cleaned and cut to ``limit``, saying how much was left out; None stays None."""
    if value is None:
        return None
    body, cut = truncate(clean_text(value), limit)
    return body + (f"\n[… {cut:,} more characters not shown]" if cut else "")

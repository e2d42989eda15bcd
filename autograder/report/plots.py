"""Plots for reports, drawn with matplotlib's Agg backend into PNG data URIs."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import math
import re
import textwrap
from collections.abc import Iterator, Mapping
from typing import Any

from ..sanitise import as_float
from .text import clean_text


def _mpl_text(text: Any) -> str:
    """Text for matplotlib with ``$`` escaped, so no label is parsed as mathtext."""
    return clean_text(text).replace("$", r"\$")


def _png_data_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    # No "Software" entry and no timestamps: the same data gives the same bytes.
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure() -> tuple[Any, Any]:
    """A small figure drawn by Agg directly, without pyplot's global state."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.grid(True, color="#e3e6ea", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


MAX_PLOT_POINTS = 20_000  # per line; a report plot shows a few hundred steps at most
PLOT_RANGE = 1e150  # beyond this matplotlib's transforms overflow; such points are left out


def _plottable(values: Any) -> list[float]:
    """Numbers to draw: non-finite, unreadable and astronomically large ones become gaps."""
    if not isinstance(values, list):
        return []
    numbers = (as_float(v) if v is not None else math.nan for v in values[:MAX_PLOT_POINTS])
    return [v if math.isfinite(v) and abs(v) < PLOT_RANGE else math.nan for v in numbers]


STUDENT_COLOURS = ("#1f4e9c", "#b2182b", "#5b2a86")  # dark: thin lines drawn on top
REFERENCE_COLOURS = ("#f58518", "#54a24b", "#e45756")  # light and wide: drawn beneath
OTHER_COLOURS = ("#72b7b2", "#9d755d", "#bab0ac")
MARKED_POINTS = 40  # a curve with at most this many points gets a marker per point
TITLE_SIZES = (10, 9, 8, 7)  # points; the title shrinks until it fits the image
TITLE_LINES = 3  # at most, before it shrinks
MAX_TITLE_CHARS = 400  # beyond this, a title is shortened with "…" (the check says the rest)
# Of the image's width, what a title's line may take: the title is centred over the axes,
# which the y labels' margin pushes off the image's centre by up to a tenth of its width.
TITLE_ROOM = 0.8


def line_role(line: Mapping[str, Any]) -> str:
    """Whose line this is, read from its kind and label as suites write them: ``guide``
    (context), ``student`` ("your Adam", "yours"), ``reference`` ("reference Adam") or
    ``other``. The student's line is the one a report must never hide."""
    if line.get("kind") == "guide":
        return "guide"
    label = clean_text(line.get("label")).strip().lower()
    if label.startswith(("your", "you ")) or label == "you":
        return "student"
    if "reference" in label or label.startswith("expected"):
        return "reference"
    return "other"


def _points(series: Mapping[str, Any], line: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """A line's x and y as drawn: gaps for what cannot be drawn, steps for a missing x."""
    ys, xs = _plottable(line.get("y")), _plottable(line.get("x"))
    if len(xs) != len(ys):
        xs = [float(i) for i in range(len(ys))]
    if series.get("log_y"):
        ys = [y if y > 0 else math.nan for y in ys]
    return xs, ys


def _lines(series: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = series.get("lines") if isinstance(series, Mapping) else None
    return [line for line in (lines if isinstance(lines, list) else [])[:12] if isinstance(line, Mapping)]


def check_series(check: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A check's ``series`` items, whatever else its list holds."""
    return [s for s in check.get("series") or [] if isinstance(s, Mapping)]


def drawable(series: Mapping[str, Any]) -> bool:
    """Whether a series is worth a picture: some line that is not a guide has two points at
    least. A one-step series would be an empty frame; its numbers are in the message."""
    for line in _lines(series):
        if line_role(line) != "guide":
            xs, ys = _points(series, line)
            if sum(math.isfinite(x) and math.isfinite(y) for x, y in zip(xs, ys, strict=True)) >= 2:
                return True
    return False


def _style(role: str, kind: str, index: int, points: int) -> dict[str, Any]:
    """How a line is drawn. The reference is wide, light and underneath; the student's line
    is thin, dark and on top, so where they agree both show, and where the student's leaves
    the reference it is the line that stands out. Few points get a marker each, so a short
    or single-point line is never invisible."""
    marked = kind == "path" or points <= MARKED_POINTS
    if role == "guide":
        return {"linestyle": ":", "color": "#8a9099", "linewidth": 0.9, "zorder": 1}
    if role == "reference":
        return {"linestyle": "-", "color": REFERENCE_COLOURS[index % 3], "linewidth": 3.4,
                "alpha": 0.6, "zorder": 2, "solid_capstyle": "round",
                **({"marker": "o", "markersize": 7, "markerfacecolor": "none",
                    "markeredgewidth": 1.3} if marked else {})}
    if role == "student":
        return {"linestyle": "-", "color": STUDENT_COLOURS[index % 3], "linewidth": 1.4,
                "zorder": 4, **({"marker": "o", "markersize": 3.2} if marked else {})}
    return {"linestyle": "--", "color": OTHER_COLOURS[index % 3], "linewidth": 1.2, "zorder": 1.5,
            **({"marker": ".", "markersize": 4} if marked else {})}


def _fit_title(figure: Any, axes: Any, title: str) -> None:
    """Set ``title`` wrapped, then shrunk, until its widest line fits the image: a clipped
    title hides what the plot is about. The lines are measured with the font's metrics rather
    than by laying the figure out, which costs as much as drawing it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    renderer = FigureCanvasAgg(figure).get_renderer()
    room = TITLE_ROOM * figure.bbox.width
    for size in TITLE_SIZES:
        # about 0.55 em a character; measured below, so a wide font only costs a retry
        per_line = max(20, int(0.92 * figure.bbox.width / (0.55 * size * figure.dpi / 72)))
        lines = textwrap.wrap(title, per_line, break_on_hyphens=False) or [""]
        text = axes.set_title("\n".join(lines), fontsize=size)
        if len(lines) > TITLE_LINES and size != TITLE_SIZES[-1]:
            continue
        font = text.get_fontproperties()
        if max(renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines) <= room:
            return


def draw_series(series: Mapping[str, Any]) -> Any | None:
    """A check's ``series`` item as a matplotlib figure; None when it is not ``drawable``."""
    if not drawable(series):
        return None
    figure, axes = _new_figure()
    drawn, counts = False, {"student": 0, "reference": 0, "other": 0, "guide": 0}
    for line in _lines(series):
        xs, ys = _points(series, line)
        role, kind = line_role(line), line.get("kind", "curve")
        style = _style(role, kind, counts[role], len(ys))
        counts[role] += 1
        axes.plot(xs, ys, label=_mpl_text(line.get("label", "")), **style)
        drawn = drawn or any(math.isfinite(y) for y in ys)
    if series.get("log_y") and drawn:
        axes.set_yscale("log")
    for name, setter in (("xlim", axes.set_xlim), ("ylim", axes.set_ylim)):
        limits = _plottable(series.get(name))
        if len(limits) == 2 and all(map(math.isfinite, limits)) and limits[0] < limits[1]:
            setter(*limits)
    axes.set_xlabel(_mpl_text(series.get("xlabel", "")), fontsize=9)
    axes.set_ylabel(_mpl_text(series.get("ylabel", "")), fontsize=9)
    axes.tick_params(labelsize=8)
    if any(label and not label.startswith("_") for label in axes.get_legend_handles_labels()[1]):
        axes.legend(fontsize=8, frameon=True, framealpha=0.85, edgecolor="none")
    _fit_title(figure, axes, _mpl_text(series.get("title", "")))
    return figure


def plot_series(series: Mapping[str, Any]) -> str | None:
    """A check's ``series`` item drawn as a PNG data URI; None if it cannot be drawn. A series
    drawn where its result was graded (see ``drawn_elsewhere``) is not drawn again."""
    key = series_key(series) if _DRAWN else None
    if key is not None and key in _DRAWN:
        return _DRAWN[key]
    try:
        figure = draw_series(series)
        return None if figure is None else _png_data_uri(figure)
    except Exception:  # a broken plot must not cost the student the whole report
        return None


def warm_up() -> None:
    """Import matplotlib and load Agg and its fonts now, so that the first picture costs no
    more than the next (called while there is time to spare: grading jobs starting)."""
    from matplotlib.figure import Figure

    Figure().savefig(io.BytesIO(), format="png")


def series_key(series: Mapping[str, Any]) -> str | None:
    """What identifies a series' picture: the SHA-256 of its JSON text, the same before and
    after the series crosses between processes as JSON; None for one JSON cannot carry."""
    try:
        text = json.dumps(series, sort_keys=True, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def draw_all(result: Mapping[str, Any]) -> dict[str, str | None]:
    """Every picture ``result``'s HTML feedback shows, by ``series_key``: drawn by the process
    that graded it (a grading job, a dask worker), so that drawing, which is most of what
    writing a wrong submission's reports costs, runs in parallel, not in the one process
    that writes every report. Never raises: what it cannot draw is drawn when the report is
    written, as it would be without it."""
    drawn: dict[str, str | None] = {}
    for check in result.get("checks") or []:
        for series in check_series(check) if isinstance(check, Mapping) else []:
            try:
                key = series_key(series) if drawable(series) else None
            except Exception:  # left to be drawn, or named as undrawable, by the report itself
                continue
            if key is not None and key not in drawn:
                drawn[key] = plot_series(series)
    return drawn


def with_pictures(result: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` and its pictures (``draw_all``), as a grading process sends them back."""
    return {"result": result, "plots": draw_all(result)}


_PNG_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/]+={0,2}")
_DRAWN: dict[str, str | None] = {}  # only inside ``drawn_elsewhere``


@contextlib.contextmanager
def drawn_elsewhere(drawn: Any) -> Iterator[None]:
    """Within this block, ``plot_series`` takes the pictures in ``drawn`` (``draw_all``'s, as
    they came back) instead of drawing them. Anything in it that is not a PNG data URI (or
    None, for a series that could not be drawn) is ignored, and drawn here if needed."""
    if isinstance(drawn, Mapping):
        _DRAWN.update({k: v for k, v in drawn.items()
                       if isinstance(k, str) and (v is None or isinstance(v, str) and _PNG_URI.fullmatch(v))})
    try:
        yield
    finally:
        _DRAWN.clear()


def plot_histogram(scores: list[float], max_score: float) -> str | None:
    """The class's score distribution as a PNG data URI; none for fewer than two scores (a
    distribution of one is that one score, which the summary's table shows)."""
    if len(scores) < 2:
        return None
    figure, axes = _new_figure()
    top = max(max_score, max(scores), 1.0)
    axes.hist(scores, bins=10, range=(0, top), color="#4c78a8", edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_title("Scores", fontsize=10)
    axes.set_xlabel("points", fontsize=9)
    axes.set_ylabel("submissions", fontsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(labelsize=8)
    return _png_data_uri(figure)

"""Plots for reports, drawn with matplotlib's Agg backend into PNG data URIs."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
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


def plot_series(series: Mapping[str, Any]) -> str | None:
    """A check's ``series`` item drawn as a PNG data URI; None if it cannot be drawn."""
    try:
        figure, axes = _new_figure()
        drawn = False
        for index, line in enumerate(series.get("lines", [])[:12]):
            ys, xs = _plottable(line.get("y")), _plottable(line.get("x"))
            if len(xs) != len(ys):
                xs = list(range(len(ys)))
            if series.get("log_y"):
                ys = [y if y > 0 else math.nan for y in ys]
            label = _mpl_text(line.get("label", ""))
            kind = line.get("kind", "curve")
            if kind == "guide":  # level curves, a target value: context, drawn faint
                axes.plot(xs, ys, ":", color="#8a9099", linewidth=0.9, label=label)
            elif kind == "path":  # one point per step, so the steps themselves show
                axes.plot(xs, ys, "-o", markersize=3, linewidth=0.9, label=label)
            else:
                axes.plot(xs, ys, "-" if index == 0 else "--", linewidth=1.6, label=label)
            drawn = drawn or any(math.isfinite(y) for y in ys)
        if series.get("log_y") and drawn:
            axes.set_yscale("log")
        for name, setter in (("xlim", axes.set_xlim), ("ylim", axes.set_ylim)):
            limits = _plottable(series.get(name))
            if len(limits) == 2 and all(map(math.isfinite, limits)) and limits[0] < limits[1]:
                setter(*limits)
        axes.set_title(_mpl_text(series.get("title", "")), fontsize=10)
        axes.set_xlabel(_mpl_text(series.get("xlabel", "")), fontsize=9)
        axes.set_ylabel(_mpl_text(series.get("ylabel", "")), fontsize=9)
        axes.tick_params(labelsize=8)
        if series.get("lines"):
            axes.legend(fontsize=8, frameon=False)
        return _png_data_uri(figure)
    except Exception:  # a broken plot must not cost the student the whole report
        return None


def plot_histogram(scores: list[float], max_score: float) -> str | None:
    """The class's score distribution as a PNG data URI."""
    if not scores:
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

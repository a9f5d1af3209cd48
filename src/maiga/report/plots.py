"""The report's figures, each returned as a base64 PNG ``data:`` URI.

Figures are embedded rather than written next to the HTML so that a report is one file that can
be mailed, archived or attached to an issue without losing its pictures.

The figures are built with :class:`matplotlib.figure.Figure` and rendered by the Agg canvas
directly, never through ``pyplot``: that draws the same pixels as ``matplotlib.use("Agg")`` but
leaves the process-wide backend and pyplot's figure registry alone, so writing a report from a
notebook or a GUI does not switch its backend and no figure can be left open.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from maiga.report.inputs import EvalArrays

# A dimension needs this many rated items before a reliability curve or a scatter says more
# than noise; with fewer, ten bins hold one or two items each.
MIN_RATED = 20
CALIBRATION_BINS = 10
# Targets with at most this many distinct values are treated as labels (0/1-ish), not scores.
MAX_DISTINCT_FOR_LABELS = 5

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000"]
NETWORK_COLOUR = "#0072B2"
HUMAN_COLOUR = "#E69F00"
_NEG_COLOUR = "#8c8c8c"
METRIC_NAMES = {"pearson": "Pearson r", "f1": "F1", "spearman": "Spearman ρ"}

_STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_DPI = 110


@dataclass
class PlotResult:
    """A figure (or ``None`` when nothing could be drawn) and what was left out of it and why.

    The report prints ``skipped`` next to the figure so that a missing panel is never mistaken
    for a panel that was forgotten.
    """

    uri: str | None
    shown: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def metric_label(metric: str) -> str:
    """Readable axis label for a metric id such as ``pearson``."""
    return METRIC_NAMES.get(str(metric).lower(), str(metric))


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation, NaN (not a warning) when either side is constant or too short."""
    if x.size < 3:
        return math.nan
    xs, ys = x - x.mean(), y - y.mean()
    denom = math.sqrt(float((xs * xs).sum()) * float((ys * ys).sum()))
    return float((xs * ys).sum()) / denom if denom > 0 else math.nan


def fmt_r(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}"


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_data_uri(fig: Figure) -> str:
    """Render ``fig`` to PNG, release it, and return a ``data:image/png;base64,`` URI."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=_DPI, facecolor="white")
    finally:
        fig.clear()  # drop the artists now; the Figure is not in any pyplot registry
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    cols = max(1, min(max_cols, n))
    return math.ceil(n / cols), cols


def ordered_unique(values: Iterable) -> list:
    return list(dict.fromkeys(values))


def as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


# --- Plot 1: per-emotion scores ---------------------------------------------------------------


def per_dimension_plot(rows: list[dict]) -> PlotResult:
    """Horizontal bars per dimension, network vs human ceiling, one panel per source.

    One panel per source, because sources are scored with different metrics (F1 for labels,
    Pearson r for ratings) that must not share an axis.
    """
    sources = ordered_unique(str(r.get("source", "?")) for r in rows)
    if not sources:
        return PlotResult(None)
    panels = []
    for source in sources:
        mine = [r for r in rows if str(r.get("source", "?")) == source]
        dims = [str(r.get("dimension", "?")) for r in mine]
        net = np.array([as_float(r.get("network")) for r in mine])
        ceil = np.array([as_float(r.get("human_ceiling")) for r in mine])
        # None means "no ceiling for this source"; NaN means "given but not computable".
        has = [r.get("human_ceiling") is not None for r in mine]
        metrics = ordered_unique(metric_label(r.get("metric", "")) for r in mine)
        panels.append((source, dims, net, ceil, has, " / ".join(m for m in metrics if m)))

    max_dims = max(len(p[1]) for p in panels)
    n_rows, n_cols = _grid(len(panels), 3)
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure(4.0 * n_cols, n_rows * (0.42 * max_dims + 1.1) + 0.5)
        axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        any_ceiling = False
        for ax, (source, dims, net, ceil, has, metric) in zip(axes, panels):
            y = np.arange(len(dims))
            has_ceil = any(has)
            any_ceiling |= has_ceil
            h = 0.38 if has_ceil else 0.6
            off = h / 2 if has_ceil else 0.0
            ax.barh(y - off, np.nan_to_num(net), height=h, color=NETWORK_COLOUR,
                    label="network")
            if has_ceil:
                ax.barh(y + off, np.nan_to_num(ceil), height=h, color=HUMAN_COLOUR,
                        label="human ceiling")
            finite = np.concatenate([net[np.isfinite(net)], ceil[np.isfinite(ceil)]])
            lo = min(0.0, float(finite.min()) if finite.size else 0.0)
            hi = max(1.0, float(finite.max()) if finite.size else 1.0)
            span = hi - lo
            ax.set_xlim(lo - (0.12 * span if lo < 0 else 0.0), hi + 0.12 * span)
            for yy, v in zip(y - off, net):
                _bar_label(ax, yy, v, span)
            if has_ceil:
                for yy, v, given in zip(y + off, ceil, has):
                    if given:
                        _bar_label(ax, yy, v, span)
            ax.set_yticks(y, dims)
            # The same y extent in every panel keeps bars equally thick, so a source with one
            # dimension does not get one bar that fills the panel.
            ax.set_ylim(max_dims - 0.5, -0.5)
            ax.axvline(0, color="0.3", linewidth=0.6)
            ax.set_xlabel(metric or "score")
            ax.set_title(source, loc="left", fontweight="bold")
            ax.grid(axis="x", color="0.9")
            ax.set_axisbelow(True)
        handles = [Patch(color=NETWORK_COLOUR, label="network")]
        if any_ceiling:
            handles.append(Patch(color=HUMAN_COLOUR, label="human ceiling"))
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles),
                   frameon=False)
        return PlotResult(to_data_uri(fig), shown=sources)


def _bar_label(ax, y: float, value: float, span: float) -> None:
    if math.isfinite(value):
        pad = 0.01 * span
        x, ha = (value + pad, "left") if value >= 0 else (value - pad, "right")
        ax.text(x, y, f"{value:.2f}", va="center", ha=ha, fontsize=7, color="0.2")
    else:
        ax.text(0.01 * span, y, "n/a", va="center", ha="left", fontsize=7, color="0.45")


# --- Plot 2: calibration ----------------------------------------------------------------------


def _plottable(ev: EvalArrays, min_rated: int) -> tuple[list[int], list[tuple[str, str]]]:
    """Columns with enough rated items, and (dimension, reason) for those without."""
    keep, skipped = [], []
    for j, (dim, n) in enumerate(zip(ev.dimensions, ev.rated_counts())):
        if n == 0:
            skipped.append((dim, "no rated items: every target is NaN in this set"))
        elif n < min_rated:
            skipped.append((dim, f"only {n} rated item(s); at least {min_rated} are needed "
                                  "before the picture says more than noise"))
        else:
            keep.append(j)
    return keep, skipped


def rated_pairs(ev: EvalArrays, j: int) -> tuple[np.ndarray, np.ndarray]:
    p, t = ev.predictions[:, j], ev.targets[:, j]
    ok = np.isfinite(p) & np.isfinite(t)
    return p[ok], t[ok]


def reliability_bins(pred: np.ndarray, target: np.ndarray, low: float, high: float,
                     n_bins: int = CALIBRATION_BINS) -> tuple[np.ndarray, ...]:
    """Per equal-width prediction bin: item count, mean prediction, mean target.

    Empty bins give NaN means (and are not drawn). Predictions outside the range fall into the
    end bins rather than vanishing, so every rated item is counted.
    """
    edges = np.linspace(low, high, n_bins + 1)
    idx = np.clip(np.digitize(pred, edges[1:-1]), 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(idx, weights=pred, minlength=n_bins) / counts
        mean_t = np.bincount(idx, weights=target, minlength=n_bins) / counts
    return counts, mean_p, mean_t


def calibration_gap(counts: np.ndarray, mean_p: np.ndarray, mean_t: np.ndarray) -> float:
    """Item-weighted mean |mean prediction - mean target| over bins (ECE for 0/1 targets)."""
    ok = counts > 0
    total = counts[ok].sum()
    return float((counts[ok] * np.abs(mean_p[ok] - mean_t[ok])).sum() / total) if total else 0.0


def _small_multiples(n_panels: int, per_row: int = 4):
    """A figure with one small panel per plotted dimension, spare grid cells hidden."""
    n_rows, n_cols = _grid(n_panels, per_row)
    fig = _new_figure(2.7 * n_cols + 0.3, 2.6 * n_rows + 0.4)
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def calibration_plot(ev: EvalArrays, min_rated: int = MIN_RATED) -> PlotResult:
    """Reliability diagrams, one small panel per dimension with enough rated items.

    A point on the diagonal means that when the network says x, humans said x on average; the
    marker area shows how many items the bin holds, so sparse bins are not over-read.
    """
    keep, skipped = _plottable(ev, min_rated)
    if not keep:
        return PlotResult(None, skipped=skipped)
    with matplotlib.rc_context(_STYLE):
        fig, axes = _small_multiples(len(keep))
        for ax, j in zip(axes, keep):
            lo, hi = ev.ranges[j]
            p, t = rated_pairs(ev, j)
            counts, mp, mt = reliability_bins(p, t, lo, hi)
            ok = counts > 0
            ax.plot([lo, hi], [lo, hi], linestyle="--", color="0.55", linewidth=0.9)
            ax.plot(mp[ok], mt[ok], color=NETWORK_COLOUR, linewidth=1.2)
            sizes = 12 + 110 * np.sqrt(counts[ok] / counts.max())
            ax.scatter(mp[ok], mt[ok], s=sizes, color=NETWORK_COLOUR, alpha=0.85,
                       edgecolor="white", linewidth=0.5, zorder=3)
            pad = 0.04 * (hi - lo)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            ax.set_aspect("equal")
            gap = calibration_gap(counts, mp, mt)
            ax.set_title(f"{ev.dimensions[j]}\nn={p.size}, gap={gap:.3f}")
            ax.set_xlabel("mean prediction")
            ax.set_ylabel("mean human value")
            ax.grid(color="0.92")
            ax.set_axisbelow(True)
        fig.suptitle(ev.name, fontsize=10)
        return PlotResult(to_data_uri(fig), shown=[ev.dimensions[j] for j in keep],
                          skipped=skipped)


# --- Plot 3: agreement with humans ------------------------------------------------------------


def is_label_like(target: np.ndarray) -> bool:
    """Whether rated targets take so few values that they are labels rather than scores."""
    return np.unique(target).size <= MAX_DISTINCT_FOR_LABELS


def agreement_plot(ev: EvalArrays, min_rated: int = MIN_RATED) -> PlotResult:
    """Prediction vs human value per dimension: a scatter for scores, histograms for labels.

    A scatter of predictions against 0/1 targets is two stripes that hide the overlap, so
    label-like dimensions show the prediction distributions of the two classes instead; the
    less they overlap, the better the network separates them.
    """
    keep, skipped = _plottable(ev, min_rated)
    if not keep:
        return PlotResult(None, skipped=skipped)
    any_hist = False
    with matplotlib.rc_context(_STYLE):
        fig, axes = _small_multiples(len(keep))
        for ax, j in zip(axes, keep):
            lo, hi = ev.ranges[j]
            p, t = rated_pairs(ev, j)
            r = pearson_r(p, t)
            detail = f"n={p.size}"
            pad = 0.04 * (hi - lo)
            if is_label_like(t):
                _label_histogram(ax, p, t, lo, hi)
                any_hist = True
                detail += f", {int((t >= 0.5).sum())} rated ≥ 0.5"
                ax.set_xlim(lo - pad, hi + pad)
                ax.set_xlabel("prediction")
                ax.set_ylabel("density")
            else:
                alpha = float(np.clip(400.0 / p.size, 0.08, 0.7))
                ax.plot([lo, hi], [lo, hi], linestyle="--", color="0.55", linewidth=0.9)
                ax.scatter(p, t, s=6, alpha=alpha, color=NETWORK_COLOUR, linewidth=0)
                ax.set_xlim(lo - pad, hi + pad)
                ax.set_ylim(lo - pad, hi + pad)
                ax.set_aspect("equal")
                ax.set_xlabel("prediction")
                ax.set_ylabel("human value")
            ax.set_title(f"{ev.dimensions[j]}: r = {fmt_r(r)}\n{detail}")
            ax.grid(color="0.92")
            ax.set_axisbelow(True)
        if any_hist:
            fig.legend(handles=[Patch(color=_NEG_COLOUR, alpha=0.6, label="human value < 0.5"),
                                Patch(color=HUMAN_COLOUR, alpha=0.6, label="human value ≥ 0.5")],
                       loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(ev.name, fontsize=10)
        return PlotResult(to_data_uri(fig), shown=[ev.dimensions[j] for j in keep],
                          skipped=skipped)


def _label_histogram(ax, p: np.ndarray, t: np.ndarray, lo: float, hi: float) -> None:
    # Densities, not counts: positives are often a few percent of items and would be invisible.
    edges = np.linspace(lo, hi, 21)
    pos, neg = p[t >= 0.5], p[t < 0.5]
    for values, colour in ((neg, _NEG_COLOUR), (pos, HUMAN_COLOUR)):
        if values.size:
            ax.hist(np.clip(values, lo, hi), bins=edges, density=True, alpha=0.6,
                    color=colour)


# --- Comparisons ------------------------------------------------------------------------------


def comparisons_plot(rows: list[dict]) -> PlotResult:
    """Grouped vertical bars: one group per ``group``, one bar per ``label``.

    Bars of the same label share a colour across groups, so "network" and "average single
    worker" can be followed from one group to the next.
    """
    groups = ordered_unique(str(r.get("group", "")) for r in rows)
    labels = ordered_unique(str(r.get("label", "")) for r in rows)
    if not groups:
        return PlotResult(None)
    values = {(str(r.get("group", "")), str(r.get("label", ""))): as_float(r.get("value"))
              for r in rows}
    rotate = len(groups) > 12 or max(len(g) for g in groups) > 14
    finite = [v for v in values.values() if math.isfinite(v)]
    lo = min([0.0, *finite])
    hi = max([0.0, *finite])
    span = (hi - lo) or 1.0
    width = 0.8 / len(labels)
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure(max(5.0, 1.0 + 0.35 * len(groups) * len(labels) + 0.4 * len(groups)),
                          3.8)
        ax = fig.subplots()
        x = np.arange(len(groups))
        for k, label in enumerate(labels):
            vals = np.array([values.get((g, label), math.nan) for g in groups])
            pos = x - 0.4 + width * (k + 0.5)
            ax.bar(pos, np.nan_to_num(vals), width=width * 0.92,
                   color=PALETTE[k % len(PALETTE)], label=label)
            for xx, v, g in zip(pos, vals, groups):
                if (g, label) not in values:
                    continue  # not measured: an empty slot, not an "n/a" on every group
                text = f"{v:.2f}" if math.isfinite(v) else "n/a"
                y = v if math.isfinite(v) else 0.0
                va = "bottom" if y >= 0 else "top"
                ax.text(xx, y + (0.01 if y >= 0 else -0.01) * span, text, ha="center",
                        va=va, fontsize=7, color="0.2")
        ax.set_xticks(x, groups, rotation=30 if rotate else 0, ha="right" if rotate else "center")
        ax.set_ylim(lo - (0.1 * span if lo < 0 else 0.0), hi + 0.12 * span)
        ax.axhline(0, color="0.3", linewidth=0.6)
        ax.set_ylabel("value")
        ax.grid(axis="y", color="0.9")
        ax.set_axisbelow(True)
        fig.legend(loc="outside right upper", frameon=False)
        return PlotResult(to_data_uri(fig), shown=groups)

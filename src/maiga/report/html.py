"""Render a run report to one self-contained HTML file.

The report is what a researcher reads to decide whether a trained network is any good, so it
puts the plain-language findings first, shows every metric with its meaning, and says out loud
what it could not show (skipped dimensions, missing ceilings) instead of leaving gaps.
"""

from __future__ import annotations

import math
import numbers
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import yaml

from maiga import __version__
from maiga.io import write_text_atomic
from maiga.report.lm_section import lm_ablation_plot, lm_rows
from maiga.report.plots import PlotResult
from maiga.report import plots
from maiga.report.inputs import EvalArrays, ReportInputs

TEMPLATE_NAME = "template.html"


def format_value(value: Any) -> str:
    """Metric value as text: floats to 3 decimals, NaN and None as ``n/a``, the rest as is."""
    if value is None:
        return "n/a"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return "n/a"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.3f}"
    return str(value)


def _is_missing(value: Any) -> bool:
    return value is None or format_value(value) == "n/a"


def _plain(value: Any) -> Any:
    """Config value as plain YAML-safe data (numpy scalars, paths and the like become text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def config_yaml(config: dict) -> str:
    """The run config as block-style YAML, in the order it was given."""
    if not config:
        return ""
    return yaml.safe_dump(_plain(config), sort_keys=False, allow_unicode=True,
                          default_flow_style=False)


def _metric_rows(inputs: ReportInputs) -> list[dict]:
    return [
        {"key": str(key), "value": format_value(value), "missing": _is_missing(value),
         "doc": inputs.metric_docs.get(key, "")}
        for key, value in inputs.metrics.items()
    ]


def _per_dimension_rows(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        net = plots.as_float(r.get("network"))
        ceil = r.get("human_ceiling")
        ceil_f = plots.as_float(ceil) if ceil is not None else math.nan
        gap = net - ceil_f if math.isfinite(net) and math.isfinite(ceil_f) else math.nan
        out.append({
            "source": str(r.get("source", "")),
            "dimension": str(r.get("dimension", "")),
            "metric": plots.metric_label(r.get("metric", "")),
            "network": format_value(net),
            "ceiling": "not available" if ceil is None else format_value(ceil_f),
            "gap": format_value(gap) if math.isfinite(gap) else "",
            "below": math.isfinite(gap) and gap < 0,
        })
    return out


def _eval_section(ev: EvalArrays) -> dict:
    """Per-dimension summary table plus both figures for one evaluation set."""
    calibration = plots.calibration_plot(ev)
    agreement = plots.agreement_plot(ev)
    rated = ev.rated_counts()
    dims = []
    for j, dim in enumerate(ev.dimensions):
        p, t = plots.rated_pairs(ev, j)
        lo, hi = ev.ranges[j]
        dims.append({
            "name": dim,
            "range": f"[{lo:g}, {hi:g}]",
            "rated": rated[j],
            "mean_target": format_value(float(t.mean())) if t.size else "n/a",
            "mean_pred": format_value(float(p.mean())) if p.size else "n/a",
            "r": format_value(plots.pearson_r(p, t)),
            "kind": ("" if t.size == 0
                     else "labels" if plots.is_label_like(t) else "scores"),
            "plotted": dim in calibration.shown,
        })
    return {
        "name": ev.name,
        "n_items": ev.n_items,
        # Unrated dimensions are listed once, in the skipped box; rows of n/a add nothing.
        "dims": [d for d in dims if d["rated"] > 0],
        "skipped": group_skipped(calibration.skipped),
        "calibration": calibration,
        "agreement": agreement,
    }


def group_skipped(skipped: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(reason, dimensions) pairs, so nine unrated emotions make one line, not nine."""
    by_reason: dict[str, list[str]] = {}
    for dim, why in skipped:
        by_reason.setdefault(why, []).append(dim)
    return list(by_reason.items())


def _comparison_table(rows: list[dict]) -> dict:
    """Pivot to groups x labels, so the numbers being compared sit on one line."""
    groups = plots.ordered_unique(str(r.get("group", "")) for r in rows)
    labels = plots.ordered_unique(str(r.get("label", "")) for r in rows)
    cells = {(str(r.get("group", "")), str(r.get("label", ""))): r.get("value") for r in rows}
    return {
        "labels": labels,
        "rows": [
            {"group": g,
             "cells": [format_value(cells[(g, lab)]) if (g, lab) in cells else "—"
                        for lab in labels]}
            for g in groups
        ],
    }


def _environment() -> jinja2.Environment:
    # autoescape on for everything: notes, metric docs and labels come from data files and
    # annotators' label names, and must never be able to inject markup into the report.
    return jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(inputs: ReportInputs, *, generated_at: datetime | None = None) -> str:
    """Build the report's HTML text (what :func:`write_report` writes)."""
    when = generated_at or datetime.now().astimezone()
    source = resources.files("maiga.report").joinpath(TEMPLATE_NAME).read_text("utf-8")
    template = _environment().from_string(source)
    per_dim_plot = plots.per_dimension_plot(inputs.per_dimension)
    comparisons_plot = plots.comparisons_plot(inputs.comparisons)
    return template.render(
        title=inputs.title,
        generated=when.strftime("%Y-%m-%d %H:%M %Z").strip(),
        version=__version__,
        notes=[str(n) for n in inputs.notes],
        metrics=_metric_rows(inputs),
        per_dimension_plot=per_dim_plot,
        per_dimension_rows=_per_dimension_rows(inputs.per_dimension),
        evals=[_eval_section(ev) for ev in inputs.evals],
        min_rated=plots.MIN_RATED,
        max_distinct=plots.MAX_DISTINCT_FOR_LABELS,
        bins=plots.CALIBRATION_BINS,
        comparisons_plot=comparisons_plot,
        comparisons=_comparison_table(inputs.comparisons),
        dropped=[(str(src), [str(lab) for lab in labels])
                 for src, labels in inputs.dropped_labels.items()],
        config_yaml=config_yaml(inputs.config),
        lm_rows=lm_rows(inputs.lm_nll) if inputs.lm_nll else [],
        lm_plot=lm_ablation_plot(inputs.lm_nll) if inputs.lm_nll else PlotResult(None),
    )


def write_report(path: Path, inputs: ReportInputs, *,
                 generated_at: datetime | None = None) -> Path:
    """Write the report to ``path`` atomically and return the path.

    Atomic so that a crash while rendering never leaves a half-written report that looks
    finished; ``generated_at`` exists to make reports reproducible in tests.
    """
    path = Path(path)
    write_text_atomic(path, render_report(inputs, generated_at=generated_at))
    return path

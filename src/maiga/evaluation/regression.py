"""Correlation and error between network values and human values, ignoring unrated cells."""

from __future__ import annotations

import numpy as np
from scipy import stats


def masked_pearson(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Pearson r over the items whose target is not NaN; NaN if fewer than 3 or constant."""
    keep = ~np.isnan(targets) & ~np.isnan(predictions)
    x, y = predictions[keep], targets[keep]
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(stats.pearsonr(x, y).statistic)


def masked_mae(predictions: np.ndarray, targets: np.ndarray) -> float:
    keep = ~np.isnan(targets)
    return float(np.abs(predictions[keep] - targets[keep]).mean()) if keep.any() else float("nan")


def per_dimension_regression(
    predictions: np.ndarray, targets: np.ndarray, names: list[str], prefix: str
) -> dict[str, float]:
    """``{prefix}.{dim}.pearson`` and ``{prefix}.{dim}.mae`` for every dimension with ratings.

    Inputs: predictions and targets (n_items, n_dims) in schema order; NaN targets are unrated.
    """
    out: dict[str, float] = {}
    for j, name in enumerate(names):
        column = targets[:, j]
        if np.isnan(column).all():
            continue
        out[f"{prefix}.{name}.pearson"] = masked_pearson(predictions[:, j], column)
        out[f"{prefix}.{name}.mae"] = masked_mae(predictions[:, j], column)
        out[f"{prefix}.{name}.n"] = int((~np.isnan(column)).sum())
    return out

"""How much annotators agree, and how well one person predicts the others.

These numbers bound what an emotional network can reach: a network cannot be expected to predict
a rating better than another human does. All functions take a long table already mapped onto a
schema (see :mod:`maiga.data.table`); filter it to a split first if you need one. Rows of the
``AGGREGATE`` pseudo-annotator are left out everywhere: a published mean is not one person's
rating and would inflate agreement.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd

from maiga.aggregate.competence import correlation_by_annotator, is_binary, item_codes
from maiga.aggregate.variants import AggregatedTargets
from maiga.data.table import AGGREGATE_ANNOTATOR, has_annotator_ids
from maiga.errors import DataError
from maiga.schema.emotion_schema import EmotionSchema


def _rows(table: pd.DataFrame, dimension: str, source: str | None) -> pd.DataFrame:
    """Individual ratings of one dimension (and source), AGGREGATE rows dropped."""
    keep = (table["dimension"] == dimension) & (table["annotator"] != AGGREGATE_ANNOTATOR)
    if source is not None:
        keep &= table["source"] == source
    rows = table[keep]
    if rows["value"].isna().any():
        raise DataError(
            f"{int(rows['value'].isna().sum())} rating(s) of {dimension!r} have no value; "
            "drop them in the reader before computing agreement."
        )
    return rows


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r, NaN for fewer than 3 pairs or a constant side."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) <= 1e-12 * max(1.0, np.abs(y).max()):
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def krippendorff_alpha(
    table: pd.DataFrame, dimension: str, level: str = "interval", source: str | None = None
) -> float:
    """Krippendorff's alpha of the ratings of one dimension (Krippendorff 2011, "Computing
    Krippendorff's Alpha-Reliability"), computed by the ``krippendorff`` package.

    Inputs: a long table; units are items (``(source, item)``), values are ``value``; ``level``
    is ``interval`` for continuous strengths or ``nominal`` for 0/1 labels. The data are passed
    as a units x values count matrix (shape (n_items, n_distinct_values)), because alpha only
    compares values *within* a unit and never asks who gave them. That is why it is valid for
    anonymous per-item slots (``~1``, ``~2``: the same slot name is not the same person on two
    items) and unaffected by annotator ids. Items with fewer than two ratings cannot be paired
    and do not count.

    Returns NaN when no item has two ratings, or when every rating has the same value (alpha is
    0/0 then). Pass ``source`` to restrict to one source; otherwise units of all sources pool.
    """
    rows = _rows(table, dimension, source)
    units = item_codes(rows)
    pairable = pd.Series(units).map(pd.Series(units).value_counts()).to_numpy() >= 2
    values = rows["value"].to_numpy(dtype=float)[pairable]
    domain = np.unique(values)
    if len(domain) < 2:
        return float("nan")
    unit_index = pd.factorize(units[pairable])[0]
    counts = np.zeros((unit_index.max() + 1, len(domain)))
    np.add.at(counts, (unit_index, np.searchsorted(domain, values)), 1.0)
    return float(
        krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level)
    )


def human_ceiling(table: pd.DataFrame, dimension: str, source: str | None = None) -> dict:
    """How well one person predicts the others: each single rating against the mean of the
    *other* ratings of the same item (items with >= 2 ratings), pooled over all ratings.

    This leave-one-out agreement is the human baseline the network is compared with; Snow et al.
    (2008, EMNLP) average the same correlation per annotator and call it inter-annotator
    agreement, here it is pooled over ratings so anonymous slots work too.

    Returns ``pearson`` (r over all pairs; NaN if fewer than 3 or constant), ``mae`` (mean
    absolute difference) and ``n_pairs`` (ratings used).
    """
    rows = _rows(table, dimension, source)
    x = rows["value"].to_numpy(dtype=float)
    unit = pd.Series(item_codes(rows))
    total = unit.map(pd.Series(x).groupby(unit).sum()).to_numpy()
    count = unit.map(unit.value_counts()).to_numpy()
    keep = count >= 2
    others = (total[keep] - x[keep]) / (count[keep] - 1)
    x = x[keep]
    mae = float(np.abs(x - others).mean()) if len(x) else float("nan")
    return {"pearson": _pearson(x, others), "mae": mae, "n_pairs": int(len(x))}


def single_annotator_vs_gold(
    table: pd.DataFrame, dimension: str, source: str | None = None
) -> dict:
    """The average single annotator's agreement with gold, on one dimension.

    Each annotator's Pearson r with ``gold`` over the items they rated (at least 3 with gold,
    non-constant), then averaged over annotators. Snow et al. (2008) compare aggregated
    non-experts with this "average single worker"; the network should be compared with it too.

    Returns ``mean_r``, ``median_r``, ``min_r``, ``max_r``, ``n_annotators`` (scored) and
    ``n_skipped`` (annotators with too few gold items or constant ratings). Raises DataError
    for anonymous or AGGREGATE annotators, which are not individual people.
    """
    rows = _rows(table, dimension, source)
    if not has_annotator_ids(rows):
        raise DataError(
            "single_annotator_vs_gold needs annotator ids; this table has anonymous ('~') or "
            "AGGREGATE annotators. Compare the aggregated targets with gold instead "
            "(correlation_with_gold)."
        )
    if "gold" not in rows.columns or rows["gold"].isna().all():
        raise DataError(f"No gold scores for {dimension!r}; this comparison needs them.")
    r, _ = correlation_by_annotator(rows, against="gold")
    scored = r[dimension].dropna() if dimension in r.columns else pd.Series(dtype=float)
    return {
        "mean_r": float(scored.mean()) if len(scored) else float("nan"),
        "median_r": float(scored.median()) if len(scored) else float("nan"),
        "min_r": float(scored.min()) if len(scored) else float("nan"),
        "max_r": float(scored.max()) if len(scored) else float("nan"),
        "n_annotators": int(len(scored)),
        "n_skipped": int(rows["annotator"].nunique() - len(scored)),
    }


def correlation_with_gold(
    targets: AggregatedTargets, schema: EmotionSchema, split: str | None = None
) -> dict[str, float]:
    """Aggregated targets against gold, per source and dimension (optionally one split).

    Inputs: ``targets.targets`` and ``targets.gold``, both (n_items, n_dims) in ``schema``
    order. Keys ``{source}.{dim}.gold_r`` (Pearson r over items with both values; NaN if fewer
    than 3 or constant), ``{source}.{dim}.gold_mae`` and ``{source}.{dim}.n_gold``; only
    dimensions with some gold appear. ``{source}.gold_r_mean`` averages r over them.
    """
    out: dict[str, float] = {}
    for source in sorted(targets.items["source"].unique()):
        mask = (targets.items["source"] == source).to_numpy()
        if split is not None:
            mask = mask & (targets.items["split"] == split).to_numpy()
        rs = []
        for j, dim in enumerate(schema.names):
            pred, gold = targets.targets[mask, j], targets.gold[mask, j]
            both = np.isfinite(pred) & np.isfinite(gold)
            if not both.any():
                continue
            r = _pearson(gold[both].astype(float), pred[both].astype(float))
            out[f"{source}.{dim}.gold_r"] = r
            out[f"{source}.{dim}.gold_mae"] = float(np.abs(pred[both] - gold[both]).mean())
            out[f"{source}.{dim}.n_gold"] = float(both.sum())
            rs.append(r)
        finite = [r for r in rs if np.isfinite(r)]
        if rs:
            out[f"{source}.gold_r_mean"] = float(np.mean(finite)) if finite else float("nan")
    return out


def agreement_report(table: pd.DataFrame, schema: EmotionSchema) -> dict[str, float]:
    """Flat agreement metrics per source and schema dimension.

    Keys: ``{source}.n_items``, ``{source}.mean_ratings_per_item`` (ratings per item and
    dimension, averaged over the rated cells), ``{source}.agreement_available`` (0.0 when the
    source only has AGGREGATE labels, which carry no agreement; 1.0 otherwise) and, for the
    latter, ``{source}.{dim}.alpha`` (nominal level for 0/1 values, interval otherwise),
    ``{source}.{dim}.human_ceiling_r`` and ``{source}.{dim}.human_ceiling_mae``.
    """
    unknown = sorted(set(table["dimension"].unique()) - set(schema.names))
    if unknown:
        raise DataError(
            f"The table has dimension(s) {unknown} that schema {schema.name!r} does not know; "
            f"its dimensions are {schema.names}. Map the source's labels onto the schema first."
        )
    out: dict[str, float] = {}
    for source, rows in table.groupby("source", sort=True):
        n_cells = rows.groupby(["item", "dimension"]).ngroups
        out[f"{source}.n_items"] = float(rows["item"].nunique())
        out[f"{source}.mean_ratings_per_item"] = len(rows) / n_cells
        available = bool((rows["annotator"] != AGGREGATE_ANNOTATOR).any())
        out[f"{source}.agreement_available"] = float(available)
        if not available:
            continue
        for dim in [d for d in schema.names if d in set(rows["dimension"])]:
            values = rows.loc[rows["dimension"] == dim, "value"]
            level = "nominal" if is_binary(values) else "interval"
            ceiling = human_ceiling(rows, dim)
            out[f"{source}.{dim}.alpha"] = krippendorff_alpha(rows, dim, level=level)
            out[f"{source}.{dim}.human_ceiling_r"] = ceiling["pearson"]
            out[f"{source}.{dim}.human_ceiling_mae"] = ceiling["mae"]
    return out

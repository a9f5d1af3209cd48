"""Many annotators in, one training target per item and dimension out.

The essay (section 5) lists five ways to turn individual reactions into the single target the
emotional network learns. Each is a ``variant`` here, computed per cell (item x dimension) over
the annotators who rated that cell:

- ``mean``: mean of all ratings. For 0/1 labels this is the soft label (share of annotators who
  gave 1); it is kept as it is, never thresholded.
- ``median``: median of all ratings (mean of the two middle ones for an even count).
- ``competent_mean`` / ``competent_median``: mean / median over the competent group, the top
  ``ceil(competent_fraction * n)`` of the cell's ``n`` annotators by competence.
- ``expert``: the rating of the single most competent annotator of the cell.

Competence (:mod:`maiga.aggregate.competence`) is estimated per source, and only from rows whose
split is ``train``: gold scores of dev and test items must not decide which annotators are
trusted, or a test score would measure a choice made by looking at the test set. An annotator
with no train rows gets the lowest competence. Competence ties (after rounding to 10 decimals,
which removes float noise) are broken by annotator id in string order, so that every run picks
the same people.

Sources whose annotators have no ids (anonymous ``~`` slots, ``AGGREGATE``) cannot rank anyone:
for them ``competent_mean`` and ``expert`` fall back to ``mean`` and ``competent_median`` to
``median``, and the substitution is recorded in ``effective_variant`` and in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from maiga.aggregate.competence import UNSCORED, CompetenceMethod, estimate_competence
from maiga.data.table import has_annotator_ids, validate_table
from maiga.errors import DataError, problems_error
from maiga.schema.emotion_schema import EmotionSchema

Variant = Literal["mean", "median", "competent_mean", "competent_median", "expert"]
VARIANTS = ("mean", "median", "competent_mean", "competent_median", "expert")
NEEDS_COMPETENCE = ("competent_mean", "competent_median", "expert")
# What a competence variant becomes for a source without annotator ids.
FALLBACK = {"competent_mean": "mean", "competent_median": "median", "expert": "mean"}
_TIE_DECIMALS = 10


class AggregationConfig(BaseModel):
    """How annotations become training targets (one per run, saved beside the targets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: Variant = Field(
        "mean",
        description="Essay section 5 option: mean or median over all annotators, over the "
        "competent group, or the single most competent annotator ('expert').",
    )
    competence: CompetenceMethod = Field(
        "auto",
        description="How annotator competence is estimated for the competent and expert "
        "variants: agreement with gold, with the other annotators (consensus), Dawid-Skene "
        "recall for 0/1 labels, or 'auto' (gold if most items have it, else dawid_skene for "
        "0/1 values, else consensus). Ignored by mean and median.",
    )
    competent_fraction: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="Share of each item's annotators that forms the competent group; the group "
        "is the top ceil(fraction * n) by competence, so it never is empty.",
    )


@dataclass
class AggregatedTargets:
    """Training targets, one row per (source, item), columns in schema order.

    Attributes:
        items: DataFrame with columns source, item, text, split, sorted by (source, item).
        targets: float32 (n_items, n_dims); NaN where the item has no rating on that dimension.
        counts: int32 (n_items, n_dims); ratings that went into each target (1 for expert).
        gold: float32 (n_items, n_dims); expert score from the table, NaN where there is none.
        effective_variant: source -> variant actually used (differs after a fallback).
        competence: source -> competence Series (annotator -> score) for competence variants.
        notes: human-readable lines on substitutions and on how competence was estimated.
    """

    items: pd.DataFrame
    targets: np.ndarray
    counts: np.ndarray
    gold: np.ndarray
    effective_variant: dict[str, str] = field(default_factory=dict)
    competence: dict[str, pd.Series] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def competent_group_size(n: np.ndarray | int, fraction: float) -> np.ndarray:
    """``ceil(fraction * n)``, at least 1. The 1e-9 keeps 0.3 * 10 (= 3.0000000000000004 in
    floating point) at 3 instead of 4."""
    return np.maximum(np.ceil(fraction * np.asarray(n, dtype=float) - 1e-9), 1).astype(int)


def _checked_table(table: pd.DataFrame, schema: EmotionSchema) -> pd.DataFrame:
    """The validated table plus ``row_dim`` (schema index of each row's dimension); DataError
    for NaN values, unknown dimensions and values outside the schema's ranges."""
    table = validate_table(table, origin="aggregation input")
    unknown = sorted(set(table["dimension"].unique()) - set(schema.names))
    if unknown:
        raise DataError(
            f"The table has dimension(s) {unknown} that schema {schema.name!r} does not know; "
            f"its dimensions are {schema.names}. Map the source's labels onto the schema first."
        )
    dim_index = pd.Index(schema.names).get_indexer(table["dimension"])
    values = table["value"].to_numpy()
    outside = (values < schema.lows[dim_index] - 1e-6) | (values > schema.highs[dim_index] + 1e-6)
    table["row_dim"] = dim_index
    problems = [
        f"{int(c)} value(s) of {d!r} lie outside [{schema.dimension(d).low}, "
        f"{schema.dimension(d).high}]"
        for d, c in table.loc[outside, "dimension"].value_counts().sort_index().items()
    ]
    if problems:
        raise problems_error(
            DataError, "The aggregation input", problems,
            "Values must already be mapped into the schema's ranges (see the source's mapping).",
        )
    return table


def _ranked(rows: pd.DataFrame, scores: pd.Series) -> np.ndarray:
    """Rank per row of its annotator: 0 = most competent, ties broken by id."""
    order = pd.DataFrame({"annotator": scores.index.astype(str), "score": scores.to_numpy()})
    order["score"] = -order["score"].round(_TIE_DECIMALS)
    order = order.sort_values(["score", "annotator"], kind="mergesort")
    return pd.Index(order["annotator"]).get_indexer(rows["annotator"])


def _select_competent(rows: pd.DataFrame, scores: pd.Series, size: str | float) -> pd.DataFrame:
    """The rows of each cell's competent group: its ``size`` best annotators ("expert" = 1)."""
    rows = rows.assign(rank=_ranked(rows, scores))
    rows = rows.sort_values(["row_item", "row_dim", "rank"], kind="mergesort")
    cell = rows.groupby(["row_item", "row_dim"], sort=False)
    position = cell.cumcount().to_numpy()
    if size == "expert":
        return rows[position == 0]
    keep = competent_group_size(cell["value"].transform("size").to_numpy(), float(size))
    return rows[position < keep]


def _competence_for(
    rows: pd.DataFrame, source: str, method: str, notes: list[str]
) -> pd.Series | None:
    """Competence from the source's train rows, or None (with a note) if it has none."""
    train = rows[rows["split"] == "train"]
    if train.empty:
        return None
    result = estimate_competence(train, method=method)
    annotators = pd.Index(sorted(rows["annotator"].unique()), name="annotator")
    scores = result.scores.reindex(annotators)
    missing = int(scores.isna().sum())
    scores = scores.fillna(UNSCORED)
    notes.append(
        f"{source}: competence by {result.method!r} from {len(train)} train row(s) of "
        f"{train['annotator'].nunique()} annotator(s)"
        + (f"; {missing} annotator(s) without train rows rank last" if missing else "")
        + (f"; {len(result.details['unscored'])} could not be scored and rank last"
           if result.details["unscored"] else "")
    )
    return scores


def _plan_source(
    rows: pd.DataFrame, source: str, config: AggregationConfig, notes: list[str]
) -> tuple[str, pd.Series | None]:
    """The variant to use for one source and, for competence variants, its competence."""
    variant = config.variant
    if variant not in NEEDS_COMPETENCE:
        return variant, None
    if not has_annotator_ids(rows):
        notes.append(
            f"{source}: variant {variant!r} needs annotator competence, but its annotators have "
            f"no ids (anonymous '~' slots or AGGREGATE); used {FALLBACK[variant]!r} instead."
        )
        return FALLBACK[variant], None
    scores = _competence_for(rows, source, config.competence, notes)
    if scores is None:
        notes.append(
            f"{source}: variant {variant!r} needs competence from train rows, but the source has "
            f"no train rows; used {FALLBACK[variant]!r} instead."
        )
        return FALLBACK[variant], None
    return variant, scores


def aggregate(
    table: pd.DataFrame, schema: EmotionSchema, config: AggregationConfig | None = None
) -> AggregatedTargets:
    """Aggregate a long table (already mapped onto ``schema``) into per-item targets.

    See the module docstring for what each variant computes. Raises DataError for missing
    values, dimensions outside the schema, values outside the schema's ranges, and items whose
    rows disagree on the split.
    """
    config = config or AggregationConfig()
    table = _checked_table(table, schema)

    # One row per (source, item), sorted; every table row learns its item and dimension index.
    by_item = table.groupby(["source", "item"], sort=True)
    items = by_item.agg(
        text=("text", "first"), split=("split", "first"), n_splits=("split", "nunique")
    ).reset_index()
    if (items["n_splits"] > 1).any():
        bad = items.loc[items["n_splits"] > 1, ["source", "item"]].head(5).to_dict("records")
        raise DataError(
            f"{int((items['n_splits'] > 1).sum())} item(s) have rows in more than one split, "
            f"e.g. {bad}; an item must sit in one split, or dev/test would leak into train."
        )
    items = items.drop(columns="n_splits")
    table["row_item"] = by_item.ngroup().to_numpy()

    shape = (len(items), len(schema))
    targets = np.full(shape, np.nan, dtype=np.float32)
    counts = np.zeros(shape, dtype=np.int32)
    gold = np.full(shape, np.nan, dtype=np.float32)
    cell_gold = table.groupby(["row_item", "row_dim"])["gold"].mean().dropna()
    gold[cell_gold.index.get_level_values(0), cell_gold.index.get_level_values(1)] = cell_gold

    result = AggregatedTargets(items=items, targets=targets, counts=counts, gold=gold)
    for source, rows in table.groupby("source", sort=True):
        variant, scores = _plan_source(rows, str(source), config, result.notes)
        result.effective_variant[str(source)] = variant
        if scores is not None:
            result.competence[str(source)] = scores
            size = "expert" if variant == "expert" else config.competent_fraction
            rows = _select_competent(rows, scores, size)
        statistic = "median" if variant.endswith("median") else "mean"
        cells = rows.groupby(["row_item", "row_dim"])["value"].agg([statistic, "size"])
        at = (cells.index.get_level_values(0), cells.index.get_level_values(1))
        targets[at] = cells[statistic].to_numpy()
        counts[at] = cells["size"].to_numpy()
    return result

"""Annotator competence: how far one person's ratings can be trusted.

The essay (section 5) proposes training targets from "the group that can be considered the most
competent" and from "one expert". Competence is estimated from the annotations themselves, in
one of three ways:

- ``consensus``: Pearson r between an annotator's ratings and the leave-one-out mean of the
  *other* annotators of the same items. This is the per-annotator agreement that Snow et al.
  (2008, "Cheap and Fast - But is it Good?", EMNLP) average into their inter-annotator agreement.
- ``gold``: Pearson r between an annotator's ratings and the expert (``gold``) score.
- ``dawid_skene``: for 0/1 (or small-integer) labels, the Dawid-Skene model (Dawid & Skene 1979,
  "Maximum likelihood estimation of observer error-rates using the EM algorithm", JRSS C) as
  implemented by crowd-kit; competence is the worker's mean per-class recall, i.e. the mean of the
  diagonal of its estimated confusion matrix.

Scores are per annotator (higher = more competent), averaged over dimensions with the number of
items as weights. An annotator that cannot be scored (fewer than ``MIN_CORATED`` co-rated items,
a constant rating on every dimension, or no rows at all) gets ``UNSCORED``, which is below every
real score (a correlation is >= -1, a recall >= 0), so it ranks last instead of being dropped.

Annotator ids are taken as they are: when several sources share ids (``worker01`` in two data
sets), call this once per source, as :func:`maiga.aggregate.aggregate` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from maiga.data.table import has_annotator_ids
from maiga.errors import ConfigError, DataError

CompetenceMethod = Literal["auto", "consensus", "gold", "dawid_skene"]
COMPETENCE_METHODS = ("auto", "consensus", "gold", "dawid_skene")
# Below any Pearson r (>= -1) or recall (>= 0): unscorable annotators rank last.
UNSCORED = -2.0
# Fewer co-rated items than this make a correlation meaningless.
MIN_CORATED = 3
# EM iterations of Dawid-Skene; crowd-kit's default, it usually stops earlier on its tolerance.
DS_ITERATIONS = 100
_NEEDED = ("item", "annotator", "dimension", "value")


@dataclass
class CompetenceResult:
    """Competence per annotator.

    Attributes:
        scores: float Series indexed by annotator id, higher = more competent, sorted by id;
            unscorable annotators hold ``UNSCORED``.
        method: the method actually used (never ``auto``).
        details: ``per_dimension`` (DataFrame annotator x dimension of raw scores, NaN where
            unscorable), ``n_items`` (same shape, items behind each score) and ``unscored``
            (list of annotator ids that got ``UNSCORED``).
    """

    scores: pd.Series
    method: str
    details: dict = field(default_factory=dict)


def item_codes(table: pd.DataFrame) -> np.ndarray:
    """Integer code per row for its item; ``(source, item)`` identifies an item when present."""
    keys = ["source", "item"] if "source" in table.columns else ["item"]
    return table.groupby(keys, sort=False).ngroup().to_numpy()


def is_binary(values: pd.Series | np.ndarray) -> bool:
    """True when every value is exactly 0 or 1 (presence labels such as GoEmotions')."""
    arr = np.asarray(values, dtype=float)
    return bool(arr.size) and bool(np.isin(arr, (0.0, 1.0)).all())


def _nearly_constant(grouped: pd.core.groupby.SeriesGroupBy) -> pd.Series:
    """Per group: max and min differ by no more than float noise (leave-one-out means)."""
    high, low = grouped.max(), grouped.min()
    return (high - low) <= 1e-9 * np.maximum(1.0, high.abs())


def correlation_by_annotator(
    table: pd.DataFrame, against: Literal["consensus", "gold"]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pearson r of each annotator's ratings with a reference, per dimension.

    Inputs: a long table (``item``, ``annotator``, ``dimension``, ``value``, optional ``source``
    and ``gold``). The reference of a row is ``gold`` (rows without gold are skipped) or the mean
    of the other annotators' ratings of the same item and dimension (rows whose item has no other
    rating are skipped).

    Returns ``(r, n)``: two DataFrames annotator x dimension; ``n`` counts the rows used, ``r``
    is NaN where ``n < MIN_CORATED`` or where the rating or the reference is constant.
    """
    frame = pd.DataFrame({
        "annotator": table["annotator"].to_numpy(),
        "dimension": table["dimension"].to_numpy(),
        "x": table["value"].to_numpy(dtype=float),
    })
    if against == "gold":
        frame["y"] = table["gold"].to_numpy(dtype=float)
        frame = frame[frame["y"].notna()]
    else:
        cell = frame.groupby([item_codes(table), frame["dimension"]])["x"]
        total, count = cell.transform("sum"), cell.transform("size")
        frame["y"] = (total - frame["x"]) / (count - 1).where(count > 1)
        frame = frame[count.to_numpy() > 1]

    keys = [frame["annotator"], frame["dimension"]]
    grouped = frame.groupby(keys)
    dx = frame["x"] - grouped["x"].transform("mean")
    dy = frame["y"] - grouped["y"].transform("mean")
    sums = pd.DataFrame({"xy": dx * dy, "xx": dx * dx, "yy": dy * dy}).groupby(keys).sum()
    n = grouped.size()
    r = sums["xy"] / np.sqrt(sums["xx"] * sums["yy"])
    constant = _nearly_constant(grouped["x"]) | _nearly_constant(grouped["y"])
    degenerate = (n < MIN_CORATED) | constant
    r = r.mask(degenerate).clip(-1.0, 1.0)
    return r.unstack("dimension"), n.unstack("dimension", fill_value=0)


def dawid_skene_recall(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean per-class recall of each worker under crowd-kit's Dawid-Skene, per dimension.

    Values are rounded to integers and used as class labels (tasks = items, workers =
    annotators). ``errors_`` of a fitted model holds P(observed label | true label) indexed by
    (worker, observed label) with one column per true label; recall of class c is its diagonal
    entry, 0 where the worker never gave c. A dimension with a single class everywhere says
    nothing about anyone and is skipped. Like any EM method, Dawid-Skene can swap the classes
    when most workers are worse than chance.

    Returns ``(recall, n)``: DataFrames annotator x dimension, ``n`` = items the worker labelled.
    """
    from crowdkit.aggregation import DawidSkene

    # Integer task and worker codes make crowd-kit's joins about three times faster.
    worker_codes, workers = pd.factorize(table["annotator"], sort=True)
    data = pd.DataFrame({
        "task": item_codes(table),
        "worker": worker_codes,
        "label": np.rint(table["value"].to_numpy(dtype=float)).astype(int),
        "dimension": table["dimension"].to_numpy(),
    })
    recalls: dict[str, pd.Series] = {}
    counts: dict[str, pd.Series] = {}
    for dim, rows in data.groupby("dimension", sort=True):
        if rows["label"].nunique() < 2:
            continue
        errors = DawidSkene(n_iter=DS_ITERATIONS).fit(rows[["task", "worker", "label"]]).errors_
        observed = errors.index.get_level_values("label")
        diagonal = [
            errors.loc[observed == c, c].droplevel("label").rename(c) for c in errors.columns
        ]
        per_class = pd.concat(diagonal, axis=1).reindex(rows["worker"].unique()).fillna(0.0)
        recalls[dim] = per_class.mean(axis=1)
        counts[dim] = rows.groupby("worker").size()
    recall = pd.DataFrame(recalls).rename(index=dict(enumerate(workers)))
    n = pd.DataFrame(counts).fillna(0).astype(int).rename(index=dict(enumerate(workers)))
    return recall, n


def choose_method(table: pd.DataFrame) -> str:
    """The ``auto`` rule: gold when at least half of the items have a gold score, else
    Dawid-Skene when every value is 0 or 1, else consensus."""
    if "gold" in table.columns:
        has_gold = table["gold"].notna().groupby(item_codes(table)).any()
        if has_gold.mean() >= 0.5:
            return "gold"
    return "dawid_skene" if is_binary(table["value"]) else "consensus"


def _check(table: pd.DataFrame, method: str) -> None:
    if method not in COMPETENCE_METHODS:
        raise ConfigError(
            f"Competence method {method!r} is unknown; use one of {list(COMPETENCE_METHODS)}."
        )
    missing = [c for c in _NEEDED if c not in table.columns]
    if missing:
        raise DataError(
            f"Competence needs columns {list(_NEEDED)}; the table lacks {missing}. "
            "Pass a long table (maiga.data.table)."
        )
    if table.empty:
        raise DataError("Competence was asked for an empty table; it needs rated rows.")
    if table["value"].isna().any():
        raise DataError(
            f"{int(table['value'].isna().sum())} row(s) have no value; competence needs every "
            "row rated. Drop those rows in the reader."
        )
    if not has_annotator_ids(table):
        raise DataError(
            "Competence needs annotator ids, but this table has anonymous per-item slots ('~') "
            "or the AGGREGATE pseudo-annotator, which are not people. Use the aggregation "
            "variants 'mean' or 'median', which work without ids; 'competent_mean', "
            "'competent_median' and 'expert' need a data set that publishes annotator ids."
        )
    if method == "gold" and ("gold" not in table.columns or table["gold"].isna().all()):
        raise DataError(
            "Competence method 'gold' was asked for, but the table has no gold scores. "
            "Use 'consensus' (or 'auto', which picks it) for data without an expert label."
        )


def estimate_competence(table: pd.DataFrame, method: str = "auto") -> CompetenceResult:
    """Score every annotator of ``table`` by ``method`` (see the module docstring).

    Raises DataError for tables without annotator ids (anonymous or AGGREGATE), empty tables,
    missing values, or ``gold`` asked of a table without gold; ConfigError for an unknown method.
    """
    _check(table, method)
    used = choose_method(table) if method == "auto" else method
    if used == "dawid_skene":
        per_dim, n_items = dawid_skene_recall(table)
    else:
        per_dim, n_items = correlation_by_annotator(table, against=used)

    # Item-weighted mean over the dimensions where the annotator could be scored.
    annotators = pd.Index(sorted(table["annotator"].unique()), name="annotator")
    per_dim = per_dim.reindex(index=annotators)
    n_items = n_items.reindex(index=annotators, columns=per_dim.columns).fillna(0).astype(int)
    weights = n_items.where(per_dim.notna(), 0)
    total = weights.sum(axis=1)
    raw = (per_dim.fillna(0.0) * weights).sum(axis=1) / total.where(total > 0)

    unscored = [str(a) for a in raw.index[raw.isna()]]
    scores = raw.fillna(UNSCORED).astype(float).rename("competence")
    details = {"per_dimension": per_dim, "n_items": n_items, "unscored": unscored}
    return CompetenceResult(scores=scores, method=used, details=details)

"""Agreement statistics: Krippendorff's alpha, the human ceiling, single workers vs gold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maiga.aggregate import (
    AggregationConfig,
    aggregate,
    agreement_report,
    correlation_with_gold,
    human_ceiling,
    krippendorff_alpha,
    single_annotator_vs_gold,
)
from maiga.errors import DataError
from maiga.schema import load_schema

SCHEMA = load_schema("essay8")


def from_matrix(matrix, dim: str = "fear", source: str = "s", slots: bool = False):
    """Long table from a coders x units matrix (NaN = not rated)."""
    rows = []
    for c, coder in enumerate(matrix):
        for u, value in enumerate(coder):
            if not np.isnan(value):
                name = f"~{c}" if slots else f"coder{c}"
                rows.append({"item": f"u{u}", "text": "t", "annotator": name, "dimension": dim,
                             "value": float(value), "source": source})
    return pd.DataFrame(rows)


def test_alpha_is_one_under_perfect_agreement() -> None:
    table = from_matrix([[0.1, 0.5, 0.9], [0.1, 0.5, 0.9], [0.1, 0.5, np.nan]])
    assert krippendorff_alpha(table, "fear") == pytest.approx(1.0)
    assert krippendorff_alpha(table, "fear", level="nominal") == pytest.approx(1.0)


def test_alpha_by_hand() -> None:
    # Units (0,0) (0,1) (1,1) (1,1): n_0 = 3, n_1 = 5, n = 8, disagreeing coincidences
    # o_01 + o_10 = 2, so alpha = 1 - (n - 1) * 2 / (2 * n_0 * n_1) = 1 - 14/30 = 8/15.
    # For 0/1 values the interval distance equals the nominal one, so both levels agree.
    table = from_matrix([[0, 0, 1, 1], [0, 1, 1, 1]])
    assert krippendorff_alpha(table, "fear", level="nominal") == pytest.approx(8 / 15)
    assert krippendorff_alpha(table, "fear", level="interval") == pytest.approx(8 / 15)


def test_alpha_textbook_example_and_slot_invariance() -> None:
    # The reliability data of the krippendorff package's documentation (3 coders, 15 units).
    nan = np.nan
    matrix = [[nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
              [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
              [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4]]
    table = from_matrix(matrix)
    assert krippendorff_alpha(table, "fear", level="nominal") == pytest.approx(0.691358, abs=1e-6)
    assert krippendorff_alpha(table, "fear") == pytest.approx(0.810845, abs=1e-6)
    # Anonymous per-item slots give the same alpha: only values within a unit matter.
    slots = from_matrix(matrix, slots=True)
    assert krippendorff_alpha(slots, "fear") == pytest.approx(0.810845, abs=1e-6)


def test_alpha_is_nan_when_undefined() -> None:
    assert np.isnan(krippendorff_alpha(from_matrix([[0.5, 0.5], [0.5, 0.5]]), "fear"))
    single = from_matrix([[0.1, 0.5, 0.9]])
    assert np.isnan(krippendorff_alpha(single, "fear"))


def test_human_ceiling_by_hand() -> None:
    nan = np.nan
    table = from_matrix([[0.1, 0.4, 0.5], [0.2, 0.6, nan], [0.3, nan, nan]])
    # u0 (.1 .2 .3): others' means .25 .2 .15; u1 (.4 .6): .6 .4; u2 has one rating only.
    x, others = [0.1, 0.2, 0.3, 0.4, 0.6], [0.25, 0.2, 0.15, 0.6, 0.4]
    ceiling = human_ceiling(table, "fear")
    assert ceiling["n_pairs"] == 5
    assert ceiling["mae"] == pytest.approx(0.7 / 5)
    assert ceiling["pearson"] == pytest.approx(np.corrcoef(x, others)[0, 1])


def test_single_annotator_vs_gold() -> None:
    gold = [0.2, 0.5, 0.8, 0.4]
    rows = [
        {"item": f"i{i}", "text": "t", "annotator": a, "dimension": "fear", "value": v,
         "source": "s", "gold": gold[i]}
        for a, values in {"same": gold, "mirror": [1 - g for g in gold],
                          "flat": [0.5] * 4}.items()
        for i, v in enumerate(values)
    ]
    result = single_annotator_vs_gold(pd.DataFrame(rows), "fear")
    assert result["mean_r"] == pytest.approx(0.0)  # (1 + -1) / 2
    assert result["max_r"] == pytest.approx(1.0) and result["min_r"] == pytest.approx(-1.0)
    assert result["n_annotators"] == 2 and result["n_skipped"] == 1

    anonymous = pd.DataFrame(rows).assign(annotator="~1")
    with pytest.raises(DataError, match="annotator ids"):
        single_annotator_vs_gold(anonymous, "fear")


def test_correlation_with_gold() -> None:
    gold = [0.2, 0.5, 0.8, 0.4]
    rows = [
        {"item": f"i{i}", "text": "t", "annotator": a, "dimension": "fear", "value": g + d,
         "source": "s", "split": "train" if i < 3 else "test", "gold": g}
        for a, d in {"low": -0.1, "high": 0.1}.items() for i, g in enumerate(gold)
    ]
    targets = aggregate(pd.DataFrame(rows), SCHEMA, AggregationConfig(variant="mean"))
    out = correlation_with_gold(targets, SCHEMA)
    assert out["s.fear.gold_r"] == pytest.approx(1.0)
    assert out["s.fear.gold_mae"] == pytest.approx(0.0, abs=1e-6)
    assert out["s.fear.n_gold"] == 4 and out["s.gold_r_mean"] == pytest.approx(1.0)
    assert "s.anger.gold_r" not in out
    test_only = correlation_with_gold(targets, SCHEMA, split="test")
    assert test_only["s.fear.n_gold"] == 1 and np.isnan(test_only["s.fear.gold_r"])


def test_agreement_report() -> None:
    continuous = from_matrix([[0.1, 0.5, 0.9], [0.2, 0.4, 0.9]], source="rated")
    binary = from_matrix([[0, 0, 1, 1], [0, 1, 1, 1]], dim="anger", source="labels")
    published = from_matrix([[0.3, 0.7]], source="published").assign(annotator="AGGREGATE")
    table = pd.concat([continuous, binary, published], ignore_index=True)

    report = agreement_report(table, SCHEMA)
    assert report["labels.anger.alpha"] == pytest.approx(8 / 15)  # nominal level
    assert report["rated.fear.alpha"] == pytest.approx(
        krippendorff_alpha(continuous, "fear", level="interval"))
    assert report["rated.fear.human_ceiling_r"] == pytest.approx(
        human_ceiling(continuous, "fear")["pearson"])
    assert report["rated.n_items"] == 3 and report["rated.mean_ratings_per_item"] == 2
    assert report["rated.agreement_available"] == 1.0
    assert report["published.agreement_available"] == 0.0
    assert not any(k.startswith("published.fear") for k in report)
    assert report["published.n_items"] == 2 and "rated.anger.alpha" not in report

    with pytest.raises(DataError, match="joy"):
        agreement_report(table.assign(dimension="joy"), SCHEMA)

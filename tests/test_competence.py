"""Competence on tiny tables where the answer is obvious."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from maiga.aggregate import UNSCORED, estimate_competence
from maiga.errors import ConfigError, DataError


def long_table(ratings: dict[str, list[float]], dim: str = "fear", gold=None) -> pd.DataFrame:
    rows = [
        {"item": f"i{i}", "annotator": a, "dimension": dim, "value": v, "source": "s",
         "gold": np.nan if gold is None else gold[i]}
        for a, values in ratings.items() for i, v in enumerate(values) if v is not None
    ]
    return pd.DataFrame(rows)


def noisy_table(seed: int = 0, n_items: int = 30) -> tuple[pd.DataFrame, np.ndarray]:
    """Three careful annotators (truth + small noise) and one who answers at random."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n_items)
    ratings = {f"good{k}": np.clip(truth + rng.normal(0, 0.05, n_items), 0, 1) for k in range(3)}
    ratings["random"] = rng.random(n_items)
    frames = [long_table({a: list(v)}, dim, gold=truth)
              for a, v in ratings.items() for dim in ("fear", "anger")]
    return pd.concat(frames, ignore_index=True), truth


@pytest.mark.parametrize("method", ["consensus", "gold"])
def test_random_annotator_ranks_last(method: str) -> None:
    table, _ = noisy_table()
    result = estimate_competence(table, method=method)
    assert result.method == method
    assert result.scores.idxmin() == "random"
    assert (result.scores.drop("random") > 0.8).all()
    assert list(result.details["per_dimension"].columns) == ["anger", "fear"]


def test_consensus_golden_value_and_parity_with_a_loop() -> None:
    ratings = {"a": [0.1, 0.5, 0.9], "b": [0.2, 0.4, 0.9], "c": [0.0, 0.6, 0.8],
               "d": [0.9, 0.1, 0.5]}
    result = estimate_competence(long_table(ratings), method="consensus")
    # Others of a: (b+c+d)/3 = [1.1, 1.1, 2.2]/3, an affine copy of [1, 1, 2]; a is [.1 .5 .9]:
    # dx = [-.4 0 .4], dy = [-1 -1 2]/3 -> r = .4 / sqrt(.32 * 6/9) = sqrt(3)/2.
    assert result.scores["a"] == pytest.approx(math.sqrt(3) / 2)
    assert result.scores.idxmin() == "d"
    for annotator, values in ratings.items():
        others = np.mean([v for a, v in ratings.items() if a != annotator], axis=0)
        expected = np.corrcoef(values, others)[0, 1]
        assert result.scores[annotator] == pytest.approx(expected)


def test_unscorable_annotators_get_the_lowest_score() -> None:
    ratings = {"a": [0.1, 0.5, 0.9, 0.3], "b": [0.2, 0.6, 0.8, 0.2],
               "flat": [0.5, 0.5, 0.5, 0.5], "brief": [0.1, 0.9, None, None]}
    result = estimate_competence(long_table(ratings), method="consensus")
    assert result.scores["flat"] == result.scores["brief"] == UNSCORED
    assert sorted(result.details["unscored"]) == ["brief", "flat"]
    assert (result.scores[["a", "b"]] > UNSCORED).all()


def test_dawid_skene_finds_the_worker_who_always_disagrees() -> None:
    truth = [i % 2 for i in range(20)]
    ratings = {}
    for k in range(4):  # each careful worker makes one mistake, on a different task
        ratings[f"w{k}"] = [1 - t if i == 3 * k else t for i, t in enumerate(truth)]
    ratings["contrarian"] = [1 - t for t in truth]
    table = long_table({a: [float(v) for v in vs] for a, vs in ratings.items()})

    result = estimate_competence(table, method="auto")
    assert result.method == "dawid_skene"
    assert result.scores.idxmin() == "contrarian"
    assert result.scores["contrarian"] < 0.1
    assert (result.scores.drop("contrarian") > 0.8).all()


def test_auto_rule() -> None:
    continuous = long_table({"a": [0.1, 0.5, 0.9, 0.3], "b": [0.2, 0.6, 0.8, 0.2]})
    assert estimate_competence(continuous).method == "consensus"

    half_gold = long_table({"a": [0.1, 0.5, 0.9, 0.3], "b": [0.2, 0.6, 0.8, 0.2]},
                           gold=[0.1, 0.6, np.nan, np.nan])
    assert estimate_competence(half_gold).method == "gold"

    quarter_gold = long_table({"a": [1.0, 0.0, 1.0, 0.0], "b": [1.0, 0.0, 0.0, 0.0]},
                              gold=[1.0, np.nan, np.nan, np.nan])
    assert estimate_competence(quarter_gold).method == "dawid_skene"


def test_gold_ignores_rows_without_gold() -> None:
    table = long_table({"a": [0.1, 0.5, 0.9, 0.0], "b": [0.9, 0.5, 0.1, 1.0]},
                       gold=[0.2, 0.5, 0.8, np.nan])
    result = estimate_competence(table, method="gold")
    assert result.scores["a"] == pytest.approx(1.0)
    assert result.scores["b"] == pytest.approx(-1.0)
    assert result.details["n_items"].loc["a", "fear"] == 3


@pytest.mark.parametrize("annotator", ["~1", "AGGREGATE"])
def test_tables_without_annotator_ids_are_refused(annotator: str) -> None:
    table = long_table({"a": [0.1, 0.5, 0.9], annotator: [0.2, 0.6, 0.8]})
    with pytest.raises(DataError, match="annotator ids.*'mean' or 'median'"):
        estimate_competence(table)


def test_bad_requests() -> None:
    table = long_table({"a": [0.1, 0.5, 0.9], "b": [0.2, 0.6, 0.8]})
    with pytest.raises(ConfigError, match="unknown"):
        estimate_competence(table, method="vibes")
    with pytest.raises(DataError, match="no gold"):
        estimate_competence(table, method="gold")
    with pytest.raises(DataError, match="empty"):
        estimate_competence(table.iloc[:0])
    table.loc[0, "value"] = np.nan
    with pytest.raises(DataError, match="no value"):
        estimate_competence(table)

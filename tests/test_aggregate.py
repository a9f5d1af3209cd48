"""Golden values for the essay's five aggregation variants, the fallbacks and the no-leak rule."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maiga.aggregate import (
    UNSCORED,
    AggregationConfig,
    aggregate,
    competent_group_size,
    correlation_with_gold,
    estimate_competence,
    single_annotator_vs_gold,
)
from maiga.errors import DataError
from maiga.schema import load_schema

SCHEMA = load_schema("essay8")  # happiness is column 0, sadness column 1
GOLD = {"happiness": [0.2, 0.5, 0.8], "sadness": [0.9, 0.4, 0.1]}
# b copies gold, a is b halved (Pearson r = 1 for both, bit for bit: a tie that "a" < "b"
# wins), c is 1 - gold (r = -1), d is constant and skips i3 on happiness (unscorable, ranks
# last). Competence by gold therefore ranks a > b > c > d.
RATINGS = {
    "a": {"happiness": [0.1, 0.25, 0.4], "sadness": [0.45, 0.2, 0.05]},
    "b": {"happiness": [0.2, 0.5, 0.8], "sadness": [0.9, 0.4, 0.1]},
    "c": {"happiness": [0.8, 0.5, 0.2], "sadness": [0.1, 0.6, 0.9]},
    "d": {"happiness": [0.5, 0.5, None], "sadness": [0.5, 0.5, 0.5]},
}


def hand_table(source: str = "hand", rename: dict[str, str] | None = None) -> pd.DataFrame:
    rows = []
    for annotator, dims in RATINGS.items():
        for dim, values in dims.items():
            for i, value in enumerate(values):
                if value is None:
                    continue
                rows.append({
                    "item": f"i{i + 1}", "text": f"text {i + 1}",
                    "annotator": (rename or {}).get(annotator, annotator), "dimension": dim,
                    "value": value, "source": source, "split": "train", "gold": GOLD[dim][i],
                })
    return pd.DataFrame(rows)


def run(variant: str, fraction: float = 0.5, table: pd.DataFrame | None = None):
    config = AggregationConfig(variant=variant, competence="gold", competent_fraction=fraction)
    return aggregate(hand_table() if table is None else table, SCHEMA, config)


# Expected (happiness, sadness) per item i1..i3, by hand.
GOLDEN = {
    # mean of all: i1 h (.1+.2+.8+.5)/4, s (.45+.9+.1+.5)/4; i3 h has only a, b, c: 1.4/3
    ("mean", 0.5): ([[0.4, 0.4875], [0.4375, 0.425], [1.4 / 3, 0.3875]],
                    [[4, 4], [4, 4], [3, 4]]),
    # median: i1 h sorted (.1 .2 .5 .8) -> (.2+.5)/2; i2 s (.2 .4 .5 .6) -> .45; i3 h -> .4
    ("median", 0.5): ([[0.35, 0.475], [0.5, 0.45], [0.4, 0.3]], [[4, 4], [4, 4], [3, 4]]),
    # fraction .5: n=4 -> ceil(2.0)=2, n=3 -> ceil(1.5)=2, so {a, b} everywhere
    ("competent_mean", 0.5): ([[0.15, 0.675], [0.375, 0.3], [0.6, 0.075]],
                              [[2, 2], [2, 2], [2, 2]]),
    # fraction .6: n=4 -> ceil(2.4)=3 {a,b,c}; i3 h has n=3 -> ceil(1.8)=2 {a,b}
    ("competent_mean", 0.6): ([[1.1 / 3, 1.45 / 3], [1.25 / 3, 1.2 / 3], [0.6, 1.05 / 3]],
                              [[3, 3], [3, 3], [2, 3]]),
    # fraction .75: n=4 -> 3, n=3 -> ceil(2.25)=3, so {a, b, c}; median of three
    ("competent_median", 0.75): ([[0.2, 0.45], [0.5, 0.4], [0.4, 0.1]],
                                 [[3, 3], [3, 3], [3, 3]]),
    # expert: a (tied with b, wins on id)
    ("expert", 0.5): ([[0.1, 0.45], [0.25, 0.2], [0.4, 0.05]], [[1, 1], [1, 1], [1, 1]]),
}


@pytest.mark.parametrize(("variant", "fraction"), list(GOLDEN))
def test_golden_values(variant: str, fraction: float) -> None:
    expected, expected_counts = GOLDEN[(variant, fraction)]
    result = run(variant, fraction)

    assert result.targets.dtype == np.float32 and result.counts.dtype == np.int32
    assert result.targets.shape == (3, len(SCHEMA))
    np.testing.assert_allclose(result.targets[:, :2], expected, rtol=1e-6)
    np.testing.assert_array_equal(result.counts[:, :2], expected_counts)
    assert np.isnan(result.targets[:, 2:]).all() and (result.counts[:, 2:] == 0).all()
    np.testing.assert_allclose(result.gold[:, :2], np.array(list(GOLD.values())).T, rtol=1e-6)
    assert result.effective_variant == {"hand": variant}


def test_items_frame_and_competence() -> None:
    result = run("expert")
    assert list(result.items.columns) == ["source", "item", "text", "split"]
    assert result.items["item"].tolist() == ["i1", "i2", "i3"]
    assert result.items["text"].tolist() == ["text 1", "text 2", "text 3"]
    scores = result.competence["hand"]
    assert scores["a"] == scores["b"] == pytest.approx(1.0)
    assert scores["c"] == pytest.approx(-1.0) and scores["d"] == UNSCORED
    assert any("'gold'" in note for note in result.notes)


def test_tie_is_broken_by_annotator_id() -> None:
    # Rename a to "e": it still ties with b, but now b has the smaller id and is the expert.
    result = run("expert", table=hand_table(rename={"a": "e"}))
    np.testing.assert_allclose(result.targets[:, :2], [[0.2, 0.9], [0.5, 0.4], [0.8, 0.1]])


def test_competent_group_size_rounding() -> None:
    assert competent_group_size(10, 0.3).item() == 3  # 0.3 * 10 is 3.0000000000000004
    assert competent_group_size(3, 0.5).item() == 2
    assert competent_group_size(4, 0.5).item() == 2
    assert competent_group_size(1, 0.1).item() == 1
    np.testing.assert_array_equal(competent_group_size(np.array([1, 5, 7]), 1.0), [1, 5, 7])


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        AggregationConfig(competent_fraction=0.0)
    with pytest.raises(ValueError):
        AggregationConfig(competent_fraction=1.5)
    with pytest.raises(ValueError):
        AggregationConfig(variant="mode")
    assert AggregationConfig().variant == "mean"


def anonymous_table(source: str, annotators: list[str]) -> pd.DataFrame:
    rows = [
        {"item": f"x{i}", "text": f"x {i}", "annotator": a, "dimension": "fear",
         "value": v, "source": source}
        for i in range(3) for a, v in zip(annotators, [0.1 * i, 0.2 * i, 0.45 * i])
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("variant", "fallback"), [
    ("competent_mean", "mean"), ("competent_median", "median"), ("expert", "mean"),
])
def test_sources_without_ids_fall_back_visibly(variant: str, fallback: str) -> None:
    table = pd.concat([
        hand_table(),
        anonymous_table("slots", ["~1", "~2", "~3"]),
        anonymous_table("published", ["AGGREGATE"] * 3),
    ])
    result = run(variant, table=table)

    assert result.effective_variant == {"hand": variant, "slots": fallback, "published": fallback}
    assert set(result.competence) == {"hand"}
    for source in ("slots", "published"):
        assert any(n.startswith(f"{source}:") and f"used {fallback!r}" in n for n in result.notes)
    slots = (result.items["source"] == "slots").to_numpy()
    fear = SCHEMA.index("fear")
    # x2 rated .2, .4, .9 -> mean .5, median .4
    expected = 0.5 if fallback == "mean" else 0.4
    assert result.targets[slots, fear][2] == pytest.approx(expected)


def test_competence_uses_train_rows_only() -> None:
    # A test item i4 where c matches gold and a, b do not: if it leaked, competence would move.
    def with_test_item(gold_i4: float) -> pd.DataFrame:
        extra = [
            {"item": "i4", "text": "t4", "annotator": a, "dimension": "happiness", "value": v,
             "source": "hand", "split": "test", "gold": gold_i4}
            for a, v in [("a", 0.9), ("b", 0.9), ("c", 0.0), ("e", 0.3)]
        ]
        return pd.concat([hand_table(), pd.DataFrame(extra)], ignore_index=True)

    low, high = run("expert", table=with_test_item(0.0)), run("expert", table=with_test_item(1.0))
    pd.testing.assert_series_equal(low.competence["hand"], high.competence["hand"])
    train_only = estimate_competence(hand_table(), method="gold").scores
    pd.testing.assert_series_equal(low.competence["hand"].drop("e"), train_only)
    # e has no train rows: lowest competence, so a (not e) is the expert of i4.
    assert low.competence["hand"]["e"] == UNSCORED
    assert low.targets[3, 0] == pytest.approx(0.9)
    assert any("without train rows" in note for note in low.notes)


def test_source_without_train_rows_falls_back_visibly() -> None:
    result = run("competent_median", table=hand_table().assign(split="test"))
    assert result.effective_variant == {"hand": "median"} and result.competence == {}
    assert any("no train rows" in note for note in result.notes)
    np.testing.assert_allclose(result.targets[:, :2], GOLDEN[("median", 0.5)][0], rtol=1e-6)


def test_bad_input_is_a_data_error() -> None:
    nan_value = hand_table()
    nan_value.loc[0, "value"] = np.nan
    with pytest.raises(DataError, match="value"):
        run("mean", table=nan_value)

    unknown = hand_table()
    unknown.loc[0, "dimension"] = "joy"
    with pytest.raises(DataError, match=r"\['joy'\].*happiness"):
        run("mean", table=unknown)

    outside = hand_table()
    outside.loc[0, "value"] = 5.0
    with pytest.raises(DataError, match="outside"):
        run("mean", table=outside)

    split = hand_table()
    split.loc[0, "split"] = "test"
    with pytest.raises(DataError, match="more than one split"):
        run("mean", table=split)


def test_speed_on_a_large_synthetic_table() -> None:
    """50k items x 8 dims x 1 annotator (400k rows): prints the time, asserts none."""
    rng = np.random.default_rng(0)
    n_items = 50_000
    item = np.repeat(np.arange(n_items), len(SCHEMA)).astype(str)
    table = pd.DataFrame({
        "item": item, "text": item, "dimension": np.tile(SCHEMA.names, n_items),
        "annotator": np.repeat(rng.integers(0, 40, n_items), len(SCHEMA)).astype(str),
        "value": rng.random(item.size), "source": "synthetic",
    })
    for variant in ("mean", "median", "competent_mean"):
        start = time.perf_counter()
        result = aggregate(table, SCHEMA, AggregationConfig(variant=variant))
        print(f"{variant}: {time.perf_counter() - start:.2f} s for {len(table)} rows")
        assert result.targets.shape == (n_items, len(SCHEMA))
        assert (result.counts == 1).all()


SNOW = Path("/work/shared/data/snow2008-affective-text")
SNOW_DIMS = {"anger": "anger", "disgust": "disgust", "fear": "fear", "joy": "happiness",
             "sadness": "sadness", "surprise": "surprise", "valence": "valence"}


def snow_table() -> pd.DataFrame:
    """Snow et al. (2008) headlines as a long table, scaled to the essay8-va ranges; every
    fifth headline (id % 5 == 4) is test, so each worker's 20-headline block keeps 16 train."""
    texts = pd.read_csv(SNOW / "affect_headlines.tsv", sep="\t").set_index("id")["headline"]
    frames = []
    for name, dim in SNOW_DIMS.items():
        raw = pd.read_csv(SNOW / f"{name}.standardized.tsv", sep="\t")
        frames.append(pd.DataFrame({
            "item": raw["orig_id"].astype(str), "text": raw["orig_id"].map(texts),
            "annotator": raw["!amt_worker_ids"], "dimension": dim,
            "value": raw["response"] / 100.0, "source": "snow2008",
            "split": np.where(raw["orig_id"] % 5 == 4, "test", "train"),
            "gold": raw["gold"] / 100.0,
        }))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.slow
def test_snow2008_all_variants() -> None:
    if not SNOW.is_dir():
        pytest.skip(f"Snow 2008 data not found at {SNOW}")
    schema = load_schema("essay8-va")
    table = snow_table()

    results = {}
    for variant in ("mean", "median", "competent_mean", "competent_median", "expert"):
        results[variant] = aggregate(table, schema, AggregationConfig(variant=variant))
        assert results[variant].effective_variant == {"snow2008": variant}
        for split in (None, "test"):
            r = correlation_with_gold(results[variant], schema, split=split)
            dims = {k.split(".")[1]: round(v, 3) for k, v in r.items() if k.endswith("gold_r")}
            mean_r = r["snow2008.gold_r_mean"]
            print(f"{variant:>16} [{split or 'all'}]: mean r {mean_r:.3f} {dims}")

    singles = {dim: single_annotator_vs_gold(table, dim)["mean_r"] for dim in SNOW_DIMS.values()}
    print(f"average single worker: mean r {np.mean(list(singles.values())):.3f} "
          f"{ {d: round(v, 3) for d, v in singles.items()} }")
    print(results["expert"].notes)

    mean = results["mean"].targets
    assert np.isfinite(mean[:, [schema.index(d) for d in SNOW_DIMS.values()]]).all()
    for variant in ("competent_mean", "competent_median", "expert"):
        assert not np.allclose(results[variant].targets, mean, equal_nan=True)
    assert (results["expert"].counts[np.isfinite(mean)] == 1).all()

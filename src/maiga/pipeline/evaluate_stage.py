"""Stage 3: measure the network against people, dataset by dataset, and against a person.

Every figure is computed on items the network did not train on (test split; thresholds and the
like are tuned on dev). Metric keys are documented in :mod:`maiga.pipeline.metric_docs`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from maiga.aggregate import agreement_report, single_annotator_vs_gold
from maiga.data.mapping import load_mapping
from maiga.data.paths import dataset_dir
from maiga.data.readers.goemotions import read_goemotions
from maiga.evaluation.ekman import ekman_groups, ekman_metrics, ekman_scores
from maiga.evaluation.regression import masked_pearson, per_dimension_regression
from maiga.network.embedding_cache import cached_embeddings
from maiga.network.model import EmotionalNetwork
from maiga.pipeline.config import RunConfig
from maiga.pipeline.data_stage import PreparedData

logger = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Metrics plus the arrays and rows the report draws."""

    metrics: dict[str, float] = field(default_factory=dict)
    arrays: list[dict] = field(default_factory=list)  # name, predictions, targets
    per_dimension: list[dict] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def predict_items(
    network: EmotionalNetwork, texts: list[str], config: RunConfig, cache_dir: Path,
    progress: bool = True,
) -> np.ndarray:
    """Network values for whole items (frozen: from cached embeddings)."""
    if config.train.mode == "frozen":
        embeddings = cached_embeddings(network, texts, cache_dir, progress=progress)
        return network.values_from_embeddings(embeddings)
    return network.predict(texts, batch_size=config.train.embed_batch_size, progress=progress)


def evaluate(
    network: EmotionalNetwork, data: PreparedData, config: RunConfig, cache_dir: Path,
    data_dir: Path | None = None, progress: bool = True,
) -> Evaluation:
    """All evaluation figures of one trained network."""
    result = Evaluation()
    items, targets, names = data.targets.items, data.targets.targets, data.schema.names
    eval_index = data.split_index("dev") + data.split_index("test")
    values = np.full(targets.shape, np.nan, dtype=np.float32)
    texts = items["text"].tolist()
    values[eval_index] = predict_items(
        network, [texts[i] for i in eval_index], config, cache_dir, progress
    )

    for source in sorted(items["source"].unique()):
        test = data.split_index("test", source)
        if not test:
            continue
        prefix = f"{source}.test"
        result.metrics[f"{prefix}.n_items"] = len(test)
        result.metrics.update(per_dimension_regression(values[test], targets[test], names, prefix))
        result.arrays.append(
            {"name": f"{source}/test", "predictions": values[test], "targets": targets[test]}
        )
        _human_comparison(result, data, source, values, prefix)

    if "goemotions" in set(items["source"]):
        _goemotions_ekman(result, data, values, config, data_dir)
    if "snow2008" in set(items["source"]):
        _snow_gold(result, data, values)
    return result


def _human_comparison(
    result: Evaluation, data: PreparedData, source: str, values: np.ndarray, prefix: str
) -> None:
    """Network vs the human ceiling (how well one annotator predicts the others)."""
    test_items = set(data.targets.items.loc[data.split_index("test", source), "item"])
    rows = data.table[(data.table["source"] == source) & data.table["item"].isin(test_items)]
    agreement = agreement_report(rows, data.schema)
    for key, value in agreement.items():
        rest = key.split(".", 1)[1]
        if rest == "n_items":
            rest = "n_items_rated"
        if rest in ("n_items_rated", "agreement_available"):
            value = int(value)
        result.metrics[f"{prefix}.{rest}"] = value
    for name in data.schema.names:
        network_r = result.metrics.get(f"{prefix}.{name}.pearson")
        if network_r is None:
            continue
        ceiling = agreement.get(f"{source}.{name}.human_ceiling_r")
        result.per_dimension.append({
            "source": source, "dimension": name, "network": network_r,
            "human_ceiling": ceiling, "metric": "pearson",
        })


def _goemotions_ekman(
    result: Evaluation, data: PreparedData, values: np.ndarray, config: RunConfig,
    data_dir: Path | None,
) -> None:
    """Macro-F1 on GoEmotions' Ekman grouping, the figure the GoEmotions paper reports."""
    root = dataset_dir("goemotions")
    limit = config.datasets["goemotions"].limit
    ekman = read_goemotions(root, taxonomy="ekman", splits=("dev", "test"), limit=limit).table
    truth = ekman.pivot_table(index="item", columns="dimension", values="value", aggfunc="max")
    mapping = json.loads((root / "ekman_mapping.json").read_text("utf-8"))
    label_to_dim = load_mapping("goemotions").map
    groups = ekman_groups(mapping, label_to_dim, data.schema.names)
    missing = sorted(set(mapping) - set(groups))
    if missing:
        result.notes.append(f"Ekman label(s) {missing} have no schema dimension; not scored.")

    splits = {}
    for split in ("dev", "test"):
        index = data.split_index(split, "goemotions")
        ids = data.targets.items.loc[index, "item"]
        scores, labels = ekman_scores(values[index], groups)
        splits[split] = (scores, truth.loc[ids, labels].to_numpy())
    result.metrics.update(ekman_metrics(*splits["dev"], *splits["test"], labels))
    f1 = result.metrics["goemotions.ekman.macro_f1"]
    result.notes.append(
        f"GoEmotions (Ekman grouping, test): macro-F1 {f1:.3f}; the GoEmotions paper's "
        f"fine-tuned BERT-base reached 0.64 ({f1 - 0.64:+.3f})."
    )
    for label in labels:
        result.per_dimension.append({
            "source": "goemotions-ekman", "dimension": label,
            "network": result.metrics[f"goemotions.ekman.{label}.f1"],
            "human_ceiling": None, "metric": "f1",
        })


def _snow_gold(result: Evaluation, data: PreparedData, values: np.ndarray) -> None:
    """Snow 2008: the network and the average single worker, each against the expert gold."""
    index = data.split_index("dev", "snow2008") + data.split_index("test", "snow2008")
    gold = data.targets.gold[index]
    held_out = set(data.targets.items.loc[index, "item"])
    rows = data.table[(data.table["source"] == "snow2008") & data.table["item"].isin(held_out)]
    for j, name in enumerate(data.schema.names):
        if np.isnan(gold[:, j]).all():
            continue
        network_r = masked_pearson(values[index, j], gold[:, j])
        worker = single_annotator_vs_gold(rows, name)
        worker_r = worker.get("mean_r", float("nan"))
        result.metrics[f"snow2008.heldout.{name}.network_r_gold"] = network_r
        result.metrics[f"snow2008.heldout.{name}.single_worker_r_gold"] = worker_r
        group = f"{name} (held-out headlines)"
        result.comparisons.append({"group": group, "label": "network vs gold", "value": network_r})
        result.comparisons.append(
            {"group": group, "label": "avg single worker vs gold", "value": worker_r}
        )
    result.metrics["snow2008.heldout.n_items"] = len(index)

"""Snow et al. (2008): does the way people are aggregated change how well the network agrees
with the experts?

For every aggregation variant the network's heads are trained again (frozen encoder, cached
embeddings) with Snow 2008 headlines in k folds: each fold is held out once while the others
join the rest of the training data, so every headline gets a prediction from a network that
never saw it. Pooled over folds, each emotion's prediction is correlated with the SemEval expert
gold, side by side with the average single worker's correlation with the same gold.

Competence, where a variant needs it, is estimated from training rows only (see
:func:`maiga.aggregate.aggregate`), so held-out gold never decides whom to trust.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from maiga.aggregate import AggregationConfig, aggregate, single_annotator_vs_gold
from maiga.evaluation.regression import masked_pearson
from maiga.network.model import EmotionalNetwork
from maiga.network.train import TrainSet, fit
from maiga.pipeline.config import RunConfig
from maiga.pipeline.data_stage import PreparedData
from maiga.pipeline.train_stage import new_network

logger = logging.getLogger(__name__)

VARIANTS = ("mean", "median", "competent_mean", "competent_median", "expert")
SOURCE = "snow2008"


def snow_study(
    config: RunConfig, data: PreparedData, cache_dir: Path, progress: bool = True
) -> tuple[dict[str, float], list[dict]]:
    """Metrics ``snow2008.cv.{variant}.{dim}.network_r_gold`` and comparison rows."""
    from maiga.network.embedding_cache import cached_embeddings

    folds = config.snow_folds
    if folds < 2 or config.train.mode != "frozen":
        return {}, []
    table = data.table
    snow_rows = table[table["source"] == SOURCE]
    if snow_rows.empty:
        return {}, []

    network = new_network(config, data)
    metrics: dict[str, float] = {}
    rows: list[dict] = []
    for variant in tqdm(VARIANTS, desc="snow2008 aggregation variants", disable=not progress):
        settings = AggregationConfig(**{**config.aggregation.model_dump(), "variant": variant})
        predictions, gold, names = _cross_validate(
            config, data, settings, network, cache_dir, cached_embeddings
        )
        for j, name in enumerate(names):
            if np.isnan(gold[:, j]).all():
                continue
            r = masked_pearson(predictions[:, j], gold[:, j])
            metrics[f"snow2008.cv.{variant}.{name}.network_r_gold"] = r
            rows.append({"group": variant, "label": f"{name}", "value": r})
        mean_r = np.nanmean([
            metrics[k] for k in metrics if k.startswith(f"snow2008.cv.{variant}.")
        ])
        metrics[f"snow2008.cv.{variant}.mean_network_r_gold"] = float(mean_r)

    worker = [single_annotator_vs_gold(snow_rows, n).get("mean_r", np.nan)
              for n in data.schema.names if n in set(snow_rows["dimension"])]
    metrics["snow2008.cv.mean_single_worker_r_gold"] = float(np.nanmean(worker))
    return metrics, rows


def _cross_validate(config, data, settings, network, cache_dir, cached_embeddings):
    """Out-of-fold predictions for every Snow headline under one aggregation variant."""
    table = data.table
    is_snow = table["source"] == SOURCE
    snow_items = np.array(sorted(table.loc[is_snow, "item"].unique()))
    order = np.random.default_rng(config.seed).permutation(len(snow_items))
    fold_of = {snow_items[i]: k % config.snow_folds for k, i in enumerate(order)}
    names = data.schema.names
    predictions = np.full((len(snow_items), len(names)), np.nan, dtype=np.float32)
    gold = np.full_like(predictions, np.nan)
    position = {item: i for i, item in enumerate(snow_items)}

    for fold in range(config.snow_folds):
        held = {item for item, f in fold_of.items() if f == fold}
        # Held-out headlines become "test" so that competence never sees their gold.
        split = table["split"].where(~is_snow, "train")
        split = split.mask(is_snow & table["item"].isin(held), "test")
        targets = aggregate(table.assign(split=split), data.schema, settings)
        items = targets.items.reset_index(drop=True)
        embeddings = cached_embeddings(network, items["text"].tolist(), cache_dir, progress=False)
        train_idx = np.flatnonzero(items["split"].eq("train").to_numpy())
        dev_idx = np.flatnonzero(items["split"].eq("dev").to_numpy())
        test_idx = np.flatnonzero(items["source"].eq(SOURCE).to_numpy()
                                  & items["split"].eq("test").to_numpy())

        torch.manual_seed(config.seed + fold)
        fold_net = EmotionalNetwork(
            network.encoder, data.schema, encoder_ref=network.encoder_ref,
            hidden=config.train.hidden, dropout=config.train.dropout,
        )
        fit(
            fold_net,
            TrainSet([], targets.targets[train_idx], embeddings[train_idx]),
            TrainSet([], targets.targets[dev_idx], embeddings[dev_idx]),
            config.train.model_copy(update={"seed": config.seed + fold}),
            progress=False,
        )
        values = fold_net.values_from_embeddings(embeddings[test_idx])
        rows = [position[i] for i in items.loc[test_idx, "item"]]
        predictions[rows] = values
        gold[rows] = targets.gold[test_idx]
    return predictions, gold, names

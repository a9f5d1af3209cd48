"""Snow et al. (2008): does the way people are aggregated change how well the network agrees
with the experts?

Protocol (frozen encoder, cached embeddings):

1. Train base heads on every dataset except Snow 2008.
2. Split the 100 Snow headlines into k folds. For each aggregation variant and each fold,
   aggregate the workers' ratings of the other folds with that variant, adapt a copy of the
   base heads to them for a fixed number of epochs, and predict the held-out fold.
3. Pool the out-of-fold predictions and correlate each emotion with the SemEval expert gold,
   side by side with the base heads (no Snow data at all) and with the average single worker.

Competence, where a variant needs it, is estimated from the training folds only (see
:func:`maiga.aggregate.aggregate`), so held-out gold never decides whom to trust.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from maiga.aggregate import AggregationConfig, aggregate, single_annotator_vs_gold
from maiga.evaluation.regression import masked_pearson
from maiga.network.embedding_cache import cached_embeddings
from maiga.network.model import EmotionalNetwork
from maiga.network.train import TrainSet, fit
from maiga.pipeline.config import RunConfig
from maiga.pipeline.data_stage import PreparedData
from maiga.pipeline.train_stage import new_network

logger = logging.getLogger(__name__)

VARIANTS = ("mean", "median", "competent_mean", "competent_median", "expert")
SOURCE = "snow2008"
ADAPT_EPOCHS = 20


def snow_study(
    config: RunConfig, data: PreparedData, cache_dir: Path, progress: bool = True
) -> tuple[dict[str, float], list[dict]]:
    """Metrics ``snow2008.cv.{variant}.{dim}.network_r_gold`` and comparison rows."""
    snow_rows = data.table[data.table["source"] == SOURCE]
    if config.snow_folds < 2 or config.train.mode != "frozen" or snow_rows.empty:
        return {}, []

    base = _base_network(config, data, cache_dir, progress)
    snow_items = np.array(sorted(snow_rows["item"].unique()))
    texts = snow_rows.drop_duplicates("item").set_index("item").loc[snow_items, "text"].tolist()
    embeddings = cached_embeddings(base, texts, cache_dir, progress=False)
    order = np.random.default_rng(config.seed).permutation(len(snow_items))
    fold_of = np.empty(len(snow_items), dtype=int)
    fold_of[order] = np.arange(len(snow_items)) % config.snow_folds

    names = data.schema.names
    gold = _gold(snow_rows, snow_items, names)
    results = {"none (no Snow data)": base.values_from_embeddings(embeddings)}
    for variant in tqdm(VARIANTS, desc="snow2008 aggregation variants", disable=not progress):
        settings = AggregationConfig(**{**config.aggregation.model_dump(), "variant": variant})
        results[variant] = _out_of_fold(
            config, data, settings, base, snow_rows, snow_items, embeddings, fold_of
        )

    metrics: dict[str, float] = {}
    rows: list[dict] = []
    for variant, predictions in results.items():
        key = "none" if variant.startswith("none") else variant
        rs = []
        for j, name in enumerate(names):
            if np.isnan(gold[:, j]).all():
                continue
            r = masked_pearson(predictions[:, j], gold[:, j])
            metrics[f"snow2008.cv.{key}.{name}.network_r_gold"] = r
            rs.append(r)
        metrics[f"snow2008.cv.{key}.mean_network_r_gold"] = float(np.nanmean(rs))
        rows.append({"group": f"{variant} ({config.snow_folds}-fold, mean over emotions)",
                     "label": "network vs gold",
                     "value": metrics[f"snow2008.cv.{key}.mean_network_r_gold"]})
    worker = [single_annotator_vs_gold(snow_rows, n).get("mean_r", np.nan)
              for n in names if n in set(snow_rows["dimension"])]
    metrics["snow2008.cv.mean_single_worker_r_gold"] = float(np.nanmean(worker))
    rows.append({"group": "all headlines, mean over emotions",
                 "label": "avg single worker vs gold", "value": float(np.nanmean(worker))})
    return metrics, rows


def _base_network(config, data, cache_dir, progress) -> EmotionalNetwork:
    """Heads trained on every source but Snow 2008."""
    network = new_network(config, data)
    items = data.targets.items
    not_snow = items["source"].ne(SOURCE).to_numpy()
    train_idx = np.flatnonzero(not_snow & items["split"].eq("train").to_numpy())
    dev_idx = np.flatnonzero(not_snow & items["split"].eq("dev").to_numpy())
    texts = items["text"].tolist()
    embeddings = cached_embeddings(network, texts, cache_dir, progress=progress)
    targets = data.targets.targets
    fit(network, TrainSet([], targets[train_idx], embeddings[train_idx]),
        TrainSet([], targets[dev_idx], embeddings[dev_idx]), config.train, progress=False)
    return network


def _gold(snow_rows, snow_items, names) -> np.ndarray:
    gold = snow_rows.pivot_table(index="item", columns="dimension", values="gold", aggfunc="first")
    return gold.reindex(index=snow_items, columns=names).to_numpy(dtype=np.float32)


def _out_of_fold(config, data, settings, base, snow_rows, snow_items, embeddings, fold_of):
    """Out-of-fold predictions for every Snow headline under one aggregation variant."""
    position = {item: i for i, item in enumerate(snow_items)}
    predictions = np.full((len(snow_items), len(data.schema)), np.nan, dtype=np.float32)
    adapt = config.train.model_copy(update={
        "epochs": ADAPT_EPOCHS, "batch_size": 16, "patience": ADAPT_EPOCHS, "warmup_ratio": 0.0,
    })
    for fold in range(config.snow_folds):
        held = set(snow_items[fold_of == fold])
        # Held-out headlines become "test" so that competence never sees their gold.
        split = np.where(snow_rows["item"].isin(held), "test", "train")
        targets = aggregate(snow_rows.assign(split=split), data.schema, settings)
        items = targets.items.reset_index(drop=True)
        rows = np.array([position[i] for i in items["item"]])
        train = items["split"].eq("train").to_numpy()

        torch.manual_seed(config.seed + fold)
        network = EmotionalNetwork(
            base.encoder, data.schema, heads=copy.deepcopy(base.heads),
            encoder_ref=base.encoder_ref,
        )
        fit_set = TrainSet([], targets.targets[train], embeddings[rows[train]])
        # No dev data to spare among 100 headlines: a fixed number of epochs, and the
        # weights with the lowest loss on the training folds are kept.
        fit(network, fit_set, fit_set, adapt, progress=False)
        predictions[rows[~train]] = network.values_from_embeddings(embeddings[rows[~train]])
    return predictions

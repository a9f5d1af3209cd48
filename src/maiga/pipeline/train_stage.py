"""Stage 2: train the emotional network on the aggregated targets, or reuse a finished one."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import torch

import maiga

from maiga.io import write_json_atomic
from maiga.network.embedding_cache import cached_embeddings
from maiga.network.encoder import load_sentence_encoder
from maiga.network.folder import load_network, read_json, save_network
from maiga.network.model import EmotionalNetwork
from maiga.network.train import TrainResult, TrainSet, fit
from maiga.network.train_config import TrainConfig
from maiga.pipeline.config import RunConfig
from maiga.pipeline.data_stage import PreparedData

logger = logging.getLogger(__name__)


def training_fingerprint(config: RunConfig, data: PreparedData) -> str:
    """Changes whenever the config or the targets change, so a stale model is never reused."""
    digest = hashlib.sha256()
    digest.update(maiga.__version__.encode())
    digest.update(config.model_dump_json(exclude={"profile", "snow_folds", "lm"}).encode())
    digest.update(np.nan_to_num(data.targets.targets, nan=-9.0).tobytes())
    digest.update("\x00".join(data.targets.items["text"]).encode())
    return digest.hexdigest()[:20]


def new_network(config: RunConfig, data: PreparedData) -> EmotionalNetwork:
    """A fresh network whose heads start from weights fixed by the training seed."""
    encoder = load_sentence_encoder(config.encoder)
    encoder.max_seq_length = config.train.max_seq_length
    # A fine-tuned encoder is saved with the network; a frozen one is found again by name.
    ref = config.encoder if config.train.mode == "frozen" else None
    torch.manual_seed(config.train.seed)
    return EmotionalNetwork(
        encoder, data.schema, encoder_ref=ref, hidden=config.train.hidden,
        dropout=config.train.dropout,
    )


def train_sets(
    network: EmotionalNetwork, data: PreparedData, train: TrainConfig, cache_dir: Path,
    progress: bool = True, train_index: list[int] | None = None,
) -> tuple[TrainSet, TrainSet]:
    """Train and dev sets (with cached embeddings when the encoder is frozen)."""
    items, targets = data.targets.items, data.targets.targets
    train_index = data.split_index("train") if train_index is None else train_index
    dev_index = data.split_index("dev")
    texts = items["text"].tolist()
    embeddings = None
    if train.mode == "frozen":
        embeddings = cached_embeddings(
            network, texts, cache_dir, batch_size=train.embed_batch_size, progress=progress
        )

    def subset(index: list[int]) -> TrainSet:
        return TrainSet(
            [texts[i] for i in index], targets[index],
            None if embeddings is None else embeddings[index],
        )

    return subset(train_index), subset(dev_index)


def train_stage(
    config: RunConfig, data: PreparedData, model_dir: Path, work_dir: Path, progress: bool = True
) -> tuple[EmotionalNetwork, dict]:
    """Train (resuming from checkpoints) unless ``model_dir`` already holds this exact run."""
    fingerprint = training_fingerprint(config, data)
    done = read_json(model_dir, "training.json")
    if done.get("fingerprint") == fingerprint:
        logger.info("Reusing the trained network in %s (inputs unchanged)", model_dir)
        return load_network(model_dir), done

    network = new_network(config, data)
    train, dev = train_sets(network, data, config.train, work_dir / "embeddings", progress)
    checkpoints = work_dir / "checkpoints" / fingerprint
    result: TrainResult = fit(network, train, dev, config.train, checkpoints, progress)
    summary = {
        "fingerprint": fingerprint,
        "best_epoch": result.best_epoch,
        "best_dev_loss": result.best_dev_loss,
        "history": result.history,
        "n_train_items": len(train),
        "n_dev_items": len(dev),
        "config": config.train.model_dump(),
    }
    aggregation = {
        "config": config.aggregation.model_dump(),
        "effective_variant": data.targets.effective_variant,
        "notes": data.targets.notes,
    }
    # training.json last: its presence marks the folder as complete.
    save_network(network, model_dir, extra={"aggregation.json": aggregation})
    write_json_atomic(model_dir / "training.json", summary)
    return network, summary

"""Train the emotional network, frozen (heads on cached embeddings) or fine-tuned.

Both modes share one loop: shuffle with a per-epoch seed, step, evaluate the dev loss after each
epoch, keep the best heads (and encoder), stop early after ``patience`` epochs without progress.
A checkpoint after every epoch (and every ``checkpoint_every`` steps when fine-tuning) lets an
interrupted run resume where it stopped and reach the same result.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from maiga.io import write_atomic
from maiga.network.losses import balanced_dim_weights, masked_emotion_loss
from maiga.network.model import EmotionalNetwork
from maiga.network.train_config import TrainConfig

logger = logging.getLogger(__name__)


@dataclass
class TrainSet:
    """Items to learn from: texts, their targets (NaN = unrated) and, when frozen, embeddings."""

    texts: list[str]
    targets: np.ndarray
    embeddings: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.targets)


@dataclass
class TrainResult:
    best_epoch: int
    best_dev_loss: float
    history: list[dict] = field(default_factory=list)


def fit(
    network: EmotionalNetwork,
    train: TrainSet,
    dev: TrainSet,
    config: TrainConfig,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``network`` in place and leave the best dev-loss weights in it."""
    torch.manual_seed(config.seed)
    frozen = config.mode == "frozen"
    if frozen and (train.embeddings is None or dev.embeddings is None):
        raise ValueError("frozen training needs embeddings for the train and dev items")
    network.encoder.max_seq_length = config.max_seq_length
    if not frozen and config.freeze_word_embeddings:
        _freeze_word_embeddings(network)
    params = [{"params": network.heads.parameters(), "lr": config.lr_heads}]
    if not frozen:
        trainable = [p for p in network.encoder.parameters() if p.requires_grad]
        params.append({"params": trainable, "lr": config.lr_encoder})
    optimizer = torch.optim.AdamW(params, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    scheduler = _warmup_linear(optimizer, config.warmup_ratio, steps_per_epoch * config.epochs)

    state = _TrainState()
    ckpt = checkpoint_dir / "last.pt" if checkpoint_dir else None
    if ckpt is not None and ckpt.is_file():
        state = _restore(ckpt, network, optimizer, scheduler, frozen)
        logger.info("Resuming training at epoch %d, step %d", state.epoch + 1, state.step)

    signed = network.heads.signed
    weights = balanced_dim_weights(train.targets, signed.numpy())
    epochs = tqdm(range(config.epochs), desc="epochs", disable=not progress, initial=state.epoch)
    for epoch in range(state.epoch, config.epochs):
        if state.stale >= config.patience:
            break
        batches_of_epoch = _epoch_batches(train, config, epoch, group_by_length=not frozen)
        network.train(not frozen)
        network.heads.train()
        batches = range(state.step, steps_per_epoch)
        for step in tqdm(batches, desc="batches", leave=False, disable=not progress or frozen):
            index = batches_of_epoch[step]
            logits = _logits(network, train, index, frozen)
            target = torch.as_tensor(train.targets[index], dtype=torch.float32)
            loss = masked_emotion_loss(logits, target, signed, weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            state.train_loss += loss.item() * len(index)
            if not frozen and ckpt is not None and (step + 1) % config.checkpoint_every == 0:
                state.step = step + 1
                _save(ckpt, network, optimizer, scheduler, state, frozen)

        dev_loss = evaluate_loss(network, dev, frozen, config.batch_size, weights)
        record = {"epoch": epoch + 1, "train_loss": state.train_loss / len(train),
                  "dev_loss": dev_loss}
        state.history.append(record)
        logger.debug("epoch %d: train loss %.4f, dev loss %.4f", epoch + 1,
                    record["train_loss"], dev_loss)
        if dev_loss < state.best_loss - 1e-6:
            state.best_loss, state.best_epoch, state.stale = dev_loss, epoch + 1, 0
            state.best_weights = _weights(network, frozen)
        else:
            state.stale += 1
        state.epoch, state.step, state.train_loss = epoch + 1, 0, 0.0
        epochs.update(1)
        if ckpt is not None:
            _save(ckpt, network, optimizer, scheduler, state, frozen)
    epochs.close()

    if state.best_weights is not None:
        _load_weights(network, state.best_weights, frozen)
    network.eval()
    return TrainResult(state.best_epoch, state.best_loss, state.history)


def evaluate_loss(
    network: EmotionalNetwork, data: TrainSet, frozen: bool, batch: int,
    dim_weights: torch.Tensor | None = None,
) -> float:
    """The training loss over all of ``data`` at once, with the network in eval mode."""
    network.eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(data), batch):
            index = np.arange(start, min(start + batch, len(data)))
            chunks.append(_logits(network, data, index, frozen))
    if not chunks:
        return float("nan")
    targets = torch.as_tensor(data.targets, dtype=torch.float32)
    loss = masked_emotion_loss(torch.cat(chunks), targets, network.heads.signed, dim_weights)
    return float(loss)


def _logits(network: EmotionalNetwork, data: TrainSet, index: np.ndarray, frozen: bool):
    if frozen:
        return network.heads(torch.as_tensor(data.embeddings[index], dtype=torch.float32))
    features = network.encoder.tokenize([data.texts[i] for i in index])
    return network.forward_features(features)


def _epoch_batches(
    data: TrainSet, config: TrainConfig, epoch: int, group_by_length: bool
) -> list[np.ndarray]:
    """The batches of one epoch, fixed by the seed and the epoch (so a resume finds them again).

    With ``group_by_length`` (fine-tuning), items are shuffled, then sorted by length inside
    windows of 50 batches, and the batches are shuffled again: each batch holds texts of similar
    length, so little compute goes to padding, while the order stays random.
    """
    rng = np.random.default_rng(config.seed + epoch)
    order = rng.permutation(len(data))
    size = config.batch_size
    if group_by_length and data.texts:
        lengths = np.array([len(t) for t in data.texts])
        window = size * 50
        order = np.concatenate([
            chunk[np.argsort(-lengths[chunk], kind="stable")]
            for chunk in np.array_split(order, max(1, math.ceil(len(order) / window)))
        ])
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    if group_by_length:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _freeze_word_embeddings(network: EmotionalNetwork) -> None:
    """Keep the encoder's token embedding table fixed while the rest is fine-tuned.

    The table is half of MiniLM's weights; updating it costs optimiser time on a CPU and gains
    little on small labelled sets (rare tokens would be moved by a handful of examples).
    """
    for module in network.encoder.modules():
        embeddings = getattr(module, "word_embeddings", None)
        if isinstance(embeddings, torch.nn.Embedding):
            embeddings.weight.requires_grad_(False)


def _warmup_linear(optimizer, warmup_ratio: float, total_steps: int):
    warmup = max(1, int(total_steps * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass
class _TrainState:
    epoch: int = 0
    step: int = 0
    train_loss: float = 0.0
    best_loss: float = float("inf")
    best_epoch: int = 0
    stale: int = 0
    best_weights: dict | None = None
    history: list[dict] = field(default_factory=list)


def _weights(network: EmotionalNetwork, frozen: bool) -> dict:
    module = network.heads if frozen else network
    return copy.deepcopy({k: v.detach().cpu() for k, v in module.state_dict().items()})


def _load_weights(network: EmotionalNetwork, weights: dict, frozen: bool) -> None:
    (network.heads if frozen else network).load_state_dict(weights)


def _save(path: Path, network, optimizer, scheduler, state: _TrainState, frozen: bool) -> None:
    payload = {
        "weights": _weights(network, frozen),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "state": state.__dict__,
        "rng": torch.get_rng_state(),
    }
    write_atomic(path, lambda tmp: torch.save(payload, tmp))


def _restore(path: Path, network, optimizer, scheduler, frozen: bool) -> _TrainState:
    payload = torch.load(path, weights_only=False)
    _load_weights(network, payload["weights"], frozen)
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(payload["rng"])
    return _TrainState(**payload["state"])

"""Masked losses: a dataset supervises only the dimensions it has."""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F


def masked_emotion_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    signed: torch.Tensor,
    dim_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Loss over the observed (item, dimension) cells, balanced across dimensions.

    Inputs:
        logits: (batch, n_dims) pre-activations from :class:`EmotionHeads`.
        targets: (batch, n_dims) aggregated human values in each dimension's range; NaN marks a
            cell that no annotator rated, which contributes nothing.
        signed: (n_dims,) bool, True for [-1, 1] dimensions.
        dim_weights: (n_dims,) weight of each dimension's mean loss; None weighs all equally.

    [0, 1] dimensions use binary cross-entropy with soft targets (the share of annotators who
    felt the emotion, or a mean strength), the proper scoring rule for a probability-like value.
    [-1, 1] dimensions use the squared error of tanh(logit), i.e. regression of the mean.
    Each dimension's loss is averaged over its own observed cells first, so a dataset with many
    items and many dimensions does not drown one with few (GoEmotions has 43k items on eight
    dimensions, EmoBank 8k on two).
    """
    observed = ~torch.isnan(targets)
    safe_targets = torch.where(observed, targets, torch.zeros_like(targets))
    bce = F.binary_cross_entropy_with_logits(logits, safe_targets.clamp(0, 1), reduction="none")
    mse = (torch.tanh(logits) - safe_targets) ** 2
    per_cell = torch.where(signed, mse, bce) * observed
    counts = observed.sum(dim=0)
    present = counts > 0
    if not present.any():
        return logits.sum() * 0.0
    per_dim = per_cell.sum(dim=0)[present] / counts[present]
    weights = torch.ones_like(per_dim) if dim_weights is None else dim_weights[present]
    return (per_dim * weights).sum() / weights.sum()


def balanced_dim_weights(targets: np.ndarray, signed: np.ndarray) -> torch.Tensor:
    """Weights that put regression dimensions on the scale of the classification ones.

    A squared error on a dimension whose targets barely vary (EmoBank valence: std 0.2 on
    [-1, 1]) is tiny next to a cross-entropy; dividing it by the target variance turns it into
    a scale-free fraction of unexplained variance. [0, 1] dimensions keep weight 1.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no variance
        variance = np.nanvar(targets, axis=0)
    weights = np.ones(targets.shape[1], dtype=np.float32)
    usable = signed & np.isfinite(variance) & (variance > 1e-6)
    weights[usable] = 1.0 / variance[usable]
    return torch.as_tensor(weights, dtype=torch.float32)

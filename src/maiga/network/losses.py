"""Masked losses: a dataset supervises only the dimensions it has."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_emotion_loss(
    logits: torch.Tensor, targets: torch.Tensor, signed: torch.Tensor
) -> torch.Tensor:
    """Mean loss over the observed (item, dimension) cells.

    Inputs:
        logits: (batch, n_dims) pre-activations from :class:`EmotionHeads`.
        targets: (batch, n_dims) aggregated human values in each dimension's range; NaN marks a
            cell that no annotator rated, which contributes nothing.
        signed: (n_dims,) bool, True for [-1, 1] dimensions.

    [0, 1] dimensions use binary cross-entropy with soft targets (the share of annotators who
    felt the emotion, or a mean strength), which is the proper scoring rule for a probability-like
    value. [-1, 1] dimensions use the squared error of tanh(logit), i.e. regression of the mean.
    """
    observed = ~torch.isnan(targets)
    safe_targets = torch.where(observed, targets, torch.zeros_like(targets))
    bce = F.binary_cross_entropy_with_logits(logits, safe_targets.clamp(0, 1), reduction="none")
    mse = (torch.tanh(logits) - safe_targets) ** 2
    per_cell = torch.where(signed, mse, bce)
    n_observed = observed.sum()
    if n_observed == 0:
        return logits.sum() * 0.0
    return (per_cell * observed).sum() / n_observed

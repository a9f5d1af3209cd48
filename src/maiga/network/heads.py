"""Emotion heads: a small MLP whose outputs are squashed into each dimension's range."""

from __future__ import annotations

import torch
from torch import nn


class EmotionHeads(nn.Module):
    """Map a thought embedding to one value per schema dimension.

    Dimensions with range [0, 1] go through a sigmoid, those with [-1, 1] through a tanh, so
    every output is inside its range by construction. ``forward`` returns the pre-activation
    values (logits) because the losses are numerically safer on them; ``activate`` applies the
    squashing.

    Args:
        in_dim: size of the thought embedding.
        signed: bool per dimension, True for [-1, 1].
        hidden: width of the hidden layer (0 means a linear head).
        dropout: dropout before the output layer.
    """

    def __init__(self, in_dim: int, signed: list[bool], hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        out_dim = len(signed)
        if hidden > 0:
            self.mlp = nn.Sequential(
                nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
                nn.Linear(hidden, out_dim),
            )
        else:
            self.mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, out_dim))
        self.register_buffer("signed", torch.tensor(signed, dtype=torch.bool), persistent=True)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(batch, in_dim) embeddings -> (batch, n_dims) pre-activations."""
        return self.mlp(embeddings)

    def activate(self, logits: torch.Tensor) -> torch.Tensor:
        """Pre-activations -> values inside each dimension's range."""
        return torch.where(self.signed, torch.tanh(logits), torch.sigmoid(logits))

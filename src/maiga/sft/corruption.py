"""Wrong emotion inputs, used to train and to measure how much the LM depends on the true ones.

* ``zeroed``: every value 0.
* ``shuffled``: another example's emotion sequence (aligned by position).
* ``noised``: Gaussian noise of ``noise_std`` times each dimension's range, clipped into range.
* ``disconnected``: the emotion modules switched off (the adapters stay), per row.
"""

from __future__ import annotations

import torch

from maiga.schema import EmotionSchema

KINDS = ("zeroed", "shuffled", "noised", "disconnected")


def fit_length(sequence: torch.Tensor, length: int) -> torch.Tensor:
    """Trim or extend (repeating the last vector) a (T, D) sequence to ``length`` rows."""
    if sequence.shape[0] >= length:
        return sequence[:length]
    tail = sequence[-1:].expand(length - sequence.shape[0], -1)
    return torch.cat([sequence, tail], dim=0)


def corrupt_row(
    kind: str,
    emotions: torch.Tensor,
    donor: torch.Tensor | None,
    schema: EmotionSchema,
    noise_std: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """A corrupted copy of one row's emotions (T, D). ``disconnected`` leaves them as they are."""
    if kind == "zeroed":
        return torch.zeros_like(emotions)
    if kind == "shuffled":
        if donor is None:
            raise ValueError("shuffled corruption needs another example's emotions")
        return fit_length(donor, emotions.shape[0]).to(emotions)
    if kind == "noised":
        low = torch.as_tensor(schema.lows, dtype=emotions.dtype, device=emotions.device)
        high = torch.as_tensor(schema.highs, dtype=emotions.dtype, device=emotions.device)
        # noise is drawn on the CPU generator so a run is the same on any device
        noise = (
            torch.randn(emotions.shape, generator=generator).to(emotions)
            * noise_std
            * (high - low)
        )
        return torch.clamp(emotions + noise, low, high)
    if kind == "disconnected":
        return emotions
    raise ValueError(f"Unknown corruption {kind!r}; choose from {', '.join(KINDS)}.")

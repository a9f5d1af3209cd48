"""Padding encoded conversations into batches, in an order that a resumed run repeats exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from maiga.lm.alignment import EncodedConversation


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, T)
    attention_mask: torch.Tensor  # (B, T)
    labels: torch.Tensor  # (B, T), -100 where no loss is taken
    emotions: torch.Tensor  # (B, T, D); padding repeats each row's last vector

    @property
    def tokens(self) -> int:
        return int(self.attention_mask.sum())

    def to(self, device) -> Batch:
        return Batch(
            *(
                t.to(device)
                for t in (self.input_ids, self.attention_mask, self.labels, self.emotions)
            )
        )


def collate(examples: list[EncodedConversation], pad_id: int) -> Batch:
    width = max(len(e) for e in examples)
    dims = examples[0].emotions.shape[1]
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    emotions = torch.zeros((len(examples), width, dims), dtype=torch.float32)
    for row, e in enumerate(examples):
        n = len(e)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.where(torch.from_numpy(e.loss_mask), ids[row, :n], -100)
        emotions[row, :n] = torch.from_numpy(e.emotions)
        emotions[row, n:] = emotions[row, n - 1]
    return Batch(ids, mask, labels, emotions)


def batch_indices(n_examples: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Examples of global step ``step``: epochs of seeded permutations, consumed in order."""
    start = step * batch_size
    out = []
    while len(out) < batch_size:
        epoch, offset = divmod(start + len(out), n_examples)
        order = np.random.default_rng(seed + epoch).permutation(n_examples)
        take = min(batch_size - len(out), n_examples - offset)
        out.extend(int(i) for i in order[offset : offset + take])
    return out


def row_nll(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed next-token NLL of each row over labelled tokens, and the count of those tokens."""
    shifted_logits = logits[:, :-1].float()
    targets = labels[:, 1:]
    losses = torch.nn.functional.cross_entropy(
        shifted_logits.reshape(-1, shifted_logits.shape[-1]),
        targets.reshape(-1),
        ignore_index=-100,
        reduction="none",
    ).view(targets.shape)
    counts = (targets != -100).sum(dim=1)
    return losses.sum(dim=1), counts

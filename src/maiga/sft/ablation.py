"""Response NLL on held-out data under true and corrupted emotions: the inseparability table."""

from __future__ import annotations

import numpy as np
import torch

from maiga.lm.alignment import EncodedConversation
from maiga.lm.model import EmotionalLM
from maiga.sft.batches import collate, row_nll
from maiga.sft.corruption import corrupt_row

CONDITIONS = ("true", "zeroed", "shuffled", "noised", "disconnected")


def response_nll(
    lm: EmotionalLM,
    examples: list[EncodedConversation],
    condition: str = "true",
    batch_size: int = 8,
    seed: int = 0,
    noise_std: float = 0.3,
) -> float:
    """Token-weighted mean NLL of the response tokens of ``examples`` under ``condition``."""
    if condition not in CONDITIONS:
        raise ValueError(f"Unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}.")
    if not examples:
        raise ValueError("No held-out examples to evaluate.")
    if condition == "shuffled" and len(examples) < 2:
        return float("nan")  # one example has no other to borrow emotions from
    device = next(lm.parameters()).device
    donors = _derangement(len(examples), seed)
    generator = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    lm.eval()
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            chunk = list(range(start, min(start + batch_size, len(examples))))
            batch = collate([examples[i] for i in chunk], lm.tokenizer.pad_token_id)
            emotions = batch.emotions.clone()
            if condition in ("zeroed", "shuffled", "noised"):
                for row, i in enumerate(chunk):
                    donor = torch.from_numpy(examples[donors[i]].emotions)
                    emotions[row] = corrupt_row(
                        condition, batch.emotions[row], donor, lm.schema, noise_std, generator
                    )
            batch = batch.to(device)
            if condition == "disconnected":
                with lm.disconnected():
                    out = lm(
                        batch.input_ids,
                        emotions=emotions.to(device),
                        attention_mask=batch.attention_mask,
                    )
            else:
                out = lm(
                    batch.input_ids,
                    emotions=emotions.to(device),
                    attention_mask=batch.attention_mask,
                )
            sums, counts = row_nll(out.logits, batch.labels)
            total += float(sums.sum())
            count += int(counts.sum())
    return total / max(count, 1)


def ablation_table(
    emotional: EmotionalLM,
    plain: EmotionalLM | None,
    examples: list[EncodedConversation],
    batch_size: int = 8,
    seed: int = 0,
    noise_std: float = 0.3,
) -> dict[str, float]:
    """NLL under each condition, the plain fine-tune's NLL, and the ratios the targets use."""
    table = {
        c: response_nll(emotional, examples, c, batch_size, seed, noise_std) for c in CONDITIONS
    }
    if plain is not None:
        table["plain_lora"] = response_nll(plain, examples, "true", batch_size, seed)
    return table


def _derangement(n: int, seed: int) -> list[int]:
    """A permutation without fixed points: each example takes another one's emotions."""
    if n == 1:
        return [0]
    order = np.random.default_rng(seed).permutation(n)
    donors = [0] * n
    for k in range(n):
        donors[order[k]] = int(order[(k + 1) % n])
    return donors

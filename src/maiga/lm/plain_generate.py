"""Batched greedy answers from a plain causal LM (used to write the mixture's base responses)."""

from __future__ import annotations

import torch


def respond_with_base(model, tokenizer, prompts: list[str], max_new_tokens: int,
                      batch_size: int = 8, progress=None) -> list[str]:
    """One assistant answer per user prompt, greedy, through the model's chat template."""
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
    answers: list[str] = []
    try:
        model.eval()
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start:start + batch_size]
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                   add_generation_prompt=True) for p in chunk]
            batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.inference_mode():
                out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            width = batch["input_ids"].shape[1]
            answers += [tokenizer.decode(row[width:], skip_special_tokens=True) for row in out]
            if progress is not None:
                progress(len(chunk))
    finally:
        tokenizer.padding_side = side
    return answers

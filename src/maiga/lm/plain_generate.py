"""Batched greedy answers from a plain causal LM (used to write the mixture's base responses).

An answer that runs out of ``max_new_tokens`` before its end-of-turn token is returned as ""
(and so left out of the mixture): trained on, it would teach the model to stop mid-sentence.
"""

from __future__ import annotations

import torch


def respond_with_base(
    model, tokenizer, prompts: list[str], max_new_tokens: int, batch_size: int = 8, progress=None
) -> list[str]:
    """One assistant answer per user prompt, greedy, through the model's chat template."""
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
    answers: list[str] = []
    try:
        model.eval()
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            texts = [
                tokenizer.apply_chat_template(
                    [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
                )
                for p in chunk
            ]
            batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.inference_mode():
                out = model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                )
            width = batch["input_ids"].shape[1]
            stops = _stop_ids(model, tokenizer)
            for row in out:
                new = row[width:].tolist()
                finished = any(token in stops for token in new)
                answers.append(tokenizer.decode(new, skip_special_tokens=True) if finished else "")
            if progress is not None:
                progress(len(chunk))
    finally:
        tokenizer.padding_side = side
    return answers


def _stop_ids(model, tokenizer) -> set[int]:
    ids = {tokenizer.eos_token_id}
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(configured if isinstance(configured, (list, tuple)) else [configured])
    return {i for i in ids if i is not None}

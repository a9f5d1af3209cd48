"""Small builders shared by the emotional-LM tests."""

from __future__ import annotations

import numpy as np

from maiga.lm.model import EmotionalLMSpec, LoraSettings, build_emotional_lm
from maiga.schema import load_schema
from maiga.thoughts import split_thoughts

SCHEMA = load_schema("essay8")


def labelled(messages: list[tuple[str, str]], seed: int = 0) -> list[dict]:
    """Messages with thoughts and random emotion values (as `maiga label` would attach)."""
    rng = np.random.default_rng(seed)
    out = []
    for role, content in messages:
        thoughts = [
            {
                "start": t.start,
                "end": t.end,
                "values": rng.uniform(0, 1, len(SCHEMA.names)).round(4).tolist(),
            }
            for t in split_thoughts(content)
        ]
        out.append({"role": role, "content": content, "thoughts": thoughts})
    return out


CONVERSATION = labelled(
    [
        ("user", "Hello there. How are you today?"),
        ("assistant", "I am fine, thank you! The cat sat on the mat. It was happy."),
    ]
)


def tiny_lm(folder, conditioned: bool = True, seed: int = 0, family_targets=None):
    spec = EmotionalLMSpec(
        base=str(folder),
        schema=SCHEMA,
        conditioned=conditioned,
        lora=LoraSettings(rank=4, alpha=8, target_modules=family_targets),
        code_size=8,
        max_length=256,
    )
    return build_emotional_lm(spec, seed=seed)

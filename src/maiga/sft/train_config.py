"""Settings of one SFT run (emotional LM or its plain LoRA baseline)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SftTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(60, ge=1, description="optimizer steps")
    batch_size: int = Field(4, ge=1)
    learning_rate: float = Field(3e-4, gt=0)
    emotion_learning_rate: float = Field(1e-3, gt=0, description="for the emotion modules")
    warmup_steps: int = Field(5, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    seed: int = Field(0, description="overridden by the run's seed in maiga run and maiga sft")
    # Inseparability: a share of each batch gets wrong emotions, and a hinge keeps their loss
    # at least `target_ratio` times the loss of the rows with true emotions.
    corrupt_fraction: float = Field(0.25, ge=0, lt=1)
    inseparability_weight: float = Field(1.0, ge=0)
    target_ratio: float = Field(2.0, ge=1)
    inseparability_start: float = Field(
        0.25,
        ge=0,
        lt=1,
        description="share of the steps trained on true emotions only, before "
        "the inseparability term starts; it then ramps up linearly over the same number of steps",
    )
    corruptions: list[Literal["zeroed", "shuffled", "noised", "disconnected"]] = Field(
        default=["zeroed", "shuffled", "noised", "disconnected"],
        min_length=1,
        description="kinds of wrong emotions, used in turn",
    )
    noise_std: float = Field(0.3, gt=0)
    checkpoint_every: int = Field(20, ge=1)

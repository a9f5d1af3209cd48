"""The `lm` section of a run config: base model, adapters, mixture, training and evaluation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from maiga.lm.base import DEFAULT_BASE
from maiga.sft.mixture import MixtureConfig
from maiga.sft.train_config import SftTrainConfig


class LoraConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int = Field(8, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] | None = Field(
        None, description="Module names to adapt; None uses the family's attention projections."
    )


class LmStageConfig(BaseModel):
    """Stages `label` and `sft` of `maiga run` (the emotional LM and its plain baseline)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run the label and sft stages.")
    base: str = Field(DEFAULT_BASE, description="Base causal LM: packaged name, hub id or folder.")
    max_length: int = Field(256, ge=16, description="Conversations with more tokens are left out.")
    lora: LoraConfigModel = Field(default_factory=LoraConfigModel)
    code_size: int = Field(
        32, ge=1, description="Width of the emotion code inside the conditioner."
    )
    mixture: MixtureConfig = Field(default_factory=MixtureConfig)
    train: SftTrainConfig = Field(default_factory=SftTrainConfig)
    plain_baseline: bool = Field(
        True, description="Also train the plain LoRA twin (same data, steps, seed; no emotions)."
    )
    eval_batch_size: int = Field(8, ge=1)
    label_chunk_rows: int = Field(128, ge=1)

"""Training configuration of the emotional network (saved beside every trained network)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TrainConfig(BaseModel):
    """How the emotional network is trained."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["frozen", "finetune"] = Field(
        "frozen",
        description="frozen: train the heads on cached embeddings of a fixed encoder (fast); "
        "finetune: train encoder and heads together (slower, better).",
    )
    epochs: int = Field(40, ge=1, description="Passes over the training items.")
    batch_size: int = Field(256, ge=1, description="Items per optimisation step.")
    lr_heads: float = Field(1e-3, gt=0, description="Learning rate of the heads.")
    lr_encoder: float = Field(3e-5, gt=0, description="Learning rate of the encoder (finetune).")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    hidden: int = Field(512, ge=0, description="Hidden width of the heads (0: linear heads).")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout inside the heads.")
    warmup_ratio: float = Field(0.06, ge=0, lt=1, description="Share of steps with rising LR.")
    patience: int = Field(
        8, ge=1, description="Stop after this many epochs without a better dev loss."
    )
    freeze_word_embeddings: bool = Field(
        True, description="Finetune: keep the token embedding table fixed (faster on a CPU)."
    )
    max_seq_length: int = Field(128, ge=8, description="Encoder tokens per thought.")
    embed_batch_size: int = Field(128, ge=1, description="Texts per encoder batch.")
    checkpoint_every: int = Field(
        200, ge=1, description="Finetune: save a resumable checkpoint every this many steps."
    )
    seed: int = Field(0, description="Seed for shuffling, dropout and initialisation.")

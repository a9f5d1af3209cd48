"""The emotional LM: a pretrained causal LM with LoRA adapters and emotion conditioning.

``EmotionalLM.forward`` takes token ids *and* per-token emotion values; the conditioner feeds the
emotions into every decoder block (see :mod:`maiga.lm.conditioning`). With ``conditioned=False``
the same class is the plain LoRA fine-tune that serves as the honest baseline: same adapters, same
data, no emotions.

This module knows nothing about training or the CLI; :mod:`maiga.sft` trains it and
:mod:`maiga.lm.generate` runs it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from maiga.lm.base import BaseModelRef, load_base_model, resolve_base_model
from maiga.lm.conditioning import ConditionerConfig, EmotionConditioner
from maiga.lm.families import decoder_norms, family_layout
from maiga.schema import EmotionSchema
from maiga.thoughts import SegmenterConfig


@dataclass
class LoraSettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: list[str] | None = None  # None: the family's attention projections

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class EmotionalLMSpec:
    """Everything needed to rebuild an emotional LM around its base model."""

    base: str
    schema: EmotionSchema
    conditioned: bool = True
    lora: LoraSettings = field(default_factory=LoraSettings)
    code_size: int = 32
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    max_length: int = 512


class EmotionalLM(nn.Module):
    """Base causal LM + PEFT LoRA adapters + (optionally) an :class:`EmotionConditioner`."""

    def __init__(
        self,
        model: nn.Module,
        tokenizer,
        spec: EmotionalLMSpec,
        base_ref: BaseModelRef,
        conditioner: EmotionConditioner | None,
    ):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.spec = spec
        self.base_ref = base_ref
        self.conditioner = conditioner

    @property
    def schema(self) -> EmotionSchema:
        return self.spec.schema

    @property
    def n_dims(self) -> int:
        return len(self.spec.schema.names)

    @property
    def context_window(self) -> int:
        config = self.model.config
        return int(
            getattr(config, "max_position_embeddings", None)
            or getattr(config, "n_positions", 2048)
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        emotions: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        connected: torch.Tensor | None = None,
        **kwargs,
    ):
        """Run the LM. ``emotions`` is (batch, tokens, n_dims), one vector per input token."""
        if self.conditioner is None:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        if emotions is None:
            raise ValueError(
                "This emotional LM needs emotion inputs (batch, tokens, "
                f"{self.n_dims}); build them with maiga.lm.alignment.encode_conversation."
            )
        emotions = emotions.to(next(self.conditioner.parameters()).device)
        with self.conditioner.inputs(emotions, connected):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs)

    @contextmanager
    def disconnected(self):
        """Run with the emotion modules switched off but the LoRA adapters kept (an ablation)."""
        if self.conditioner is None:
            yield
            return
        self.conditioner.enabled = False
        try:
            yield
        finally:
            self.conditioner.enabled = True

    def trainable_parameters(self) -> dict[str, nn.Parameter]:
        return {name: p for name, p in self.named_parameters() if p.requires_grad}


def build_emotional_lm(
    spec: EmotionalLMSpec, seed: int = 0, dtype: str = "float32"
) -> EmotionalLM:
    """A fresh emotional LM: base weights frozen, new LoRA adapters and emotion modules."""
    from peft import LoraConfig, get_peft_model

    base_ref = resolve_base_model(spec.base)
    model, tokenizer = load_base_model(base_ref, dtype)
    layout = family_layout(model)
    torch.manual_seed(seed)
    targets = spec.lora.target_modules or list(layout.lora_targets)
    lora = LoraConfig(
        r=spec.lora.rank,
        lora_alpha=spec.lora.alpha,
        lora_dropout=spec.lora.dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
        fan_in_fan_out=layout.fan_in_fan_out,
    )
    peft_model = get_peft_model(model, lora)
    conditioner = _new_conditioner(peft_model, spec) if spec.conditioned else None
    return EmotionalLM(peft_model, tokenizer, spec, base_ref, conditioner)


def _new_conditioner(peft_model: nn.Module, spec: EmotionalLMSpec) -> EmotionConditioner:
    base = peft_model.get_base_model()
    layout = family_layout(base)
    norms = decoder_norms(base, layout)
    hidden = int(getattr(base.config, "hidden_size", None) or base.config.n_embd)
    config = ConditionerConfig(
        n_dims=len(spec.schema.names),
        hidden_size=hidden,
        n_blocks=len(norms),
        norms_per_block=len(layout.norms),
        code_size=spec.code_size,
        signed=tuple(bool(x) for x in spec.schema.signed_mask),
    )
    conditioner = EmotionConditioner(config)
    conditioner.attach(norms)
    return conditioner

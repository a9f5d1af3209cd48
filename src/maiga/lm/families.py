"""Where the emotion inputs enter each model family.

The emotion vector modulates the output of each decoder block's normalisation layers (the input of
attention and of the MLP). Families differ only in where those layers live, so a family is
described by the path to the list of blocks and the names of the norms inside one block.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from maiga.errors import ModelNotFoundError


class UnsupportedModelError(ModelNotFoundError):
    """The base model has no decoder blocks with norms that maiga knows how to hook."""


@dataclass(frozen=True)
class FamilyLayout:
    blocks: str  # dotted path from the causal-LM module to the ModuleList of decoder blocks
    norms: tuple[str, ...]  # norm modules inside one block, in order of use
    lora_targets: tuple[str, ...]  # default LoRA target modules
    fan_in_fan_out: bool = False  # GPT-2 stores its projections transposed (Conv1D)


_LLAMA_LIKE = FamilyLayout(
    blocks="model.layers",
    norms=("input_layernorm", "post_attention_layernorm"),
    lora_targets=("q_proj", "k_proj", "v_proj", "o_proj"),
)
FAMILIES: dict[str, FamilyLayout] = {
    "llama": _LLAMA_LIKE,
    "qwen2": _LLAMA_LIKE,
    "qwen3": _LLAMA_LIKE,
    "mistral": _LLAMA_LIKE,
    "gpt2": FamilyLayout(
        blocks="transformer.h",
        norms=("ln_1", "ln_2"),
        lora_targets=("c_attn", "c_proj"),
        fan_in_fan_out=True,
    ),
}


def family_layout(model: nn.Module) -> FamilyLayout:
    """The layout of ``model``'s family; a clear error for families without known hooks."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    layout = FAMILIES.get(model_type)
    if layout is None:
        raise UnsupportedModelError(
            f"Model family {model_type!r} ({type(model).__name__}) is not supported: maiga "
            "must know "
            f"where its decoder blocks and their norms are to feed them emotions. Supported "
            f"families: {', '.join(sorted(FAMILIES))}. Pick a model of one of these, or add its "
            "layout to maiga.lm.families.FAMILIES."
        )
    return layout


def decoder_norms(model: nn.Module, layout: FamilyLayout) -> list[list[nn.Module]]:
    """For each decoder block, its norm modules (in ``layout.norms`` order)."""
    blocks = model
    for part in layout.blocks.split("."):
        blocks = getattr(blocks, part, None)
        if blocks is None:
            raise UnsupportedModelError(
                f"{type(model).__name__} has no {layout.blocks!r}; its family layout in "
                "maiga.lm.families does not match this model. Report it with the model id."
            )
    found = []
    for index, block in enumerate(blocks):
        norms = [getattr(block, name, None) for name in layout.norms]
        if any(n is None for n in norms):
            raise UnsupportedModelError(
                f"Decoder block {index} of {type(model).__name__} lacks one of {layout.norms}."
            )
        found.append(norms)
    return found

"""The emotional LM folder: adapters and emotion modules beside a config; the base is referenced.

Layout::

    emotional_lm.json               format, version, base model reference, schema, settings
    adapter/                        PEFT LoRA adapters (adapter_config.json and weights)
    emotion_modules.safetensors     the emotion conditioner (absent for a plain LoRA baseline)

The base model is never copied: it is found again by the name it was built from (a packaged
name, hub id or path), and its config's model type is checked on load.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from maiga.errors import ModelNotFoundError
from maiga.io import write_folder_atomic, write_json_atomic
from maiga.lm.base import load_base_model, resolve_base_model
from maiga.lm.model import EmotionalLM, EmotionalLMSpec, LoraSettings, _new_conditioner
from maiga.schema import EmotionSchema
from maiga.thoughts import SegmenterConfig

logger = logging.getLogger(__name__)
FORMAT = "maiga.emotional_lm"
VERSION = 1
CONFIG = "emotional_lm.json"
MODULES = "emotion_modules.safetensors"


def save_emotional_lm(lm: EmotionalLM, folder: str | Path, extra: dict | None = None) -> Path:
    """Write adapters, emotion modules and config; replaces ``folder`` only once all is written."""

    def write(staging: Path) -> None:
        lm.model.save_pretrained(staging / "adapter")
        if lm.conditioner is not None:
            state = lm.conditioner.state_dict()
            tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
            save_file(tensors, str(staging / MODULES))
        write_json_atomic(staging / CONFIG, _config(lm, extra or {}))

    return write_folder_atomic(Path(folder), write)


def _config(lm: EmotionalLM, extra: dict) -> dict:
    from maiga import __version__

    spec = lm.spec
    return {
        "format": FORMAT,
        "version": VERSION,
        # a local folder is recorded as an absolute path, so the LM loads from anywhere
        "base_model": _portable_base(spec.base),
        "base_source": lm.base_ref.source,
        "model_type": lm.model.config.model_type,
        "conditioned": spec.conditioned,
        "schema": spec.schema.to_dict(),
        "lora": spec.lora.to_dict(),
        "code_size": spec.code_size,
        "conditioner": lm.conditioner.config.to_dict() if lm.conditioner is not None else None,
        "segmenter": dict(spec.segmenter.__dict__),
        "max_length": spec.max_length,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "maiga_version": __version__,
        **extra,
    }


def _portable_base(name: str) -> str:
    """A local folder as an absolute path; packaged names and hub ids as they are."""
    from maiga.lm.base import _ALIASES, PACKAGED_BASES

    if _ALIASES.get(name, name) in PACKAGED_BASES:
        return name
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def read_lm_config(folder: str | Path) -> dict:
    folder = Path(folder)
    path = folder / CONFIG
    if not path.is_file():
        raise ModelNotFoundError(
            f"{str(folder)!r} is not an emotional LM folder: {CONFIG} is missing. Pass a folder "
            "written by `maiga sft` (or save_emotional_lm)."
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelNotFoundError(
            f"{path} is not valid JSON ({exc}); the folder is damaged."
        ) from exc
    if config.get("format") != FORMAT or config.get("version") != VERSION:
        raise ModelNotFoundError(
            f"{path} has format {config.get('format')!r} version {config.get('version')!r}; this "
            f"maiga reads {FORMAT!r} version {VERSION}. Retrain with this version of maiga."
        )
    return config


def load_emotional_lm(
    folder: str | Path, dtype: str = "float32", trainable: bool = False
) -> EmotionalLM:
    """Load an emotional LM by path: base model (referenced), adapters, emotion modules.

    ``trainable=True`` leaves the adapters and emotion modules trainable (for further training,
    such as preference tuning); otherwise the model is frozen and in eval mode.
    """
    from peft import PeftModel

    folder = Path(folder)
    config = read_lm_config(folder)
    spec = EmotionalLMSpec(
        base=config["base_model"],
        schema=EmotionSchema.from_dict(config["schema"], str(folder)),
        conditioned=config["conditioned"],
        lora=LoraSettings(**config["lora"]),
        code_size=config["code_size"],
        segmenter=SegmenterConfig(**config["segmenter"]),
        max_length=config["max_length"],
    )
    base_ref = resolve_base_model(spec.base)
    recorded = config.get("base_source")
    if recorded and Path(recorded).is_absolute() != Path(base_ref.source).is_absolute():
        logger.warning(
            "The emotional LM was trained on base weights from %s, but %r now resolves to %s "
            "(packaged conversion vs hub copy?); its outputs will differ from training.",
            recorded,
            spec.base,
            base_ref.source,
        )
    base, tokenizer = load_base_model(base_ref, dtype)
    if base.config.model_type != config["model_type"]:
        raise ModelNotFoundError(
            f"The emotional LM in {str(folder)!r} was trained on a {config['model_type']!r} model, "
            f"but {spec.base!r} now resolves to a {base.config.model_type!r} model. Restore the "
            "original base model at that name or path."
        )
    if not (folder / "adapter" / "adapter_config.json").is_file():
        raise ModelNotFoundError(
            f"{folder}/adapter is missing; the folder is incomplete. Retrain or recopy it."
        )
    try:
        model = PeftModel.from_pretrained(base, str(folder / "adapter"), is_trainable=trainable)
        conditioner = None
        if spec.conditioned:
            if not (folder / MODULES).is_file():
                raise ModelNotFoundError(
                    f"{folder}/{MODULES} is missing; the folder is incomplete."
                )
            conditioner = _new_conditioner(model, spec)
            state = load_file(str(folder / MODULES))
            conditioner.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    except ModelNotFoundError:
        raise
    except Exception as exc:  # truncated or foreign weight files
        raise ModelNotFoundError(
            f"The emotional LM folder {str(folder)!r} is damaged: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}. Copy the whole folder again, or "
            "retrain."
        ) from exc
    lm = EmotionalLM(model, tokenizer, spec, base_ref, conditioner)
    lm.eval()
    if conditioner is not None and not trainable:
        conditioner.requires_grad_(False)
    return lm

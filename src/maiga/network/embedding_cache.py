"""Embeddings of a frozen encoder, cached on disk in chunks so an interrupted run resumes.

Unique texts are sorted (a deterministic order) and cut into chunks; a chunk's file name is the
hash of the encoder fingerprint and of its texts, so a chunk computed once is reused by every
later run with the same encoder, and a changed text invalidates only its own chunk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from maiga.io import write_atomic
from maiga.network.model import EmotionalNetwork

CHUNK = 2048


def encoder_fingerprint(network: EmotionalNetwork) -> str:
    """Identify the encoder by its name and the sum of its first weights (cheap, stable)."""
    first = next(network.encoder.parameters())
    seed = f"{network.encoder_ref}|{network.embedding_dim}|{float(first.double().sum()):.6e}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def cached_embeddings(
    network: EmotionalNetwork,
    texts: list[str],
    cache_dir: Path,
    batch_size: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """Embeddings of ``texts`` in their order, computing only chunks not yet on disk."""
    unique = sorted(set(texts))
    fingerprint = encoder_fingerprint(network)
    folder = Path(cache_dir) / fingerprint
    folder.mkdir(parents=True, exist_ok=True)

    vectors: dict[str, np.ndarray] = {}
    chunks = [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]
    bar = tqdm(total=len(unique), desc="embedding texts", unit="text", disable=not progress)
    for chunk in chunks:
        digest = hashlib.sha256("\x00".join([fingerprint, *chunk]).encode()).hexdigest()[:24]
        path = folder / f"{digest}.npy"
        if path.is_file():
            block = np.load(path)
        else:
            block = network.embed(chunk, batch_size=batch_size)
            write_atomic(path, lambda tmp, b=block: _save_npy(tmp, b))
        vectors.update(zip(chunk, block))
        bar.update(len(chunk))
    bar.close()
    if not texts:
        return np.zeros((0, network.embedding_dim), dtype=np.float32)
    return np.stack([vectors[t] for t in texts]).astype(np.float32)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a handle, because np.save would append ".npy" to a name
        np.save(handle, array)

"""What identifies a labelling job, so a resumed job only reuses parts made the same way.

A job is its input content, how rows are read and chunked, and the network that scores them:
schema, heads, encoder and segmenter (a different segmenter cuts different thoughts). The input
path is left out on purpose: a dataset moved to another folder is still the same dataset.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from maiga.network.embedding_cache import encoder_fingerprint
from maiga.network.model import EmotionalNetwork

# Inputs up to this size are identified by their content; larger ones by size and modification
# time, because hashing many gigabytes on every resume would cost more than it protects.
CONTENT_HASH_LIMIT = 2 * 1024**3
_BLOCK = 1 << 20


def input_fingerprint(files: list[Path], root: Path) -> dict[str, Any]:
    """``{"method": ..., "files": {relative path: digest}}`` for the files of one input."""
    total = sum(f.stat().st_size for f in files)
    by_content = total <= CONTENT_HASH_LIMIT
    digests = {}
    for path in files:
        name = path.relative_to(root).as_posix() if path != root else "."
        if by_content:
            digests[name] = _sha256(path)
        else:
            stat = path.stat()
            digests[name] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return {"method": "sha256" if by_content else "size+mtime", "files": digests}


def network_identity(network: EmotionalNetwork) -> dict[str, Any]:
    """Everything about ``network`` that changes the values it gives a thought."""
    return {
        "schema": list(network.schema.names),
        "heads_sha256": heads_digest(network),
        "encoder_ref": network.encoder_ref,
        "encoder_fingerprint": encoder_fingerprint(network),
        "segmenter": dict(network.segmenter.__dict__),
    }


def heads_digest(network: EmotionalNetwork) -> str:
    """sha256 over the heads' state dict (names, shapes and exact bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(network.heads.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(data.shape)}|{data.dtype}|".encode())
        digest.update(data.numpy().tobytes())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()

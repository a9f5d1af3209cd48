"""Models that ship inside PyPI packages, found on disk without importing those packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def packaged_path(package: str, relative: str) -> Path | None:
    """``relative`` inside installed ``package`` (located with find_spec), or None if absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.exists() else None

"""Where datasets live on disk.

The data directory is ``$MAIGA_DATA_DIR`` if set, else ``~/.cache/maiga/data``. Each dataset
sits in a folder of its registry name below it (e.g. ``~/.cache/maiga/data/goemotions/``), in
the same layout as the upstream release, so a folder of shared copies (such as
the ``shared/data`` folder next to a checkout in CI) serves as the data directory as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from maiga.data.download import download_dataset, resolve
from maiga.errors import DataError

logger = logging.getLogger(__name__)
ENV_VAR = "MAIGA_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.cache/maiga/data")


def data_dir() -> Path:
    """The folder that holds one sub-folder per dataset."""
    configured = os.environ.get(ENV_VAR, "").strip()
    return Path(configured or DEFAULT_DATA_DIR).expanduser()


def dataset_dir(name: str, download: bool = True, base: str | Path | None = None) -> Path:
    """The folder of dataset ``name`` (or an alias), downloading missing files if allowed.

    ``base`` overrides the data directory for this call. Only files missing on disk are
    fetched; files already there are trusted as they are (a read-only shared copy works).
    """
    entry = resolve(name)
    root = (Path(base).expanduser() if base is not None else data_dir()) / entry.name
    missing = [f for f in entry.files if not (root / f.path).is_file()]
    if not missing:
        _warn_if_changed(entry, root)
        return root
    if not download:
        listed = ", ".join(f.path for f in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DataError(
            f"Dataset {entry.name!r} is not complete in {root}: missing {listed}. "
            f"Downloads are turned off, so maiga cannot fetch them. Set {ENV_VAR} to a folder "
            f"that holds {entry.name}/ with those files, or allow download.")
    download_dataset(entry, root, only=missing)
    return root


_checked: set[Path] = set()


def _warn_if_changed(entry, root: Path) -> None:
    """Warn once per file whose bytes differ from the published release (e.g. truncated).

    Files already in the data directory are used as they are (a user may edit them on
    purpose), but results from changed files are not comparable with anyone else's.
    """
    for remote in entry.files:
        path = root / remote.path
        if remote.sha256 is None or path in _checked:
            continue
        _checked.add(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != remote.sha256:
            logger.warning(
                "%s differs from the published file (sha256 %s..., expected %s...); results "
                "will not be comparable. Delete it to download the original.",
                path, digest[:12], remote.sha256[:12],
            )

"""Atomic file writes: a crash mid-write never leaves a half-written artifact behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` then move the temporary file onto ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp makes the file private (0600); results should be as readable as any file.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_folder_atomic(folder: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(staging_folder)``, then put the staging folder in ``folder``'s place.

    A crash while writing leaves ``folder`` as it was. The result is made readable like any
    file, since ``mkdtemp`` creates private folders.
    """
    import shutil

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write(staging)
        for path in [staging, *staging.rglob("*")]:
            path.chmod((0o777 if path.is_dir() else 0o666) & ~_umask())
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars and paths into plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_output_folder(path: Path, what: str = "--out") -> Path:
    """Fail before any work if ``path`` cannot become a folder (it is a file, or under one)."""
    from maiga.errors import ConfigError

    path = Path(path)
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise ConfigError(
                    f"{what} {str(path)!r} cannot be a folder: {str(candidate)!r} is a file. "
                    "Pass a folder path that does not exist yet or is a folder."
                )
            if not os.access(candidate, os.W_OK):
                raise ConfigError(f"{what} {str(path)!r}: {str(candidate)!r} is not writable.")
            return path
    return path


def check_output_file(path: Path, what: str = "--out") -> Path:
    """Fail before any work if a file cannot be written at ``path``."""
    from maiga.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{what} {str(path)!r} is a folder; pass a file path such as x.json.")
    check_output_folder(path.parent, what)
    return path

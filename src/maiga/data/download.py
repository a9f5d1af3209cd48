"""Fetch dataset files from their upstream URLs, verify them, and move them into place.

Each file streams into a temporary file beside its destination, is hashed as it arrives and
is moved into place in one step only when its SHA-256 is right, so an interrupted or corrupted
download never leaves a file that looks complete.

Checksums come from ``registry.yaml``: the SHA-256 of the upstream bytes where it is known.
Where it is not (Snow et al.'s rating files, whose shared copies had their worker ids replaced
so upstream's bytes were never hashed here; Google's GoEmotions txt/json files, whose shared
copies were re-written through a text index), download uses trust on first use: the hash of
the first successful download is recorded in ``<dataset folder>/.maiga-checksums.json`` and
every later download of that file must match it. To accept a deliberately changed upstream
file, delete its entry from that JSON file.

Only the standard library talks to the network (urllib); ``fetch`` is the one function that
does, so tests replace it or point the registry at ``file://`` URLs.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

from maiga.errors import DataError
from maiga.io import write_json_atomic

RAW_GITHUB = "https://raw.githubusercontent.com"
CHECKSUMS_FILE = ".maiga-checksums.json"
CHUNK = 1 << 16
TIMEOUT_S = 60


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: where it goes, where it comes from, what it must hash to."""

    path: str
    url: str
    sha256: str | None


@dataclass(frozen=True)
class DatasetEntry:
    """A registry entry: the folder name, its reader, other accepted names and its files."""

    name: str
    reader: str
    aliases: tuple[str, ...]
    files: tuple[RemoteFile, ...]


def load_registry(raw: dict[str, Any] | None = None) -> dict[str, DatasetEntry]:
    """Parse ``registry.yaml`` (or ``raw``, the same structure) into entries by folder name."""
    if raw is None:
        text = resources.files("maiga.data").joinpath("registry.yaml").read_text("utf-8")
        raw = yaml.safe_load(text)
    entries = {}
    for name, spec in raw.items():
        repos = spec.get("repos", {})
        files = []
        for item in spec["files"]:
            url = item.get("url")
            if url is None:
                repo = repos[item["repo"]]
                url = f"{RAW_GITHUB}/{repo['repo']}/{repo['commit']}/{item['upstream']}"
            files.append(RemoteFile(item["path"], url, item.get("sha256")))
        entries[name] = DatasetEntry(name, spec.get("reader", name),
                                     tuple(spec.get("aliases", [])), tuple(files))
    return entries


def resolve(name: str, registry: dict[str, DatasetEntry] | None = None) -> DatasetEntry:
    """The entry for a folder name or alias (``snow2008`` -> ``snow2008-affective-text``)."""
    registry = load_registry() if registry is None else registry
    for entry in registry.values():
        if name == entry.name or name in entry.aliases:
            return entry
    known = sorted({n for e in registry.values() for n in (e.name, *e.aliases)})
    raise DataError(f"Dataset {name!r} is not in the registry; known datasets: "
                    f"{', '.join(known)}. For your own file, pass its path instead.")


def fetch(url: str, dest: Path, desc: str) -> str:
    """Stream ``url`` into ``dest`` with a progress bar and return the SHA-256 of the bytes.

    Network failures raise DataError naming the URL; errors writing ``dest`` propagate.
    """
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, \
                open(dest, "wb") as out:
            length = response.headers.get("Content-Length")
            with tqdm(total=int(length) if length else None, unit="B", unit_scale=True,
                      unit_divisor=1024, desc=desc, leave=False, disable=None) as bar:
                while chunk := response.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError,
            ConnectionError) as exc:
        is_http = isinstance(exc, urllib.error.HTTPError)
        reason = exc if is_http else getattr(exc, "reason", None) or exc
        raise DataError(f"Could not download {url}: {reason}.") from None
    return digest.hexdigest()


def download_file(remote: RemoteFile, root: Path, dataset: str = "") -> Path:
    """Download one file into ``root``, verify its hash and move it into place atomically."""
    root = Path(root)
    dest = root / remote.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    checksums = _read_checksums(root)
    expected = remote.sha256 or checksums.get(remote.path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            got = fetch(remote.url, tmp, desc=f"bytes of {dataset or root.name}/{remote.path}")
        except DataError as exc:
            raise DataError(f"{exc} {_by_hand(dataset or root.name, root)}") from None
        if expected and got != expected:
            origin = ("registry.yaml" if remote.sha256
                      else f"the first download, recorded in {root / CHECKSUMS_FILE}")
            raise DataError(
                f"Downloaded {remote.path} from {remote.url} does not match its checksum: "
                f"expected sha256 {expected} (from {origin}), got {got}. The partial file was "
                "deleted. Retry; if it keeps failing, upstream changed the file: check it and "
                f"place it by hand. {_by_hand(dataset or root.name, root)}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    if not remote.sha256 and remote.path not in checksums:
        checksums[remote.path] = got
        write_json_atomic(root / CHECKSUMS_FILE, checksums)
    return dest


def download_dataset(
    name: str | DatasetEntry, root: Path, only: list[RemoteFile] | None = None,
) -> list[Path]:
    """Download the files of a dataset (or just ``only``) into its folder ``root``."""
    entry = name if isinstance(name, DatasetEntry) else resolve(name)
    files = entry.files if only is None else only
    return [download_file(remote, Path(root), entry.name) for remote in files]


def _read_checksums(root: Path) -> dict[str, str]:
    """Trust-on-first-use hashes recorded by earlier downloads (empty if none yet)."""
    path = root / CHECKSUMS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"Checksum record {path} is unreadable ({exc}). Delete it to start "
                        "trust-on-first-use afresh, or restore it from a backup.") from None
    if not isinstance(data, dict):
        raise DataError(f"Checksum record {path} is not a JSON object; delete it and retry.")
    return {str(k): str(v) for k, v in data.items()}


def _by_hand(dataset: str, root: Path) -> str:
    """How to place a dataset without maiga's downloader."""
    return (f"To place the files by hand, fetch each file listed under '{dataset}' in "
            f"maiga/data/registry.yaml and save it as {root}/<path>; or set MAIGA_DATA_DIR to "
            f"a folder that already holds {dataset}/.")

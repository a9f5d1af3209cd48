"""Downloads land atomically, are verified by SHA-256 (or trust on first use), never hit the
network in tests, and explain how to place files by hand when they fail."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from maiga.data import download, paths
from maiga.data.download import (
    CHECKSUMS_FILE, RemoteFile, download_dataset, download_file, load_registry, resolve,
)
from maiga.data.paths import data_dir, dataset_dir
from maiga.data.readers import READERS
from maiga.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "data"
HELLO = FIXTURES / "download" / "hello.txt"
HELLO_SHA = hashlib.sha256(HELLO.read_bytes()).hexdigest()


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.part")]


def test_data_dir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("MAIGA_DATA_DIR", raising=False)
    assert data_dir() == Path.home() / ".cache" / "maiga" / "data"
    monkeypatch.setenv("MAIGA_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


def test_dataset_dir_uses_files_in_place(monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURES))
    assert dataset_dir("snow2008", download=False) == FIXTURES / "snow2008-affective-text"
    assert dataset_dir("goemotions", download=False) == FIXTURES / "goemotions"


def test_dataset_dir_without_download_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as info:
        dataset_dir("emobank", download=False)
    message = str(info.value)
    assert "emobank.csv" in message and "MAIGA_DATA_DIR" in message and "download" in message
    with pytest.raises(DataError, match="known datasets: emobank, goemotions"):
        dataset_dir("imdb")


def test_download_file_verifies_and_places_atomically(tmp_path):
    remote = RemoteFile("sub/hello.txt", HELLO.as_uri(), HELLO_SHA)
    dest = download_file(remote, tmp_path, "toy")
    assert dest == tmp_path / "sub" / "hello.txt"
    assert dest.read_bytes() == HELLO.read_bytes()
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / CHECKSUMS_FILE).exists()  # a known hash needs no record


def test_checksum_mismatch_deletes_the_temp_file(tmp_path):
    wrong = "0" * 64
    remote = RemoteFile("hello.txt", HELLO.as_uri(), wrong)
    with pytest.raises(DataError) as info:
        download_file(remote, tmp_path, "toy")
    message = str(info.value)
    assert "hello.txt" in message and wrong in message and HELLO_SHA in message
    assert not (tmp_path / "hello.txt").exists()
    assert _leftovers(tmp_path) == []


def test_trust_on_first_use(tmp_path):
    source = tmp_path / "upstream.txt"
    source.write_text("first version\n", encoding="utf-8")
    root = tmp_path / "data"
    remote = RemoteFile("ratings.tsv", source.as_uri(), None)
    download_file(remote, root, "toy")
    record = json.loads((root / CHECKSUMS_FILE).read_text("utf-8"))
    assert record == {"ratings.tsv": hashlib.sha256(b"first version\n").hexdigest()}
    download_file(remote, root, "toy")  # same bytes again: accepted
    source.write_text("changed upstream\n", encoding="utf-8")
    with pytest.raises(DataError, match="first download"):
        download_file(remote, root, "toy")
    assert (root / "ratings.tsv").read_text("utf-8") == "first version\n"
    assert _leftovers(root) == []


def test_network_failure_names_the_url_and_manual_placement(tmp_path):
    url = (tmp_path / "nowhere" / "file.tsv").as_uri()
    with pytest.raises(DataError) as info:
        download_file(RemoteFile("file.tsv", url, None), tmp_path / "data", "toy")
    message = str(info.value)
    assert url in message and "by hand" in message and "MAIGA_DATA_DIR" in message
    assert _leftovers(tmp_path) == []


def test_dataset_dir_downloads_only_missing_files(monkeypatch, tmp_path):
    source = FIXTURES / "snow2008-affective-text"
    raw = {"snow-toy": {"reader": "snow2008", "aliases": ["snowy"], "files": [
        {"path": p.name, "url": p.as_uri(),
         "sha256": hashlib.sha256(p.read_bytes()).hexdigest() if p.name.startswith("a")
         else None}
        for p in sorted(source.iterdir())]}}
    entry = load_registry(raw)["snow-toy"]
    monkeypatch.setattr(paths, "resolve", lambda name: entry)
    monkeypatch.setenv("MAIGA_DATA_DIR", str(tmp_path))
    (tmp_path / "snow-toy").mkdir()
    shutil.copy(source / "joy.standardized.tsv", tmp_path / "snow-toy")
    fetched = []
    real_fetch = download.fetch
    monkeypatch.setattr(download, "fetch",
                        lambda url, dest, desc: fetched.append(url) or real_fetch(url, dest, desc))
    root = dataset_dir("snowy")
    assert root == tmp_path / "snow-toy"
    assert len(fetched) == 7 and not any("joy" in url for url in fetched)
    record = json.loads((root / CHECKSUMS_FILE).read_text("utf-8"))
    assert "valence.standardized.tsv" in record and "affect_headlines.tsv" not in record
    assert READERS[entry.reader](root).table["dimension"].nunique() == 7


def test_download_dataset_through_a_faked_fetch(monkeypatch, tmp_path):
    entry = load_registry({"toy": {"files": [
        {"path": "a.txt", "url": "https://example.invalid/a.txt", "sha256": HELLO_SHA}]}})["toy"]

    def fake_fetch(url, dest, desc):
        assert desc.startswith("bytes of toy/")
        dest.write_bytes(HELLO.read_bytes())
        return HELLO_SHA

    monkeypatch.setattr(download, "fetch", fake_fetch)
    assert download_dataset(entry, tmp_path) == [tmp_path / "a.txt"]


def test_builtin_registry_is_complete_and_pinned():
    registry = load_registry()
    assert set(registry) == {"goemotions", "emobank", "snow2008-affective-text", "hh-rlhf",
                             "self-instruct"}
    assert resolve("snow2008").name == "snow2008-affective-text"
    pinned = re.compile(r"^https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/")
    for entry in registry.values():
        # instruction data is read by the SFT mixture, not by an annotation-table reader
        assert entry.reader in READERS or entry.reader == "conversations"
        for remote in entry.files:
            assert pinned.match(remote.url), remote.url
            assert remote.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", remote.sha256)
    snow = {f.path: f.sha256 for f in registry["snow2008-affective-text"].files}
    assert snow["valence.standardized.tsv"] is None and snow["affect_headlines.tsv"]
    emobank = registry["emobank"].files
    assert all(f.sha256 for f in emobank)
    assert all(f.sha256 for name in ("hh-rlhf", "self-instruct") for f in registry[name].files)

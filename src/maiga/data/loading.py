"""One call from a dataset name (or a table file) to a table in schema dimensions.

``load_dataset`` = find the folder (downloading if allowed) + run its reader + apply its
built-in mapping, and keeps the reader's skip counts and the mapping report next to the table
so a user can see everything that was dropped on the way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from maiga.data.download import resolve
from maiga.data.mapping import LabelMapping, apply_mapping, load_mapping
from maiga.data.paths import dataset_dir
from maiga.data.readers import get_reader, read_table_file
from maiga.errors import DataError, MappingError
from maiga.schema.emotion_schema import EmotionSchema, load_schema

# Built-in mapping for each reader; GoEmotions' Ekman taxonomy has its own.
BUILTIN_MAPPING = {"goemotions": "goemotions", "emobank": "emobank", "snow2008": "snow2008"}
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl")


@dataclass
class LoadedDataset:
    """A mapped table plus the record of what reading and mapping left out."""

    table: pd.DataFrame
    read_skips: dict[str, int]
    mapping_report: dict[str, Any]
    source: str


def load_dataset(
    name: str | Path, schema: str | Path | EmotionSchema | None = None,
    data_dir: str | Path | None = None, limit: int | None = None, download: bool = True,
    mapping: str | Path | LabelMapping | None = None, **reader_options: Any,
) -> LoadedDataset:
    """Load a registered dataset (``goemotions``, ``emobank``, ``snow2008``) or a table file.

    For a registered dataset, ``reader_options`` go to its reader (e.g. ``taxonomy="ekman"``,
    ``perspective="both"``) and ``mapping`` overrides the built-in one. For a CSV/TSV/JSONL
    path, ``mapping`` is required and ``reader_options`` go to ``read_table_file``.
    """
    schema = load_schema(schema)
    if _is_table_file(name):
        if mapping is None:
            raise MappingError(
                f"Table file {name} needs a mapping: pass mapping='path/to/mapping.yaml' that "
                "says which of its dimensions become which schema dimensions "
                "(see maiga/data/mappings/*.yaml for examples).")
        options = _options(read_table_file, reader_options)
        result = read_table_file(Path(name), limit=limit, **options)
    else:
        entry = resolve(str(name))
        root = dataset_dir(entry.name, download=download, base=data_dir)
        reader = get_reader(entry.reader)
        result = reader(root, limit=limit, **_options(reader, reader_options))
        if mapping is None:
            mapping = BUILTIN_MAPPING[entry.reader]
            if entry.reader == "goemotions" and reader_options.get("taxonomy") == "ekman":
                mapping = "goemotions-ekman"
    mapped = apply_mapping(result.table, load_mapping(mapping), schema)
    return LoadedDataset(mapped.table, result.skips, mapped.report, result.source)


def _is_table_file(name: str | Path) -> bool:
    """A path rather than a registry name: a Path, a table suffix, or an existing file.

    A registered name wins over a same-named file in the working directory.
    """
    if isinstance(name, Path) or Path(name).suffix.lower() in TABLE_SUFFIXES:
        return True
    try:
        resolve(str(name))
    except DataError:
        return Path(name).is_file()
    return False


def _options(reader: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """Check reader options against the reader's signature, so a typo is a clear DataError."""
    accepted = [p for p in inspect.signature(reader).parameters if p not in ("root", "path")]
    unknown = sorted(set(options) - set(accepted))
    if "limit" in options or unknown:
        raise DataError(
            f"Option(s) {unknown or ['limit']} are not options of {reader.__name__}; it accepts "
            f"{[p for p in accepted if p != 'limit']}. Pass limit as load_dataset(limit=...).")
    return options

"""Open a dataset file or folder as rows (dicts), whatever it is stored in.

Supported: JSONL, JSON (a list of objects), CSV/TSV (each optionally gzip-compressed, e.g.
``test.jsonl.gz`` as HH-RLHF ships it), Parquet, and a Hugging Face ``datasets`` folder written
by ``save_to_disk``. A :class:`RowSource` knows its columns and row count before any row is
converted, so the format can be detected and a progress bar sized up front, and it can start
reading at any row, so an interrupted labelling job resumes without re-reading what it kept.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maiga.errors import DataError

TEXT_SUFFIXES = {".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}
SUPPORTED = (
    "a .jsonl, .json, .csv or .tsv file (optionally .gz), a .parquet file, or a folder "
    "saved with datasets' save_to_disk"
)
# Rows looked at to list a JSON-lines file's columns: keys that only appear later are rare and
# are still carried into the output; only format detection relies on this list.
COLUMN_SAMPLE_ROWS = 100


@dataclass(frozen=True)
class UnreadableRow:
    """A row that could not be read at all (e.g. a JSONL line that is not JSON), and why."""

    reason: str


@dataclass
class RowSource:
    """Rows of one dataset, readable from any position.

    Attributes:
        path: the file or folder.
        kind: jsonl, json, csv, tsv, parquet or datasets.
        columns: column names (for JSON files: the keys of the first rows).
        n_rows: number of rows.
    """

    path: Path
    kind: str
    columns: list[str]
    n_rows: int
    _read_from: Callable[[int], Iterator[dict | UnreadableRow]]

    def rows(self, start: int = 0) -> Iterator[dict | UnreadableRow]:
        """Rows from index ``start`` on, as dicts (or :class:`UnreadableRow`)."""
        return self._read_from(start)

    def files(self) -> list[Path]:
        """The files whose content makes up the dataset (for fingerprints)."""
        if self.path.is_file():
            return [self.path]
        return sorted(p for p in self.path.rglob("*") if p.is_file())


def open_rows(path: str | Path) -> RowSource:
    """Open ``path`` as a :class:`RowSource`, choosing the reader by suffix or folder content."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"Input {str(path)!r} does not exist. Pass {SUPPORTED}.")
    if path.is_dir():
        return _open_datasets_folder(path)
    kind = file_kind(path)
    if kind == "parquet":
        return _open_parquet(path)
    if kind == "jsonl":
        return _open_jsonl(path)
    if kind == "json":
        return _open_json(path)
    return _open_delimited(path, kind)


def file_kind(path: Path) -> str:
    """jsonl, json, csv, tsv or parquet, from the suffix (``.gz`` allowed on text formats)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] == [".parquet"]:
        return "parquet"
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    kind = TEXT_SUFFIXES.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise DataError(
            f"Input {str(path)!r} has suffix {''.join(path.suffixes)!r}, which maiga "
            f"label does not read. Pass {SUPPORTED}."
        )
    return kind


# ---- JSON lines ---------------------------------------------------------------------------


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")


def _json_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of every non-blank line; blank lines are not rows."""
    try:
        with _open_binary(path) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(
            f"File {path} could not be read ({type(exc).__name__}: {exc}). "
            "If it is gzip-compressed, check that the download is complete."
        ) from None


def _parse_json_line(line: bytes) -> dict | UnreadableRow:
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return UnreadableRow("not valid UTF-8")
    except json.JSONDecodeError:
        return UnreadableRow("invalid JSON line")
    if not isinstance(record, dict):
        return UnreadableRow("not a JSON object")
    return record


def _open_jsonl(path: Path) -> RowSource:
    columns: dict[str, None] = {}
    n_rows = 0
    sampled = 0
    for number, line in _json_lines(path):
        n_rows += 1
        if sampled < COLUMN_SAMPLE_ROWS:
            record = _parse_json_line(line)
            if isinstance(record, dict):
                sampled += 1
                columns.update(dict.fromkeys(record))
            elif sampled == 0 and n_rows == 1:
                # A first line that is not an object means the file is not JSON lines at all
                # (often a JSON list saved as .jsonl): say so instead of skipping every row.
                raise DataError(
                    f"File {path} line {number} is not a JSON object ({record.reason}). A .jsonl "
                    "file holds one JSON object per line; a file holding one JSON list should "
                    "be named .json."
                )

    def read_from(start: int) -> Iterator[dict | UnreadableRow]:
        for index, (number, line) in enumerate(_json_lines(path)):
            if index >= start:  # rows before start are skipped without being parsed
                yield _parse_json_line(line)

    return RowSource(path, "jsonl", list(columns), n_rows, read_from)


def _read_text(path: Path) -> str:
    """A whole (possibly gzip-compressed) file as UTF-8 text, with a clear error if it is not."""
    try:
        with _open_binary(path) as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"File {path} could not be read ({type(exc).__name__}: {exc}).") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"File {path} is not valid UTF-8: the byte at offset {exc.start} "
            f"(0x{data[exc.start]:02x}) cannot be decoded. Re-encode it as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8 in > out`) and try again."
        ) from None


def _open_json(path: Path) -> RowSource:
    try:
        records = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"File {path} is not valid JSON ({exc.msg} at line {exc.lineno}). A .json "
            "input holds one list of row objects; use .jsonl for one object per "
            "line."
        ) from None
    if not isinstance(records, list):
        raise DataError(
            f"File {path} holds a JSON {type(records).__name__}, not a list of rows. "
            "Save the rows as a JSON list of objects, or as JSON lines (.jsonl)."
        )
    columns: dict[str, None] = {}
    for record in records[:COLUMN_SAMPLE_ROWS]:
        if isinstance(record, dict):
            columns.update(dict.fromkeys(record))

    def read_from(start: int) -> Iterator[dict | UnreadableRow]:
        for record in records[start:]:
            yield record if isinstance(record, dict) else UnreadableRow("not a JSON object")

    return RowSource(path, "json", list(columns), len(records), read_from)


# ---- CSV / TSV ----------------------------------------------------------------------------


def _open_delimited(path: Path, kind: str) -> RowSource:
    import pandas as pd

    text = _read_text(path)
    try:
        with warnings.catch_warnings():
            # A row with more fields than the header would otherwise be silently cut short.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Cells stay strings and empty cells stay "": a text that reads "NA" or "null" is
            # a text, not a missing value; an empty required cell is counted as a skip later.
            frame = pd.read_csv(
                io.StringIO(text),
                sep="," if kind == "csv" else "\t",
                dtype=str,
                keep_default_na=False,
                index_col=False,
                quoting=csv.QUOTE_MINIMAL,
            )
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        pd.errors.EmptyDataError,
        ValueError,
    ) as exc:
        raise DataError(
            f"File {path} could not be parsed as {kind.upper()}: {exc}. Expected a "
            "header row naming the columns, then one row per example."
        ) from None
    records = frame.to_dict("records")

    def read_from(start: int) -> Iterator[dict | UnreadableRow]:
        yield from records[start:]

    return RowSource(path, kind, [str(c) for c in frame.columns], len(records), read_from)


# ---- Parquet ------------------------------------------------------------------------------


def _open_parquet(path: Path) -> RowSource:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"File {path} could not be read as Parquet ({exc}). Check that it is a "
            "complete .parquet file."
        ) from None
    n_rows = parquet.metadata.num_rows

    def read_from(start: int) -> Iterator[dict | UnreadableRow]:
        # Whole row groups before ``start`` are not decoded at all.
        first, seen = 0, 0
        while first < parquet.num_row_groups:
            size = parquet.metadata.row_group(first).num_rows
            if seen + size > start:
                break
            seen += size
            first += 1
        if first == parquet.num_row_groups:
            return
        groups = list(range(first, parquet.num_row_groups))
        for batch in parquet.iter_batches(batch_size=1024, row_groups=groups):
            for record in batch.to_pylist():
                if seen >= start:
                    yield record
                seen += 1

    return RowSource(path, "parquet", list(parquet.schema_arrow.names), n_rows, read_from)


# ---- datasets.save_to_disk ----------------------------------------------------------------


def _open_datasets_folder(path: Path) -> RowSource:
    is_dataset = (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    is_dict = (path / "dataset_dict.json").is_file()
    if not (is_dataset or is_dict):
        raise DataError(
            f"Input {str(path)!r} is a folder, but not one written by datasets' save_to_disk "
            "(it has no state.json and dataset_info.json, nor dataset_dict.json). "
            f"Pass {SUPPORTED}."
        )
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"Input {str(path)!r} is a Hugging Face datasets folder, but the "
            "'datasets' package is not installed. Install it: pip install "
            "datasets"
        ) from None
    loaded = _load_from_disk(datasets, path)
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        if len(splits) != 1:
            raise DataError(
                f"Input {str(path)!r} holds a DatasetDict with splits {splits}; maiga label "
                f"labels one split at a time. Pass one split's folder, e.g. "
                f"{str(path / splits[0])!r}."
            )
        loaded = loaded[splits[0]]
    dataset = loaded

    def read_from(start: int) -> Iterator[dict | UnreadableRow]:
        if start < len(dataset):
            yield from dataset.select(range(start, len(dataset)))

    return RowSource(path, "datasets", list(dataset.column_names), len(dataset), read_from)


def _load_from_disk(datasets: Any, path: Path) -> Any:
    try:
        return datasets.load_from_disk(str(path))
    except Exception as exc:  # any broken file in the folder, reported as one clear error
        raise DataError(
            f"The datasets folder {str(path)!r} could not be loaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). Save it again with "
            "save_to_disk, or export it to .jsonl or .parquet."
        ) from None

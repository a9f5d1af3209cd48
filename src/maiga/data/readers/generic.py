"""Read a user's own annotation file (CSV, TSV or JSONL) in long or wide form.

Long form has one rating per row (text, dimension, value, plus optional item, annotator, split,
gold, source columns). Wide form has one numeric column per dimension. Missing ids are filled
in so that any sensible spreadsheet loads: no item column -> the item id is a stable hash of
the text; no annotator column -> the single pseudo-annotator ``AGGREGATE``; no split column ->
every row is "train".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from maiga.data.readers.base import (
    MISSING_TOKENS, ReadResult, add_skip, empty_text, finish, limit_mask, parse_ratings,
    read_delimited, read_text, require_columns, require_file, text_item_ids,
)
from maiga.data.table import AGGREGATE_ANNOTATOR, SPLITS
from maiga.errors import DataError

FORMS = ("long", "wide")
SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
SUFFIXES = (*SEPARATORS, ".jsonl")
_LAYOUT = {
    "long": "one rating per row with columns {text}, dimension, value "
            "(optional: item, annotator, split, gold, source)",
    "wide": "one row per text (or per text and annotator) with column {text} and one numeric "
            "column per dimension (optional: item, annotator, split)",
}

logger = logging.getLogger(__name__)


def read_table_file(
    path: str | Path, form: str = "long", source: str | None = None,
    text_column: str = "text", item_column: str | None = None,
    annotator_column: str | None = None, dimensions: Sequence[str] | None = None,
    split_column: str | None = None, limit: int | None = None,
) -> ReadResult:
    """Read one table file into a validated long table; see the module docstring for defaults."""
    path = Path(path)
    if form not in FORMS:
        raise DataError(f"form {form!r} is unknown; use 'long' (one rating per row) or 'wide' "
                        "(one column per dimension).")
    layout = f"a {'/'.join(SUFFIXES)} file, " + _LAYOUT[form].format(text=text_column)
    _check_suffix(path)
    frame = read_any(require_file(path, layout), layout)
    item_col = _column(item_column, "item", frame)
    annotator_col = _column(annotator_column, "annotator", frame)
    split_col = _column(split_column, "split", frame)
    given = [c for c in (text_column, item_column, annotator_column, split_column) if c]
    needed = given + (["dimension", "value"] if form == "long" else list(dimensions or []))
    require_columns(frame, needed, path, layout)
    source = source or _single_source(frame) or path.stem
    skips: dict[str, int] = {}
    rows = pd.DataFrame({"text": frame[text_column]}, index=frame.index)
    rows["item"] = frame[item_col].str.strip() if item_col else None
    rows["annotator"] = frame[annotator_col].str.strip() if annotator_col else AGGREGATE_ANNOTATOR
    rows["split"] = frame[split_col].str.strip() if split_col else "train"
    rows = _drop_bad_rows(rows, skips)
    if item_col is None:
        rows["item"] = text_item_ids(rows["text"])
    rows = rows[limit_mask(rows["item"], rows["split"], limit)]
    if form == "long":
        long = rows.join(frame[["dimension", "value"]].rename(columns={"value": "raw"}))
        if "gold" in frame.columns:
            long["gold"] = pd.to_numeric(frame["gold"].str.strip(), errors="coerce")
        no_dim = long["dimension"].str.strip() == ""
        add_skip(skips, "missing dimension", int(no_dim.sum()))
        long = long[~no_dim].assign(dimension=lambda f: f["dimension"].str.strip())
    else:
        exclude = {text_column, item_col, annotator_col, split_col, "gold", "source"}
        dims = list(dimensions) if dimensions else _numeric_columns(frame, exclude)
        if not dims:
            raise DataError(f"File {path} has no numeric column to use as a dimension; it has "
                            f"{list(frame.columns)}. Pass dimensions=[...] or use form='long'.")
        long = rows.join(frame[dims]).melt(
            id_vars=list(rows.columns), value_vars=dims, var_name="dimension", value_name="raw")
    long["value"] = parse_ratings(long["raw"], skips)
    long = long.dropna(subset=["value"]).drop(columns="raw").assign(source=source)
    return finish(long, skips, source, f"table file {path}")


def read_any(path: Path, layout: str) -> pd.DataFrame:
    """Read CSV/TSV/JSONL (chosen by suffix) into a frame of strings, "" for empty cells."""
    suffix = _check_suffix(path)
    if suffix in SEPARATORS:
        return read_delimited(path, SEPARATORS[suffix], layout)
    records = []
    for number, line in enumerate(read_text(path, layout).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"File {path} line {number} is not valid JSON ({exc.msg}). "
                            "Each line of a .jsonl file must be one JSON object.") from None
        if not isinstance(record, dict):
            raise DataError(f"File {path} line {number} is a {type(record).__name__}, not a "
                            "JSON object. Each line must be an object such as "
                            '{"text": "...", "joy": 0.5}.')
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    return frame.astype(object).where(frame.notna(), "").map(str)


def _check_suffix(path: Path) -> str:
    """The lower-case suffix, if it is a format maiga reads (checked before the file exists)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"File {path} has suffix {suffix!r}; maiga reads {list(SUFFIXES)}. "
                        "Save the table in one of those formats.")
    return suffix


def _column(explicit: str | None, default: str, frame: pd.DataFrame) -> str | None:
    """The column to use: the one the caller named, else the conventional name if present."""
    if explicit:
        return explicit
    return default if default in frame.columns else None


def _single_source(frame: pd.DataFrame) -> str | None:
    """The file's own ``source`` value when the whole file names one source."""
    if "source" not in frame.columns:
        return None
    values = frame["source"].str.strip().unique()
    return str(values[0]) if len(values) == 1 and values[0] else None


def _drop_bad_rows(rows: pd.DataFrame, skips: dict[str, int]) -> pd.DataFrame:
    """Drop rows without text, item id, annotator or a known split, counting each reason."""
    checks = [
        ("empty text", empty_text(rows["text"])),
        ("missing item id", rows["item"].notna() & (rows["item"].astype(str) == "")),
        ("missing annotator", rows["annotator"].astype(str) == ""),
        ("unknown split", ~rows["split"].isin(SPLITS)),
    ]
    dropped = pd.Series(False, index=rows.index)
    for reason, bad in checks:
        add_skip(skips, reason, int((bad & ~dropped).sum()))
        dropped |= bad
    return rows[~dropped]


def _numeric_columns(frame: pd.DataFrame, exclude: set[str | None]) -> list[str]:
    """Columns most of whose non-missing cells parse as numbers.

    A rating column with a stray non-numeric cell stays a dimension (the bad cells are then
    counted as skips) instead of vanishing; the choice is logged so it can be checked.
    """
    found, ignored = [], []
    for column in frame.columns:
        if column in exclude:
            continue
        cells = frame[column].astype(str).str.strip()
        filled = cells[~cells.str.lower().isin(MISSING_TOKENS)]
        share = pd.to_numeric(filled, errors="coerce").notna().mean() if len(filled) else 0.0
        (found if share >= 0.5 else ignored).append(column)
    logger.info("Wide table: dimensions %s; non-numeric columns ignored %s", found, ignored)
    return found

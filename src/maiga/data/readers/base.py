"""Shared pieces of the dataset readers: the result type, safe file reading, stable hashing.

Every reader goes through these helpers so that bad input gives the same kind of DataError
everywhere (which file, which byte or column, what to do) instead of a pandas traceback, and so
that ``limit`` and hash-based splits pick the same items on every machine and in every run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from maiga.data.table import SPLITS, validate_table
from maiga.errors import DataError

# Strings that mean "no rating given" rather than "a rating that is not a number".
MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "none", "null"})


@dataclass
class ReadResult:
    """A reader's output: the validated long table, what was dropped and why, and the source.

    ``skips`` maps a reason ("empty text", "missing rating", ...) to how many records were
    dropped for it, so a user sees how much of a file did not make it into the table.
    """

    table: pd.DataFrame
    skips: dict[str, int] = field(default_factory=dict)
    source: str = ""


def add_skip(skips: dict[str, int], reason: str, count: int) -> None:
    """Count ``count`` dropped records under ``reason``; zero counts are not recorded."""
    if count:
        skips[reason] = skips.get(reason, 0) + int(count)


def read_text(path: Path, layout: str) -> str:
    """Read a whole file as UTF-8; a missing or mis-encoded file becomes a DataError.

    ``layout`` describes what the file should look like, so the error tells the user what to
    put there.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"File {path} does not exist. Expected: {layout}.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"File {path} is not valid UTF-8: the byte at offset {exc.start} "
            f"(0x{data[exc.start]:02x}) cannot be decoded. Re-encode the file as UTF-8 "
            f"(e.g. `iconv -f latin1 -t utf-8 in > out`) and try again."
        ) from None
    return text.removeprefix("\ufeff")


def read_delimited(
    path: Path, sep: str, layout: str, *, header: bool = True,
    names: list[str] | None = None, quoted: bool = True,
) -> pd.DataFrame:
    """Read a CSV/TSV as strings ("" for empty cells) so each reader decides what is missing.

    ``quoted=False`` is for formats whose text fields may start with a quote character but
    are never quoted (GoEmotions, Snow TSVs); pandas would otherwise swallow rows.
    """
    text = read_text(path, layout)
    try:
        with warnings.catch_warnings():
            # A row with more fields than the header would otherwise be silently cut short.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text), sep=sep, header=0 if header else None, names=names,
                dtype=str, keep_default_na=False, index_col=False,
                quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError,
            ValueError) as exc:
        raise DataError(
            f"File {path} could not be parsed: {exc}. Expected: {layout}."
        ) from None


def require_columns(frame: pd.DataFrame, needed: Iterable[str], path: Path, layout: str) -> None:
    """Raise one DataError listing every missing column next to the columns that are there."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"File {path} lacks column(s) {missing}; it has {list(frame.columns)}. "
            f"Expected: {layout}."
        )


def require_file(path: Path, layout: str) -> Path:
    """Check that a file exists before any work is done, naming the expected layout if not."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"File {path} does not exist. Expected: {layout}.")
    return path


def parse_ratings(raw: pd.Series, skips: dict[str, int]) -> pd.Series:
    """Turn rating cells into floats; NaN where missing or not a finite number (counted).

    Missing cells ("", "NaN", ...) count as "missing rating"; anything else that is not a
    finite number counts as "non-numeric rating". Callers drop the NaN rows.
    """
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype(float)
        missing = values.isna()
        bad = pd.Series(np.isinf(values.to_numpy()), index=raw.index)
    else:
        cells = raw.astype(str).str.strip()
        values = pd.to_numeric(cells, errors="coerce").astype(float)
        missing = cells.str.lower().isin(MISSING_TOKENS) | raw.isna()
        bad = (values.isna() | np.isinf(values)) & ~missing
    add_skip(skips, "missing rating", int(missing.sum()))
    add_skip(skips, "non-numeric rating", int(bad.sum()))
    return values.where(~(missing | bad))


def empty_text(text: pd.Series) -> pd.Series:
    """True where a text is missing or only whitespace: such rows carry nothing to learn from."""
    return text.isna() | (text.astype(str).str.strip() == "")


def stable_hash(values: Iterable[object], salt: str = "") -> np.ndarray:
    """64-bit hashes that are the same on every machine and run (unlike Python's ``hash``)."""
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b((salt + str(v)).encode("utf-8"),
                                           digest_size=8).digest(), "big")
            for v in values
        ),
        dtype=np.uint64,
    )


def text_item_ids(texts: pd.Series) -> pd.Series:
    """Item ids derived from the text itself, for tables that have no id column."""
    unique = pd.unique(texts.astype(str))
    ids = {t: f"t{h:016x}" for t, h in zip(unique, stable_hash(unique, "text:"), strict=True)}
    return texts.astype(str).map(ids)


def hash_splits(items: pd.Series, fractions: tuple[float, float] = (0.6, 0.8)) -> pd.Series:
    """Assign train/dev/test by a stable hash of the item id (cumulative cut points).

    With the default cuts an item lands in train with probability 0.6, dev 0.2, test 0.2; the
    assignment of an item never changes when other items are added or removed.
    """
    unique = pd.unique(items.astype(str))
    position = (stable_hash(unique, "split:") % np.uint64(10_000)).astype(float) / 10_000
    labels = np.where(position < fractions[0], "train",
                      np.where(position < fractions[1], "dev", "test"))
    return items.astype(str).map(dict(zip(unique, labels, strict=True)))


def limit_mask(items: pd.Series, splits: pd.Series, limit: int | None) -> pd.Series:
    """Rows whose item is among the ``limit`` items with the smallest stable hash in its split.

    Hash order rather than file order keeps a limited sample spread over the whole file
    (first-N would pick one subreddit, one genre or one annotation batch).
    """
    if limit is None:
        return pd.Series(True, index=items.index)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise DataError(f"limit is {limit!r}; use a non-negative integer or None for all items.")
    pairs = pd.DataFrame({"item": items.astype(str), "split": splits.astype(str)})
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    pairs["hash"] = stable_hash(pairs["item"], "limit:")
    chosen = pairs.sort_values(["split", "hash", "item"]).groupby("split").head(limit)
    keep = pd.MultiIndex.from_frame(chosen[["item", "split"]])
    rows = pd.MultiIndex.from_arrays([items.astype(str), splits.astype(str)])
    return pd.Series(rows.isin(keep), index=items.index)


def check_splits(splits: Iterable[str]) -> tuple[str, ...]:
    """Validate a ``splits`` option so a typo does not silently read nothing."""
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise DataError(f"splits {list(splits)} include unknown value(s) {unknown}; "
                        f"choose from {list(SPLITS)}.")
    return splits


def finish(table: pd.DataFrame, skips: dict[str, int], source: str, origin: str) -> ReadResult:
    """Validate the assembled long table and wrap it with its skip counts."""
    return ReadResult(table=validate_table(table, origin=origin), skips=skips, source=source)

"""The long annotation table that every reader produces and every later step consumes.

One row is one annotator's reaction to one text on one dimension:

    item       str    stable id of the text within its source
    text       str    the text that was rated
    annotator  str    rater id; anonymous ratings get per-item slot ids, aggregated
                      releases use the single pseudo-annotator ``AGGREGATE``
    dimension  str    label or dimension name (the source's before mapping, the
                      schema's after)
    value      float  the rating (source scale before mapping, schema range after)
    source     str    dataset name, e.g. ``goemotions``
    split      str    ``train``, ``dev`` or ``test`` (optional column; missing means train)
    gold       float  expert score for (item, dimension), NaN where there is none (optional)
"""

from __future__ import annotations

import pandas as pd

from maiga.errors import DataError

REQUIRED_COLUMNS = ("item", "text", "annotator", "dimension", "value", "source")
OPTIONAL_COLUMNS = ("split", "gold")
SPLITS = ("train", "dev", "test")
AGGREGATE_ANNOTATOR = "AGGREGATE"
# Anonymous ratings (EmoBank) get per-item slot ids with this prefix: "~1", "~2", ...
# They are not people, so competence cannot be estimated for them.
ANONYMOUS_PREFIX = "~"


def validate_table(table: pd.DataFrame, origin: str = "annotation table") -> pd.DataFrame:
    """Check the columns and types of a long table and return it with optional columns filled.

    Raises DataError naming every missing column, bad split value and NaN in a required column.
    """
    problems: list[str] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{origin} lacks column(s) {missing}; it has {list(table.columns)}. "
            f"A long table needs {list(REQUIRED_COLUMNS)} (optional: {list(OPTIONAL_COLUMNS)})."
        )
    table = table.copy()
    if "split" not in table.columns:
        table["split"] = "train"
    if "gold" not in table.columns:
        table["gold"] = float("nan")
    for column in ("item", "text", "annotator", "dimension", "source"):
        n_missing = int(table[column].isna().sum())
        if n_missing:
            problems.append(f"{n_missing} row(s) have no {column!r}")
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    n_nan = int(table["value"].isna().sum())
    if n_nan:
        problems.append(f"{n_nan} row(s) have a missing or non-numeric 'value'")
    bad_splits = sorted(set(table["split"].dropna().astype(str).unique()) - set(SPLITS))
    if bad_splits:
        problems.append(f"unknown split value(s) {bad_splits}; use {list(SPLITS)}")
    if problems:
        raise DataError(
            f"{origin} is not a valid long table: " + "; ".join(problems)
            + ". Drop or fix those rows before loading (readers count such skips themselves)."
        )
    for column in ("item", "text", "annotator", "dimension", "source", "split"):
        table[column] = table[column].astype(str)
    table["gold"] = pd.to_numeric(table["gold"], errors="coerce")
    return table[list(REQUIRED_COLUMNS) + list(OPTIONAL_COLUMNS)].reset_index(drop=True)


def has_annotator_ids(table: pd.DataFrame) -> bool:
    """True when the annotators are identifiable people, so competence can be estimated."""
    annotators = table["annotator"].astype(str)
    anonymous = annotators.str.startswith(ANONYMOUS_PREFIX) | (annotators == AGGREGATE_ANNOTATOR)
    return not bool(anonymous.any())

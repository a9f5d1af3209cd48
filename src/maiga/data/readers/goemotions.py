"""Read GoEmotions: Google's aggregated splits and, where available, the per-rater CSVs.

The aggregated release becomes the pseudo-annotator ``AGGREGATE`` with one row per item and
EVERY label of the taxonomy (1.0 if the label was kept, 0.0 if not): absence is supervision
too, and a mapping later turns those zeros into "this text does not express fear".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from maiga.data.readers.base import (
    ReadResult, add_skip, check_splits, empty_text, finish, limit_mask, parse_ratings,
    read_delimited, read_text, require_columns, require_file,
)
from maiga.data.table import AGGREGATE_ANNOTATOR, SPLITS
from maiga.errors import DataError

SOURCE = "goemotions"
TAXONOMIES = ("original", "ekman")
# The 28 labels in the order of Google's emotions.txt (= original/labels.txt; 27 = neutral).
EMOTIONS = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)
RATER_COLUMNS = ("text", "id", "rater_id", "example_very_unclear")
_SPLIT_LAYOUT = ("<root>/{taxonomy}/{split}.tsv without header: text <TAB> comma-separated "
                 "0-based indices into {taxonomy}/labels.txt <TAB> comment id")
_RATER_LAYOUT = ("Google's goemotions_N.csv with header text,id,author,subreddit,link_id,"
                 "parent_id,created_utc,rater_id,example_very_unclear and one 0/1 column per "
                 "emotion of emotions.txt")


def read_goemotions(
    root: str | Path, taxonomy: str = "original",
    splits: Iterable[str] = SPLITS, limit: int | None = None,
) -> ReadResult:
    """Read the aggregated splits of one taxonomy as a long table of 0/1 values per label."""
    root = Path(root)
    if taxonomy not in TAXONOMIES:
        raise DataError(f"GoEmotions taxonomy {taxonomy!r} is unknown; choose one of "
                        f"{list(TAXONOMIES)}.")
    splits = check_splits(splits)
    layout = _SPLIT_LAYOUT.format(taxonomy=taxonomy, split="{train,dev,test}")
    paths = [require_file(root / taxonomy / f"{s}.tsv", layout) for s in splits]
    labels = read_labels(root / taxonomy / "labels.txt")
    frames = []
    for split, path in zip(splits, paths, strict=True):
        frame = read_delimited(path, "\t", layout, header=False,
                               names=["text", "labels", "item"], quoted=False)
        frames.append(frame.assign(split=split))
    items = pd.concat(frames, ignore_index=True)
    skips: dict[str, int] = {}
    items = _drop_bad_items(items, skips)
    matrix, ok = _label_matrix(items["labels"], len(labels))
    add_skip(skips, "unknown label index", int((~ok).sum()))
    items, matrix = items[ok], matrix[ok]
    keep = limit_mask(items["item"], items["split"], limit).to_numpy()
    items, matrix = items[keep], matrix[keep]
    per_item = np.repeat(np.arange(len(items)), len(labels))
    table = pd.DataFrame({
        "item": _strings(items["item"], per_item),
        "text": _strings(items["text"], per_item),
        "annotator": AGGREGATE_ANNOTATOR,
        "dimension": _strings(pd.Series(labels), np.tile(np.arange(len(labels)), len(items))),
        "value": matrix.reshape(-1).astype(float),
        "source": SOURCE,
        "split": _strings(items["split"], per_item),
    })
    return finish(table, skips, SOURCE, f"GoEmotions {taxonomy} splits in {root}")


def read_labels(path: Path) -> list[str]:
    """The label names of a taxonomy, one per line, in index order."""
    text = read_text(path, "one label name per line, line i = label index i")
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise DataError(f"Label file {path} is empty; it must list one label name per line.")
    return labels


def official_split_ids(root: str | Path, taxonomy: str = "original") -> dict[str, str]:
    """Comment id -> official split, to give per-rater rows the aggregated release's split."""
    root = Path(root)
    result: dict[str, str] = {}
    for split in SPLITS:
        layout = _SPLIT_LAYOUT.format(taxonomy=taxonomy, split=split)
        frame = read_delimited(root / taxonomy / f"{split}.tsv", "\t", layout, header=False,
                               names=["text", "labels", "item"], quoted=False)
        result.update(dict.fromkeys(frame["item"].str.strip(), split))
    return result


def read_goemotions_raters(
    csv_paths: str | Path | Iterable[str | Path], limit: int | None = None,
    split_ids: Mapping[str, str] | None = None,
) -> ReadResult:
    """Read per-rater CSVs: one row per (comment, rater, emotion), annotator = ``rater_id``.

    Rows flagged ``example_very_unclear`` are skipped (the rater said the text could not be
    judged, so their zeros would be false negatives). Items are "train" unless ``split_ids``
    names their split (see ``official_split_ids(root)`` for the official one).
    """
    paths = [csv_paths] if isinstance(csv_paths, str | Path) else list(csv_paths)
    if not paths:
        raise DataError("read_goemotions_raters got no CSV paths; pass goemotions_1.csv etc.")
    split_ids = dict(split_ids or {})
    bad = sorted({s for s in split_ids.values() if s not in SPLITS})
    if bad:
        raise DataError(f"split_ids uses unknown split(s) {bad}; use {list(SPLITS)}.")
    frames = []
    for path in paths:
        path = require_file(Path(path), _RATER_LAYOUT)
        frame = read_delimited(path, ",", _RATER_LAYOUT)
        require_columns(frame, [*RATER_COLUMNS, *EMOTIONS], path, _RATER_LAYOUT)
        frames.append(frame[[*RATER_COLUMNS, *EMOTIONS]])
    rows = pd.concat(frames, ignore_index=True).rename(columns={"id": "item"})
    skips: dict[str, int] = {}
    unclear = rows["example_very_unclear"].str.strip().str.lower().isin({"true", "1", "yes"})
    add_skip(skips, "example very unclear", int(unclear.sum()))
    rows = _drop_bad_items(rows[~unclear], skips)
    no_rater = rows["rater_id"].str.strip() == ""
    add_skip(skips, "missing rater id", int(no_rater.sum()))
    rows = rows[~no_rater].assign(split=lambda f: f["item"].map(split_ids).fillna("train"))
    rows = rows[limit_mask(rows["item"], rows["split"], limit)]
    long = rows.melt(id_vars=["item", "text", "rater_id", "split"], value_vars=list(EMOTIONS),
                     var_name="dimension", value_name="raw")
    long["value"] = parse_ratings(long["raw"], skips)
    long = long.dropna(subset=["value"]).rename(columns={"rater_id": "annotator"})
    long["annotator"] = long["annotator"].str.strip()
    long["source"] = SOURCE
    return finish(long.drop(columns="raw"), skips, SOURCE, "GoEmotions rater CSVs")


def _drop_bad_items(items: pd.DataFrame, skips: dict[str, int]) -> pd.DataFrame:
    """Drop rows without text or without an id, counting each reason."""
    items = items.assign(item=items["item"].astype(str).str.strip())
    no_text = empty_text(items["text"])
    add_skip(skips, "empty text", int(no_text.sum()))
    no_id = ~no_text & (items["item"] == "")
    add_skip(skips, "missing item id", int(no_id.sum()))
    return items[~(no_text | no_id)]


def _strings(values: pd.Series, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values`` repeated by ``positions``, gathered after conversion to pandas' string type.

    Converting 54k strings and then gathering is about twice as fast as converting the 1.5M
    repeated Python strings that the long table holds.
    """
    return values.astype(str).array.take(positions)


def _label_matrix(cells: pd.Series, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """0/1 matrix (items x labels) from "3,27" cells, and a mask of rows that parsed cleanly."""
    exploded = cells.reset_index(drop=True).str.split(",").explode()
    index = pd.to_numeric(exploded.str.strip(), errors="coerce")
    bad_entry = index.isna() | (index < 0) | (index >= n_labels) | (index % 1 != 0)
    ok = ~bad_entry.groupby(level=0).any().to_numpy()
    matrix = np.zeros((len(cells), n_labels), dtype=np.float32)
    good = ~bad_entry
    matrix[index.index[good].to_numpy(), index[good].astype(int).to_numpy()] = 1.0
    return matrix, ok

"""Read EmoBank's individual Valence-Arousal-Dominance ratings, reader and/or writer view.

The rating files carry no annotator ids, so each rating of an item gets an anonymous slot id
``~<perspective>-<k>`` (k = 1.. in file order within the item). The ``~`` prefix tells later
steps that these are not people, so no per-annotator competence is estimated for them.
Texts and the official split come from ``emobank.csv``; ratings of sentences that are not in
``emobank.csv`` (the authors left them out of the corpus) are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maiga.data.readers.base import (
    ReadResult, add_skip, empty_text, finish, limit_mask, parse_ratings, read_delimited,
    require_columns, require_file,
)
from maiga.data.table import ANONYMOUS_PREFIX, SPLITS
from maiga.errors import DataError

SOURCE = "emobank"
PERSPECTIVES = ("reader", "writer", "both")
DIMENSIONS = ("V", "A", "D")
_CORPUS_LAYOUT = "<root>/emobank.csv with columns id,split,V,A,D,text"
_RATINGS_LAYOUT = "<root>/individual_{p}_ratings.csv with columns id,V,A,D (one rating per row)"


def read_emobank(
    root: str | Path, perspective: str = "reader", limit: int | None = None,
) -> ReadResult:
    """Read individual ratings as a long table with dimensions V, A, D on the 1-5 scale."""
    root = Path(root)
    if perspective not in PERSPECTIVES:
        raise DataError(f"EmoBank perspective {perspective!r} is unknown; choose one of "
                        f"{list(PERSPECTIVES)}.")
    views = ("reader", "writer") if perspective == "both" else (perspective,)
    rating_paths = [
        require_file(root / f"individual_{p}_ratings.csv", _RATINGS_LAYOUT.format(p=p))
        for p in views
    ]
    skips: dict[str, int] = {}
    corpus, known = _read_corpus(root / "emobank.csv", skips)
    kept = corpus[limit_mask(corpus["id"], corpus["split"], limit)]
    frames = []
    for view, path in zip(views, rating_paths, strict=True):
        ratings = read_delimited(path, ",", _RATINGS_LAYOUT.format(p=view))
        require_columns(ratings, ["id", *DIMENSIONS], path, _RATINGS_LAYOUT.format(p=view))
        ratings["id"] = ratings["id"].str.strip()
        unknown = ~ratings["id"].isin(known)
        add_skip(skips, "rating id not in emobank.csv", int(unknown.sum()))
        ratings = ratings[~unknown]
        slot = ratings.groupby("id", sort=False).cumcount() + 1
        ratings = ratings.assign(annotator=f"{ANONYMOUS_PREFIX}{view}-" + slot.astype(str))
        frames.append(ratings[ratings["id"].isin(set(kept["id"]))])
    ratings = pd.concat(frames, ignore_index=True)
    long = ratings.melt(id_vars=["id", "annotator"], value_vars=list(DIMENSIONS),
                        var_name="dimension", value_name="raw")
    long["value"] = parse_ratings(long["raw"], skips)
    long = long.dropna(subset=["value"]).drop(columns="raw")
    long = long.merge(kept[["id", "text", "split"]], on="id", how="inner")
    long = long.rename(columns={"id": "item"}).assign(source=SOURCE)
    return finish(long, skips, SOURCE, f"EmoBank ratings in {root}")


def _read_corpus(path: Path, skips: dict[str, int]) -> tuple[pd.DataFrame, set[str]]:
    """Usable sentences (text and a known split) and the ids of every sentence in the file.

    Ratings of a sentence dropped here are not counted again as "not in emobank.csv".
    """
    corpus = read_delimited(path, ",", _CORPUS_LAYOUT)
    require_columns(corpus, ["id", "split", "text"], path, _CORPUS_LAYOUT)
    corpus = corpus.assign(id=corpus["id"].str.strip(), split=corpus["split"].str.strip())
    no_text = empty_text(corpus["text"])
    add_skip(skips, "empty text", int(no_text.sum()))
    bad_split = ~no_text & ~corpus["split"].isin(SPLITS)
    add_skip(skips, "unknown split", int(bad_split.sum()))
    return corpus[~(no_text | bad_split)], set(corpus["id"])

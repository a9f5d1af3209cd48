"""Read Snow et al. (2008): ten MTurk workers per headline, six emotions plus valence.

The seven ``<emotion>.standardized.tsv`` files are stacked into one long table (annotator =
worker id, dimension = the file's emotion, value = the worker's response on 0..100, or
-100..100 for valence) with the SemEval-2007 expert score as ``gold``. Texts come from
``affect_headlines.tsv``.

The release has no train/dev/test split, so items are split by a stable hash of the headline
id: about 60% train, 20% dev, 20% test (with only 100 headlines the realised shares vary by a
few items; the assignment never changes between runs or machines).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maiga.data.readers.base import (
    ReadResult, add_skip, empty_text, finish, hash_splits, limit_mask, parse_ratings,
    read_delimited, require_columns, require_file,
)

SOURCE = "snow2008"
DIMENSIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "valence")
WORKER, ITEM = "!amt_worker_ids", "orig_id"
_RATING_LAYOUT = ("<root>/{d}.standardized.tsv (tab-separated) with columns "
                  "!amt_annotation_ids, !amt_worker_ids, orig_id, response, gold")
_HEADLINE_LAYOUT = "<root>/affect_headlines.tsv (tab-separated) with columns id, headline"


def read_snow2008(root: str | Path, limit: int | None = None) -> ReadResult:
    """Read all seven rating files as one long table with expert gold scores."""
    root = Path(root)
    paths = {d: require_file(root / f"{d}.standardized.tsv", _RATING_LAYOUT.format(d=d))
             for d in DIMENSIONS}
    headlines_path = require_file(root / "affect_headlines.tsv", _HEADLINE_LAYOUT)
    frames = []
    for dim, path in paths.items():
        layout = _RATING_LAYOUT.format(d=dim)
        frame = read_delimited(path, "\t", layout, quoted=False)
        require_columns(frame, [WORKER, ITEM, "response", "gold"], path, layout)
        frames.append(frame[[WORKER, ITEM, "response", "gold"]].assign(dimension=dim))
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.rename(columns={WORKER: "annotator", ITEM: "item"})
    rows["item"] = rows["item"].str.strip()
    rows["annotator"] = rows["annotator"].str.strip()
    skips: dict[str, int] = {}
    no_worker = rows["annotator"] == ""
    add_skip(skips, "missing worker id", int(no_worker.sum()))
    rows = rows[~no_worker]
    headlines = read_delimited(headlines_path, "\t", _HEADLINE_LAYOUT, quoted=False)
    require_columns(headlines, ["id", "headline"], headlines_path, _HEADLINE_LAYOUT)
    texts = dict(zip(headlines["id"].str.strip(), headlines["headline"], strict=True))
    rows["text"] = rows["item"].map(texts)
    no_headline = rows["text"].isna()
    add_skip(skips, "no headline for item", int(no_headline.sum()))
    no_text = empty_text(rows["text"]) & ~no_headline
    add_skip(skips, "empty text", int(no_text.sum()))
    rows = rows[~(no_text | no_headline)]
    rows["split"] = hash_splits(rows["item"])
    rows = rows[limit_mask(rows["item"], rows["split"], limit)]
    rows["value"] = parse_ratings(rows["response"], skips)
    rows = rows.dropna(subset=["value"])
    rows["gold"] = pd.to_numeric(rows["gold"].str.strip(), errors="coerce")
    rows = rows.drop(columns="response").assign(source=SOURCE)
    return finish(rows, skips, SOURCE, f"Snow 2008 ratings in {root}")

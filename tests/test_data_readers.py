"""Readers turn each dataset's real file format into the long table, and fail helpfully."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from maiga.data.readers import READERS, get_reader, read_table_file
from maiga.data.readers.base import hash_splits, stable_hash
from maiga.data.readers.emobank import read_emobank
from maiga.data.readers.goemotions import (
    EMOTIONS, official_split_ids, read_goemotions, read_goemotions_raters,
)
from maiga.data.readers.snow2008 import read_snow2008
from maiga.data.table import AGGREGATE_ANNOTATOR, REQUIRED_COLUMNS, has_annotator_ids
from maiga.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "data"
GOEMOTIONS = FIXTURES / "goemotions"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _value(table, item, dimension, annotator=None):
    rows = table[(table["item"] == item) & (table["dimension"] == dimension)]
    if annotator is not None:
        rows = rows[rows["annotator"] == annotator]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


# --- GoEmotions aggregated splits ------------------------------------------------------------

def test_goemotions_emits_every_label_for_every_item():
    result = read_goemotions(GOEMOTIONS)
    table = result.table
    assert result.source == "goemotions"
    assert result.skips == {"empty text": 1, "unknown label index": 1}
    assert list(table.columns)[:6] == list(REQUIRED_COLUMNS)
    assert table.groupby("split")["item"].nunique().to_dict() == {"train": 4, "dev": 3, "test": 3}
    assert len(table) == 10 * 28
    assert (table.groupby("item")["dimension"].nunique() == 28).all()
    assert set(table["annotator"]) == {AGGREGATE_ANNOTATOR}
    assert _value(table, "ex0001", "love") == 1.0
    assert _value(table, "ex0001", "gratitude") == 1.0
    assert _value(table, "ex0001", "fear") == 0.0  # absence is supervision
    assert table.loc[table["item"] == "ex0001", "value"].sum() == 2
    assert table.loc[table["item"] == "ex0002", "text"].iloc[0].startswith('"Quoted"')


def test_goemotions_ekman_taxonomy_and_split_selection():
    table = read_goemotions(GOEMOTIONS, taxonomy="ekman", splits=("test",)).table
    assert set(table["split"]) == {"test"}
    assert set(table["dimension"]) == {"anger", "disgust", "fear", "joy", "neutral", "sadness",
                                       "surprise"}
    assert _value(table, "ex0202", "fear") == 1.0
    assert _value(table, "ex0202", "joy") == 0.0


def test_goemotions_bad_options_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="taxonomy 'fine'"):
        read_goemotions(GOEMOTIONS, taxonomy="fine")
    with pytest.raises(DataError, match="unknown value"):
        read_goemotions(GOEMOTIONS, splits=("validation",))
    with pytest.raises(DataError, match=r"original/train\.tsv does not exist.*Expected"):
        read_goemotions(tmp_path)


def test_limit_is_deterministic_by_hash_not_first_n(tmp_path):
    root = tmp_path / "goemotions"
    shutil.copytree(GOEMOTIONS, root)
    lines = [f"comment number {i}\t{i % 28}\tid{i:03d}\n" for i in range(60)]
    (root / "original" / "train.tsv").write_text("".join(lines), encoding="utf-8")
    first = read_goemotions(root, splits=("train",), limit=5).table
    second = read_goemotions(root, splits=("train",), limit=5).table
    chosen = sorted(set(first["item"]))
    assert chosen == sorted(set(second["item"]))
    assert len(chosen) == 5
    assert chosen != [f"id{i:03d}" for i in range(5)]
    ids = [f"id{i:03d}" for i in range(60)]
    expected = sorted(np.array(ids)[np.argsort(stable_hash(ids, "limit:"), kind="stable")[:5]])
    assert chosen == expected
    assert read_goemotions(root, limit=1000).table["item"].nunique() == 60 + 3 + 3


def test_limit_picks_the_same_items_in_both_taxonomies():
    original = read_goemotions(GOEMOTIONS, limit=2).table
    ekman = read_goemotions(GOEMOTIONS, taxonomy="ekman", limit=2).table
    assert set(original["item"]) == set(ekman["item"])
    with pytest.raises(DataError, match="limit"):
        read_goemotions(GOEMOTIONS, limit=-1)


def test_non_utf8_file_names_file_and_offset(tmp_path):
    root = tmp_path / "goemotions"
    shutil.copytree(GOEMOTIONS, root)
    (root / "original" / "dev.tsv").write_bytes("Caf\u00e9 ol\u00e9\t0\tx1\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        read_goemotions(root)
    message = str(info.value)
    assert "dev.tsv" in message and "offset 3" in message and "UTF-8" in message


# --- GoEmotions per-rater CSVs ---------------------------------------------------------------

def test_goemotions_raters_skips_unclear_rows_and_uses_rater_ids():
    result = read_goemotions_raters(FIXTURES / "goemotions_raters.csv")
    table = result.table
    assert result.skips == {"example very unclear": 1}
    assert len(table) == 11 * 28
    assert set(table["annotator"]) == {"1", "2", "3"}
    assert set(table["split"]) == {"train"}
    assert has_annotator_ids(table)
    assert _value(table, "ex0001", "gratitude", "2") == 1.0
    assert _value(table, "ex0001", "gratitude", "1") == 0.0
    assert table.loc[(table["item"] == "ex0101"), "annotator"].nunique() == 2


def test_goemotions_raters_take_official_splits():
    splits = official_split_ids(GOEMOTIONS)
    table = read_goemotions_raters([FIXTURES / "goemotions_raters.csv"], split_ids=splits).table
    per_item = table.groupby("item")["split"].first().to_dict()
    assert per_item == {"ex0001": "train", "ex0003": "train", "ex0101": "dev", "ex0201": "test"}


def test_goemotions_raters_missing_columns_are_listed(tmp_path):
    path = tmp_path / "goemotions_9.csv"
    path.write_text("text,id,rater_id\nhello,a1,7\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_goemotions_raters(path)
    message = str(info.value)
    assert "example_very_unclear" in message and "admiration" in message
    assert "it has ['text', 'id', 'rater_id']" in message


# --- EmoBank ----------------------------------------------------------------------------------

def test_emobank_reader_perspective_slots_and_skips():
    result = read_emobank(FIXTURES / "emobank")
    table = result.table
    assert result.skips == {"empty text": 1, "rating id not in emobank.csv": 2,
                            "missing rating": 1}
    assert len(table) == 15 + 14 + 18 + 15
    assert set(table["dimension"]) == {"V", "A", "D"}
    assert set(table["annotator"]) == {f"~reader-{k}" for k in range(1, 7)}
    assert not has_annotator_ids(table)
    assert table.groupby("item")["split"].first().to_dict() == {
        "eb1": "train", "eb2": "train", "eb3": "dev", "eb4": "test"}
    assert table.loc[table["item"] == "eb1", "text"].iloc[0].endswith('letter? "')
    assert _value(table, "eb3", "V", "~reader-2") == 1.0


def test_emobank_both_perspectives():
    table = read_emobank(FIXTURES / "emobank", perspective="both").table
    assert len(table) == 62 + 24
    assert {"~writer-1", "~writer-2", "~reader-1"} <= set(table["annotator"])
    with pytest.raises(DataError, match="perspective 'critic'"):
        read_emobank(FIXTURES / "emobank", perspective="critic")


def test_emobank_missing_file_names_layout(tmp_path):
    shutil.copy(FIXTURES / "emobank" / "emobank.csv", tmp_path / "emobank.csv")
    with pytest.raises(DataError, match="individual_reader_ratings.csv does not exist"):
        read_emobank(tmp_path)


# --- Snow et al. 2008 -------------------------------------------------------------------------

def test_snow2008_joins_seven_files_with_gold():
    result = read_snow2008(FIXTURES / "snow2008-affective-text")
    table = result.table
    assert result.skips == {"no headline for item": 1, "missing rating": 1}
    assert len(table) == 5 * 2 * 7 - 1
    assert set(table["dimension"]) == {"anger", "disgust", "fear", "joy", "sadness", "surprise",
                                       "valence"}
    assert set(table["annotator"]) == {"worker01", "worker02"}
    row = table[(table["item"] == "501") & (table["dimension"] == "valence")
                & (table["annotator"] == "worker02")]
    assert row["value"].iloc[0] == -90 and row["gold"].iloc[0] == -85
    assert row["text"].iloc[0].startswith("Two Hussein allies")
    assert set(table["split"]) <= {"train", "dev", "test"}
    assert (table.groupby("item")["split"].nunique() == 1).all()


def test_hash_split_is_stable_and_roughly_60_20_20():
    import pandas as pd

    ids = pd.Series([str(i) for i in range(5000)])
    splits = hash_splits(ids)
    assert splits.equals(hash_splits(ids))
    shares = splits.value_counts(normalize=True)
    assert abs(shares["train"] - 0.6) < 0.03 and abs(shares["dev"] - 0.2) < 0.03


# --- generic table files ----------------------------------------------------------------------

def test_generic_long_csv_counts_every_skip():
    result = read_table_file(FIXTURES / "tables" / "long.csv")
    table = result.table
    assert result.source == "long"
    assert result.skips == {"empty text": 1, "unknown split": 1, "missing rating": 1,
                            "non-numeric rating": 1}
    assert len(table) == 4
    assert table.loc[table["dimension"] == "joy", "gold"].tolist() == [0.8, 0.8]
    assert set(table["annotator"]) == {"alice", "bob"}


def test_generic_wide_tsv_hashes_text_into_item_ids():
    result = read_table_file(FIXTURES / "tables" / "wide.tsv", form="wide", source="mine")
    table = result.table
    assert set(table["dimension"]) == {"joy", "fear"}  # the text column 'note' is not a rating
    assert result.skips == {"missing rating": 1}
    assert table["item"].nunique() == 2
    assert table.groupby("item")["text"].nunique().max() == 1
    assert set(table["source"]) == {"mine"}
    again = read_table_file(FIXTURES / "tables" / "wide.tsv", form="wide").table
    assert set(again["item"]) == set(table["item"])


def test_generic_wide_jsonl_with_item_column_and_aggregate_annotator():
    result = read_table_file(FIXTURES / "tables" / "wide.jsonl", form="wide", item_column="id",
                             dimensions=["joy", "fear"])
    assert result.skips == {"empty text": 1, "missing rating": 1}
    assert set(result.table["item"]) == {"a", "b"}
    assert set(result.table["annotator"]) == {AGGREGATE_ANNOTATOR}


def test_generic_bad_input_gives_data_errors(tmp_path):
    with pytest.raises(DataError) as info:
        read_table_file(FIXTURES / "tables" / "wide.tsv", form="long")
    assert "['dimension', 'value']" in str(info.value) and "'joy'" in str(info.value)
    with pytest.raises(DataError, match=r"lacks column\(s\) \['anger'\]"):
        read_table_file(FIXTURES / "tables" / "wide.tsv", form="wide", dimensions=["anger"])
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        read_table_file(bad_json, form="wide")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,dimension,value\na,joy,1,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="could not be parsed"):
        read_table_file(ragged)
    with pytest.raises(DataError, match="suffix '.xlsx'"):
        read_table_file(FIXTURES / "tables" / "long.xlsx")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,dimension,value\nna\u00efve,joy,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="offset 23"):
        read_table_file(latin)


def test_reader_registry():
    assert set(READERS) == {"goemotions", "emobank", "snow2008"}
    assert get_reader("snow2008") is read_snow2008
    with pytest.raises(DataError, match="emobank, goemotions, snow2008"):
        get_reader("semeval")


# --- the real shared data ---------------------------------------------------------------------

@pytest.mark.slow
def test_real_shared_datasets_match_their_source_notes():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the real datasets are only on machines with the share")
    from maiga.data.download import load_registry

    for entry in load_registry().values():  # recorded hashes are those of the shared copies
        for remote in entry.files:
            if remote.sha256:
                data = (SHARED / entry.name / remote.path).read_bytes()
                assert hashlib.sha256(data).hexdigest() == remote.sha256, remote.path

    go = SHARED / "goemotions"
    labels = (go / "original" / "labels.txt").read_text("utf-8").split("\n")
    assert tuple(labels) == EMOTIONS
    original = read_goemotions(go)
    assert original.skips == {}
    items = original.table.groupby("split")["item"].nunique().to_dict()
    assert items == {"train": 43_410, "dev": 5_426, "test": 5_427}
    assert len(original.table) == (43_410 + 5_426 + 5_427) * 28
    per_item = original.table.groupby(["split", "item"])["value"].sum()
    assert (per_item > 1).groupby(level="split").sum().to_dict() == {
        "train": 7_102, "dev": 878, "test": 837}
    ekman = read_goemotions(go, taxonomy="ekman", splits=("test",)).table
    assert ekman["item"].nunique() == 5_427 and ekman["dimension"].nunique() == 7
    assert (ekman.groupby("item")["value"].sum() > 1).sum() == 459

    emobank = read_emobank(SHARED / "emobank")
    assert emobank.table.groupby("split")["item"].nunique().to_dict() == {
        "train": 8_062, "dev": 1_000, "test": 1_000}
    assert emobank.skips == {"rating id not in emobank.csv": 53_055 - 50_616}

    snow = read_snow2008(SHARED / "snow2008-affective-text")
    assert snow.skips == {}
    assert len(snow.table) == 100 * 10 * 7
    assert snow.table["item"].nunique() == 100 and snow.table["annotator"].nunique() == 38
    assert (snow.table.groupby(["item", "dimension"])["annotator"].nunique() == 10).all()
    assert snow.table["gold"].notna().all()


def test_wide_rating_column_with_a_stray_word_is_kept_and_the_cell_counted(tmp_path):
    from maiga.data.readers.generic import read_table_file

    path = tmp_path / "wide.csv"
    path.write_text("text,anger,fear\nGrr,0.9,0.1\nEek,oops,0.8\nHm,0.2,0.3\n", encoding="utf-8")
    result = read_table_file(path, form="wide", source="mine")
    assert set(result.table["dimension"]) == {"anger", "fear"}
    assert len(result.table) == 5
    assert sum(result.skips.values()) == 1

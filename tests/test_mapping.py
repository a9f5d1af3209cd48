"""Mappings move dataset labels into schema dimensions and report everything they drop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maiga.data.loading import load_dataset
from maiga.data.mapping import BUILTIN_MAPPINGS, LabelMapping, apply_mapping, load_mapping
from maiga.data.readers.emobank import read_emobank
from maiga.data.readers.goemotions import EMOTIONS, read_goemotions, read_goemotions_raters
from maiga.data.readers.snow2008 import read_snow2008
from maiga.errors import DataError, MappingError
from maiga.schema.emotion_schema import load_schema

FIXTURES = Path(__file__).parent / "fixtures" / "data"
ESSAY8 = ["happiness", "sadness", "fear", "anger", "contempt", "disgust", "pleasure", "surprise"]


def _table(rows, source="toy"):
    """A long table from (item, annotator, dimension, value[, gold]) tuples."""
    frame = pd.DataFrame([r if len(r) == 5 else (*r, np.nan) for r in rows],
                         columns=["item", "annotator", "dimension", "value", "gold"])
    return frame.assign(text="text of " + frame["item"], source=source, split="train")


def _cell(table, item, dimension, annotator=None):
    rows = table[(table["item"] == item) & (table["dimension"] == dimension)]
    if annotator is not None:
        rows = rows[rows["annotator"] == annotator]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_builtin_mappings_load():
    for name in BUILTIN_MAPPINGS:
        mapping = load_mapping(name)
        assert mapping.reasoning, name
    assert load_mapping("emobank").source_range == (1.0, 5.0)
    assert load_mapping("snow2008").range_for("valence") == (-100.0, 100.0)
    assert load_mapping("snow2008").range_for("fear") == (0.0, 100.0)


def test_goemotions_mapping_stays_inside_ekman_groups():
    mapping = load_mapping("goemotions")
    assert set(mapping.map) | set(mapping.dropped) == set(EMOTIONS)
    assert set(mapping.dropped) == {"neutral"}
    assert set(mapping.map.values()) == set(ESSAY8)
    ekman = json.loads((FIXTURES / "goemotions" / "ekman_mapping.json").read_text("utf-8"))
    allowed = {"anger": {"anger", "contempt"}, "joy": {"happiness", "pleasure"}}
    grouped = [label for labels in ekman.values() for label in labels]
    assert sorted(grouped) == sorted(mapping.map)  # every emotion label in exactly one group
    for group, labels in ekman.items():
        targets = {mapping.map[label] for label in labels}
        assert targets <= allowed.get(group, {group}), (group, targets)
    assert mapping.sources_of()["contempt"] == ["disapproval"]
    assert sorted(mapping.sources_of()["pleasure"]) == ["amusement", "desire", "love"]
    ekman_mapping = load_mapping("goemotions-ekman")
    assert ekman_mapping.map["joy"] == "happiness" and "neutral" in ekman_mapping.dropped


def test_categorical_goemotions_fixture_onto_essay8():
    table = read_goemotions(FIXTURES / "goemotions").table
    result = apply_mapping(table, "goemotions", "essay8")
    mapped, report = result.table, result.report
    assert len(mapped) == 10 * 8
    assert set(mapped["dimension"]) == set(ESSAY8)
    assert _cell(mapped, "ex0001", "happiness")["value"] == 1.0  # gratitude
    assert _cell(mapped, "ex0001", "pleasure")["value"] == 1.0  # love
    assert _cell(mapped, "ex0001", "fear")["value"] == 0.0
    assert mapped.loc[mapped["item"] == "ex0002", "value"].tolist() == [0.0] * 8  # neutral
    assert _cell(mapped, "ex0004", "anger")["value"] == 1.0  # annoyance
    assert _cell(mapped, "ex0004", "surprise")["value"] == 1.0  # confusion
    assert _cell(mapped, "ex0002", "anger")["text"].startswith('"Quoted"')
    assert report["dropped"] == {"neutral": load_mapping("goemotions").dropped["neutral"]}
    assert report["unmapped"] == [] and report["unsupervised"] == []
    assert report["rows_in"] == 280 and report["rows_out"] == 80


def test_categorical_takes_the_max_per_annotator_and_gold():
    table = _table([
        ("i1", "a", "joy", 0.0, 0.2), ("i1", "a", "excitement", 1.0, 0.9),
        ("i1", "b", "joy", 0.0), ("i1", "b", "excitement", 0.0),
        ("i1", "a", "fear", 0.0),
    ])
    mapping = LabelMapping.from_dict({"dataset": "toy", "kind": "categorical",
                                      "map": {"joy": "happiness", "excitement": "happiness",
                                              "fear": "fear"}})
    mapped = apply_mapping(table, mapping, "essay8").table
    assert _cell(mapped, "i1", "happiness", "a")["value"] == 1.0
    assert _cell(mapped, "i1", "happiness", "a")["gold"] == pytest.approx(0.9)
    assert _cell(mapped, "i1", "happiness", "b")["value"] == 0.0
    assert np.isnan(_cell(mapped, "i1", "happiness", "b")["gold"])
    assert len(mapped) == 3


def test_categorical_raters_keep_their_annotators():
    table = read_goemotions_raters(FIXTURES / "goemotions_raters.csv").table
    mapped = apply_mapping(table, "goemotions", "essay8").table
    assert len(mapped) == 11 * 8
    assert _cell(mapped, "ex0003", "disgust", "2")["value"] == 1.0
    assert _cell(mapped, "ex0003", "fear", "2")["value"] == 0.0


def test_continuous_emobank_onto_valence_arousal():
    table = read_emobank(FIXTURES / "emobank").table
    result = apply_mapping(table, "emobank", "essay8-va")
    mapped, report = result.table, result.report
    assert set(mapped["dimension"]) == {"valence", "arousal"}
    assert _cell(mapped, "eb3", "valence", "~reader-2")["value"] == -1.0  # 1 on 1..5
    assert _cell(mapped, "eb2", "valence", "~reader-1")["value"] == 1.0  # 5 on 1..5
    assert _cell(mapped, "eb4", "valence", "~reader-1")["value"] == 0.0  # 3 = neutral
    assert _cell(mapped, "eb2", "arousal", "~reader-1")["value"] == 0.75  # 4 on 1..5
    assert "D" in report["dropped"] and "dominance" in report["dropped"]["D"]
    assert set(report["unsupervised"]) == set(ESSAY8)
    with pytest.raises(MappingError, match="essay8-va"):
        apply_mapping(table, "emobank", "essay8")


def test_continuous_snow_with_per_target_ranges_and_gold():
    table = read_snow2008(FIXTURES / "snow2008-affective-text").table
    result = apply_mapping(table, "snow2008", "essay8-va")
    mapped = result.table
    row = _cell(mapped, "501", "valence", "worker02")
    assert row["value"] == pytest.approx(-0.9) and row["gold"] == pytest.approx(-0.85)
    assert _cell(mapped, "500", "happiness", "worker01")["value"] == pytest.approx(0.6)
    assert result.report["unsupervised"] == ["contempt", "pleasure", "arousal"]
    narrow = apply_mapping(table, "snow2008", "essay8").report
    assert narrow["targets_not_in_schema"] == {"valence": ["valence"]}


def test_unmapped_labels_and_out_of_range_values_are_reported():
    table = _table([
        ("i1", "a", "V", 3.0), ("i2", "a", "V", 7.0), ("i3", "a", "V", 5.0 + 1e-9),
        ("i4", "a", "V", 1.0, 9.0), ("i1", "a", "zeal", 2.0),
    ])
    mapping = LabelMapping.from_dict({"dataset": "toy", "kind": "continuous",
                                      "source_range": [1, 5], "map": {"V": "valence"}})
    result = apply_mapping(table, mapping, "essay8-va")
    assert result.report["unmapped"] == ["zeal"]
    assert result.report["out_of_range"] == {"valence": 1}
    assert result.report["gold_out_of_range"] == {"valence": 1}
    mapped = result.table
    assert sorted(mapped["item"]) == ["i1", "i3", "i4"]
    assert _cell(mapped, "i3", "valence")["value"] == 1.0  # within tolerance: clipped
    assert np.isnan(_cell(mapped, "i4", "valence")["gold"])


def test_labels_missing_from_the_data_are_listed():
    table = _table([("i1", "a", "joy", 1.0), ("i1", "a", "fear", 0.0)])
    mapping = LabelMapping.from_dict({"dataset": "toy", "kind": "categorical",
                                      "map": {"joy": "happiness", "glee": "happiness"},
                                      "dropped": {"boredom": "not an emotion here"}})
    with pytest.raises(MappingError) as info:
        apply_mapping(table, mapping, "essay8")
    message = str(info.value)
    assert "['boredom', 'glee']" in message and "['fear', 'joy']" in message


def test_invalid_mappings_list_every_problem():
    with pytest.raises(MappingError) as info:
        LabelMapping.from_dict({
            "dataset": "toy", "kind": "continuous", "source_range": [5, 1],
            "map": {"V": "Valence!", "A": "arousal", "A2": "arousal", "x": 3},
            "dropped": {"A": "both"}, "colour": "red",
        })
    message = str(info.value)
    for part in ("unknown key", "['Valence!']", "both mapped and dropped", "low must be below",
                 "several sources ['A', 'A2']", "map.x is 3", "no source range"):
        assert part in message, part
    assert "7 problem(s)" in message


def test_load_mapping_from_path_and_unknown_name(tmp_path):
    mapping = load_mapping(FIXTURES / "tables" / "mapping.yaml")
    assert mapping.map == {"joy": "happiness", "fear": "fear"}
    with pytest.raises(MappingError, match="goemotions, goemotions-ekman, emobank, snow2008"):
        load_mapping("plutchik")
    broken = tmp_path / "broken.yaml"
    broken.write_text("map: [unclosed\n", encoding="utf-8")
    with pytest.raises(MappingError, match="UTF-8 YAML"):
        load_mapping(broken)
    with pytest.raises(MappingError, match="source_ranges names target"):
        LabelMapping.from_dict({"dataset": "t", "kind": "continuous", "source_range": [0, 1],
                                "map": {"a": "fear"}, "source_ranges": {"joy": [0, 5]}})


def test_load_dataset_end_to_end_on_fixtures(monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURES))
    go = load_dataset("goemotions", "essay8")
    assert go.source == "goemotions" and len(go.table) == 80
    assert go.read_skips == {"empty text": 1, "unknown label index": 1}
    ekman = load_dataset("goemotions", "essay8", taxonomy="ekman", limit=1)
    assert ekman.mapping_report["mapping"] == "goemotions-ekman"
    assert ekman.table["item"].nunique() == 3
    snow = load_dataset("snow2008", load_schema("essay8-va"), download=False)
    assert snow.table["dimension"].nunique() == 7
    emobank = load_dataset("emobank", "essay8-va", perspective="both")
    assert emobank.read_skips["rating id not in emobank.csv"] == 2


def test_load_dataset_from_a_table_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(tmp_path))
    mapping = FIXTURES / "tables" / "mapping.yaml"
    loaded = load_dataset(FIXTURES / "tables" / "wide.tsv", "essay8", mapping=mapping,
                          form="wide", source="mine")
    assert loaded.source == "mine"
    assert set(loaded.table["dimension"]) == {"happiness", "fear"}
    with pytest.raises(MappingError, match="needs a mapping"):
        load_dataset(FIXTURES / "tables" / "wide.tsv", "essay8", form="wide")
    with pytest.raises(DataError, match="not complete"):
        load_dataset("emobank", "essay8-va", download=False)


def test_an_empty_table_is_a_data_error():
    table = read_goemotions(FIXTURES / "goemotions", limit=0).table
    assert table.empty
    with pytest.raises(DataError, match="limit=0"):
        apply_mapping(table, "goemotions", "essay8")


def test_load_dataset_rejects_unknown_reader_options(monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURES))
    with pytest.raises(DataError, match=r"\['perspective'\].*'taxonomy'"):
        load_dataset("goemotions", "essay8", perspective="reader")

from __future__ import annotations

import pytest

from maiga.errors import SchemaError
from maiga.schema import load_schema
from maiga.schema.emotion_schema import EmotionSchema


def test_default_schema_is_the_essays_eight():
    schema = load_schema()
    assert schema.names == [
        "happiness", "sadness", "fear", "anger", "contempt", "disgust", "pleasure", "surprise"
    ]
    assert not schema.signed_mask.any()


def test_extended_schema_has_signed_valence():
    schema = load_schema("essay8-va")
    assert schema.dimension("valence").signed
    assert schema.lows[schema.index("valence")] == -1
    assert not schema.dimension("arousal").signed


def test_every_problem_is_listed_at_once():
    raw = {"dimensions": [
        {"name": "joy", "range": [0, 2], "meaning": "x"},
        {"name": "joy", "range": [0, 1], "meaning": "y"},
        {"name": "Bad Name", "range": [-1, 1], "meaning": "z"},
        {"name": "calm", "range": [0, 1]},
    ]}
    with pytest.raises(SchemaError) as info:
        EmotionSchema.from_dict(raw, origin="test.yaml")
    message = str(info.value)
    assert "4 problem(s)" in message
    assert "[0, 2]" in message and "duplicate" in message
    assert "'Bad Name'" in message and "no 'meaning'" in message


def test_empty_schema_is_refused():
    with pytest.raises(SchemaError, match="non-empty list"):
        EmotionSchema.from_dict({"name": "x", "dimensions": []})


def test_unknown_schema_name_lists_builtins(tmp_path):
    with pytest.raises(SchemaError, match="essay8-va"):
        load_schema(tmp_path / "missing.yaml")


def test_custom_schema_round_trip(tmp_path):
    path = tmp_path / "va.yaml"
    path.write_text(
        "name: va\ndimensions:\n"
        "  - {name: valence, range: [-1, 1], meaning: negative to positive}\n"
        "  - {name: arousal, range: [0, 1], meaning: calm to excited}\n"
    )
    schema = load_schema(path)
    schema.save(tmp_path / "copy.yaml")
    assert load_schema(tmp_path / "copy.yaml") == schema

"""The CLI as a user meets it: outputs, exit codes and messages for bad input."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from maiga.cli.main import app
from maiga.network.encoder import load_sentence_encoder
from maiga.network.folder import save_network
from maiga.network.model import EmotionalNetwork
from maiga.schema import load_schema

runner = CliRunner(env={"COLUMNS": "240"})


def flat(output: str) -> str:
    """Output with line wrapping undone, so messages can be matched whole."""
    return " ".join(output.split())


@pytest.fixture(scope="module")
def network_dir(tiny_encoder_dir, tmp_path_factory):
    torch.manual_seed(0)
    encoder = load_sentence_encoder(tiny_encoder_dir)
    network = EmotionalNetwork(encoder, load_schema("essay8-va"), encoder_ref=str(tiny_encoder_dir))
    return save_network(network, tmp_path_factory.mktemp("net") / "model")


def test_score_json_has_thoughts_spans_and_overall(network_dir):
    result = runner.invoke(app, ["emotions", "score", "I won! Then I lost.", "--model",
                                 str(network_dir), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [t["text"] for t in payload[0]["thoughts"]] == ["I won!", "Then I lost."]
    assert payload[0]["thoughts"][1]["start"] == 7
    assert -1 <= payload[0]["overall"]["valence"] <= 1


def test_score_table_shows_each_emotion(network_dir):
    result = runner.invoke(app, ["emotions", "score", "What a lovely day. Or not?",
                                 "--model", str(network_dir)])
    assert result.exit_code == 0, result.output
    for name in ("happiness", "valence", "whole text"):
        assert name in result.stdout


def test_score_lines_of_a_file(network_dir, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("First text.\n\nSecond text here.\n", encoding="utf-8")
    result = runner.invoke(app, ["emotions", "score", "--file", str(path), "--lines",
                                 "--model", str(network_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2


@pytest.mark.parametrize("text, message", [("   ", "empty"), ("x " * 120_000, "max_chars")])
def test_bad_text_is_a_clean_error(network_dir, text, message):
    result = runner.invoke(app, ["emotions", "score", text, "--model", str(network_dir)])
    assert result.exit_code == 2
    assert message in flat(result.output)
    assert "Traceback" not in flat(result.output)


def test_non_utf8_file_is_a_clean_error(network_dir, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait".encode("latin-1"))
    result = runner.invoke(app, ["emotions", "score", "--file", str(path),
                                 "--model", str(network_dir)])
    assert result.exit_code == 2
    assert "not valid UTF-8" in flat(result.output) and "offset 3" in flat(result.output)


def test_missing_model_folder_is_a_clean_error(tmp_path):
    result = runner.invoke(app, ["emotions", "score", "hello", "--model", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "not an emotional network folder" in flat(result.output)


def test_no_model_at_all_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("MAIGA_EMOTIONAL_NETWORK", raising=False)
    result = runner.invoke(app, ["emotions", "score", "hello"])
    assert result.exit_code == 2
    assert "--model" in flat(result.output)


def test_unknown_profile_lists_the_profiles(tmp_path):
    result = runner.invoke(app, ["run", "--profile", "huge", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "smoke, quick, full" in flat(result.output)


def test_bad_config_lists_every_problem(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("train: {epochs: 0, mode: sideways}\nunknown_key: 1\n")
    result = runner.invoke(app, ["run", "--profile", "smoke", "--config", str(config),
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "3 problem(s)" in flat(result.output)
    for key in ("train.epochs", "train.mode", "unknown_key"):
        assert key in flat(result.output)

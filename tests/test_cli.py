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
    for name in ("happiness", "valence", "whole", "#1 What a lovely day."):
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


def test_score_table_fits_an_80_column_terminal(network_dir):
    narrow = CliRunner(env={"COLUMNS": "80"})
    result = narrow.invoke(app, ["emotions", "score", "One. Two. Three. Four. Five. Six.",
                                 "--model", str(network_dir)])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "happiness" in result.stdout and "…" not in result.stdout


def test_lines_json_carries_line_numbers(network_dir, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("First.\n\nThird line.\n", encoding="utf-8")
    result = runner.invoke(app, ["emotions", "score", "--file", str(path), "--lines",
                                 "--model", str(network_dir), "--json"])
    assert [row["line"] for row in json.loads(result.stdout)] == [1, 3]


@pytest.mark.parametrize("damage", ["missing heads", "garbage heads", "bad json", "wrong size"])
def test_damaged_model_folder_is_a_clean_error(network_dir, tmp_path, damage):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(network_dir, broken)
    if damage == "missing heads":
        (broken / "heads.safetensors").unlink()
    elif damage == "garbage heads":
        (broken / "heads.safetensors").write_bytes(b"\xff" * 64)
    elif damage == "bad json":
        (broken / "config.json").write_text("{not json")
    else:
        config = json.loads((broken / "config.json").read_text())
        config["hidden"] = 7
        (broken / "config.json").write_text(json.dumps(config))
    result = runner.invoke(app, ["emotions", "score", "hi", "--model", str(broken)])
    assert result.exit_code == 2, result.output
    assert "incomplete or damaged" in flat(result.output)


def test_model_path_that_is_a_file(network_dir):
    result = runner.invoke(app, ["emotions", "score", "hi", "--model",
                                 str(network_dir / "config.json")])
    assert result.exit_code == 2 and "is a file" in flat(result.output)


def test_out_that_is_a_file_fails_before_any_work(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for args in (["run", "--profile", "smoke", "--out", str(blocker)],
                 ["emotions", "train", "--profile", "smoke", "--out", str(blocker / "sub")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "is a file" in flat(result.output)


@pytest.mark.parametrize("args, message", [
    (["--max-chars", "0", "hi"], "positive"),
    (["--lines", "hi"], "pass --file too"),
])
def test_bad_score_options(network_dir, args, message):
    result = runner.invoke(app, ["emotions", "score", "--model", str(network_dir), *args])
    assert result.exit_code == 2 and message in flat(result.output)


def test_unknown_dataset_in_config_is_listed(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("datasets: {foo: {enabled: true}}\n")
    result = runner.invoke(app, ["run", "--profile", "smoke", "--config", str(config),
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "unknown dataset(s) ['foo']" in flat(result.output)


def test_results_are_readable_by_others(network_dir):
    assert (network_dir / "config.json").stat().st_mode & 0o044 == 0o044

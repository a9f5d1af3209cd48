"""`maiga run` with the label and sft stages, on fixtures with tiny random models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maiga.lm.folder import load_emotional_lm
from maiga.pipeline.config import load_run_config
from maiga.pipeline.metric_docs import doc_for
from maiga.pipeline.run import run_pipeline

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"


def lm_config(tmp_path, encoder_dir, base_dir, **lm_extra):
    extra = "".join(f"  {k}: {v}\n" for k, v in lm_extra.items())
    path = tmp_path / "tiny-lm.yaml"
    path.write_text(
        f"encoder: {encoder_dir}\n"
        "train: {epochs: 2, batch_size: 4, hidden: 8}\n"
        "snow_folds: 0\n"
        "lm:\n"
        "  enabled: true\n"
        f"  base: {base_dir}\n"
        "  max_length: 128\n"
        "  lora: {rank: 4, alpha: 8}\n"
        "  code_size: 8\n"
        "  mixture: {hh_rlhf_chosen: 10, self_instruct_seed: 6, base_responses: 2, "
        "base_max_new_tokens: 6, heldout_fraction: 0.25}\n"
        "  train: {steps: 4, batch_size: 4, checkpoint_every: 2}\n" + extra
    )
    return load_run_config("smoke", path)


@pytest.fixture
def fixture_data(monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURE_DATA))


def test_run_with_lm_stages_writes_models_table_and_report(
    fixture_data, tiny_encoder_dir, tiny_lm_dirs, tmp_path
):
    config = lm_config(tmp_path, tiny_encoder_dir, tiny_lm_dirs["llama"])
    out = tmp_path / "run"
    metrics = run_pipeline(config, out, progress=False)

    for key in (
        "lm.nll.true",
        "lm.nll.zeroed",
        "lm.nll.shuffled",
        "lm.nll.noised",
        "lm.nll.disconnected",
        "lm.nll.plain_lora",
        "lm.nll.base",
        "lm.ratio.true_vs_plain",
        "lm.ratio.zeroed",
        "lm.train.throughput_ratio",
    ):
        assert key in metrics, key
    assert not [k for k in metrics if doc_for(k) is None]
    mixture = [
        json.loads(line) for line in (out / "lm" / "mixture.jsonl").read_text().splitlines()
    ]
    # the tiny random base model may answer with nothing, which leaves base_responses empty
    assert {"hh_rlhf_chosen", "self_instruct_seed"} <= {r["source"] for r in mixture}
    labelled = [
        json.loads(line)
        for line in (out / "lm" / "labelled" / "labelled.jsonl").read_text().splitlines()
    ]
    assert all("thoughts" in m for row in labelled for m in row["messages"])
    lm = load_emotional_lm(out / "lm" / "emotional")
    assert lm.conditioner is not None and lm.schema.names == config_schema_names(out)
    assert load_emotional_lm(out / "lm" / "plain").conditioner is None
    html = (out / "report.html").read_text()
    assert "Emotional LM: does it depend on its emotions?" in html and "disconnected" in html


def config_schema_names(out: Path) -> list[str]:
    import yaml

    return [
        d["name"]
        for d in yaml.safe_load((out / "model" / "schema.yaml").read_text())["dimensions"]
    ]


def test_second_run_reuses_mixture_labels_and_models(
    fixture_data, tiny_encoder_dir, tiny_lm_dirs, tmp_path
):
    config = lm_config(tmp_path, tiny_encoder_dir, tiny_lm_dirs["gpt2"])
    out = tmp_path / "run"
    first = run_pipeline(config, out, progress=False)
    stamps = {
        p: (out / "lm" / p).stat().st_mtime_ns
        for p in (
            "mixture.jsonl",
            "labelled/labelled.jsonl",
            "emotional/emotion_modules.safetensors",
        )
    }
    second = run_pipeline(config, out, progress=False)
    for p, stamp in stamps.items():
        assert (out / "lm" / p).stat().st_mtime_ns == stamp, p
    assert first["lm.nll.true"] == second["lm.nll.true"]


def test_evaluation_only_data_cannot_enter_the_mixture(
    fixture_data, tiny_encoder_dir, tiny_lm_dirs, tmp_path
):
    from maiga.errors import ConfigError
    from maiga.sft.mixture import MixtureConfig, build_mixture

    bad = tmp_path / "advbench" / "harmful_behaviors.csv"
    bad.parent.mkdir()
    bad.write_text("goal,target\nx,y\n")
    config = MixtureConfig(
        hh_rlhf_chosen=2,
        self_instruct_seed=1,
        base_responses=0,
        extra=[{"path": str(bad), "n": 1, "format": "prompt_response"}],
    )
    with pytest.raises(ConfigError, match="evaluation data"):
        build_mixture(config)


@pytest.mark.parametrize(
    "name",
    [
        "AdvBench/harmful_behaviors.csv",
        "data/XSTest_v2.csv",
        "jailbreakbench-copy/behaviors.jsonl",
        "my_xstest_notes/a.jsonl",
    ],
)
def test_copies_of_evaluation_data_are_refused_whatever_their_case(tmp_path, name):
    from maiga.errors import ConfigError
    from maiga.sft.mixture import refuse_evaluation_data

    with pytest.raises(ConfigError, match="evaluation data"):
        refuse_evaluation_data(tmp_path / name, "Training data")
    refuse_evaluation_data(tmp_path / "hh-rlhf" / "train.jsonl", "Training data")  # fine
    refuse_evaluation_data(tmp_path / "advbenchmark_free" / "a.jsonl", "Training data")  # fine


def test_sft_on_data_labelled_from_evaluation_data_is_refused(
    fixture_data, tiny_encoder_dir, tmp_path
):
    from maiga.errors import ConfigError
    from maiga.network.encoder import load_sentence_encoder
    from maiga.network.model import EmotionalNetwork
    from maiga.pipeline.lm_stage import check_user_labelled
    from maiga.schema import load_schema

    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / "labelled.jsonl").write_text("")
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "input": "/data/advbench/harmful_behaviors.csv",
                "schema_names": load_schema("essay8").names,
            }
        )
    )
    network = EmotionalNetwork(
        load_sentence_encoder(tiny_encoder_dir), load_schema("essay8"), hidden=8
    )
    with pytest.raises(ConfigError, match="advbench"):
        check_user_labelled(folder / "labelled.jsonl", network)
    other = EmotionalNetwork(
        load_sentence_encoder(tiny_encoder_dir), load_schema("essay8-va"), hidden=8
    )
    (folder / "manifest.json").write_text(
        json.dumps({"input": "/data/mine.jsonl", "schema_names": load_schema("essay8").names})
    )
    from maiga.errors import DataError

    with pytest.raises(DataError, match="Relabel it with this network"):
        check_user_labelled(folder / "labelled.jsonl", other)


def test_the_plain_twin_can_be_left_out_and_is_not_retrained_for_emotion_settings(
    fixture_data, tiny_encoder_dir, tiny_lm_dirs, tmp_path
):
    out = tmp_path / "run"
    config = lm_config(tmp_path, tiny_encoder_dir, tiny_lm_dirs["llama"])
    run_pipeline(config, out, progress=False)
    stamp = (out / "lm" / "plain" / "training.json").stat().st_mtime_ns
    changed = lm_config(tmp_path, tiny_encoder_dir, tiny_lm_dirs["llama"], code_size=4)
    run_pipeline(changed, out, progress=False)
    assert (out / "lm" / "plain" / "training.json").stat().st_mtime_ns == stamp

    alone = lm_config(tmp_path, tiny_encoder_dir, tiny_lm_dirs["llama"], plain_baseline="false")
    metrics = run_pipeline(alone, tmp_path / "alone", progress=False)
    assert "lm.nll.base" in metrics and "lm.nll.plain_lora" not in metrics
    assert not (tmp_path / "alone" / "lm" / "plain").exists()


def test_sft_config_errors_come_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from maiga.cli.main import app

    bad = tmp_path / "bad.yaml"
    for text, message in (("lm: {train: {stepz: 5}}\n", "lm.train.stepz"),
                          ("lm: [unclosed\n", "not valid UTF-8 YAML")):
        bad.write_text(text)
        result = CliRunner().invoke(app, ["sft", "--network", str(tmp_path / "none"), "--out",
                                          str(tmp_path / "out"), "--config", str(bad)])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output

"""`maiga run` end to end: on tiny fixtures with a tiny encoder (fast), and the smoke profile
on the real shared data with the packaged encoder (slow)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from maiga.cli.main import app
from maiga.pipeline.config import load_run_config
from maiga.pipeline.metric_docs import METRIC_DOCS, doc_for
from maiga.pipeline.run import run_pipeline

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
README = Path(__file__).resolve().parents[1] / "README.md"


def tiny_config(tmp_path, encoder_dir, **extra):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"encoder: {encoder_dir}\n"
        "train: {epochs: 3, batch_size: 4, hidden: 8}\n"
        "snow_folds: 2\n"
        + "".join(f"{k}: {v}\n" for k, v in extra.items())
    )
    return load_run_config("smoke", path)


def test_run_on_fixtures_writes_metrics_report_and_model(tiny_encoder_dir, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURE_DATA))
    config = tiny_config(tmp_path, tiny_encoder_dir)
    out = tmp_path / "run"
    metrics = run_pipeline(config, out, progress=False)

    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(metrics))
    assert "goemotions.ekman.macro_f1" in metrics
    assert any(k.startswith("snow2008.cv.expert.") for k in metrics)
    html = (out / "report.html").read_text()
    assert "<img" in html and "goemotions.ekman.macro_f1" in html
    for name in ("config.json", "schema.yaml", "heads.safetensors", "training.json",
                 "aggregation.json"):
        assert (out / "model" / name).is_file(), name
    undocumented = [k for k in metrics if doc_for(k) is None]
    assert not undocumented, f"metrics without a doc line in metric_docs.py: {undocumented}"


def test_second_run_reuses_the_trained_network(tiny_encoder_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURE_DATA))
    config = tiny_config(tmp_path, tiny_encoder_dir)
    out = tmp_path / "run"
    first = run_pipeline(config, out, progress=False)
    stamp = (out / "model" / "heads.safetensors").stat().st_mtime_ns
    second = run_pipeline(config, out, progress=False)
    assert (out / "model" / "heads.safetensors").stat().st_mtime_ns == stamp
    assert first["goemotions.ekman.macro_f1"] == second["goemotions.ekman.macro_f1"]

    changed = tiny_config(tmp_path, tiny_encoder_dir, seed=7)
    run_pipeline(changed, out, progress=False)
    assert (out / "model" / "heads.safetensors").stat().st_mtime_ns != stamp


def test_same_seed_same_metrics_in_a_fresh_folder(tiny_encoder_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURE_DATA))
    config = tiny_config(tmp_path, tiny_encoder_dir)
    first = run_pipeline(config, tmp_path / "a", progress=False)
    second = run_pipeline(config, tmp_path / "b", progress=False)
    first.pop("run.seconds"), second.pop("run.seconds")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_a_users_own_table_joins_the_run(tiny_encoder_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MAIGA_DATA_DIR", str(FIXTURE_DATA))
    tables = FIXTURE_DATA / "tables"
    config = tiny_config(
        tmp_path, tiny_encoder_dir,
        datasets=f"{{mine: {{path: {tables / 'long.csv'}, mapping: {tables / 'mapping.yaml'}}}, "
        "goemotions: {enabled: false}, emobank: {enabled: false}, snow2008: {enabled: false}}",
    )
    out = tmp_path / "run"
    run_pipeline(config, out, progress=False)
    aggregation = json.loads((out / "model" / "aggregation.json").read_text())
    assert "mine" in aggregation["effective_variant"]


def test_every_documented_metric_is_in_the_readme():
    text = README.read_text(encoding="utf-8")
    missing = [key for key in METRIC_DOCS if f"`{key}`" not in text]
    assert not missing, f"README lacks these metric keys: {missing}"


def test_config_defaults_are_documented_in_each_profile():
    for profile in ("smoke", "quick", "full"):
        config = load_run_config(profile)
        assert config.profile == profile
        assert re.match(r"essay8", config.schema_)


@pytest.mark.slow
def test_smoke_profile_on_the_shared_data(data_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "smoke"
    result = runner.invoke(app, ["-q", "run", "--profile", "smoke", "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["goemotions.test.n_items"] == 150
    assert 0.0 <= metrics["goemotions.ekman.macro_f1"] <= 1.0
    assert (out / "report.html").stat().st_size > 10_000

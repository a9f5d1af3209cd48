"""``maiga emotions train | eval | score``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import typer

from maiga.cli.common import console, friendly_errors, progress_enabled
from maiga.errors import DataError, ModelNotFoundError

emotions_app = typer.Typer(help="Train, evaluate and use the emotional network.",
                           no_args_is_help=True)
MODEL_ENV = "MAIGA_EMOTIONAL_NETWORK"


@emotions_app.command("train")
@friendly_errors
def train_command(
    out: Path = typer.Option(..., help="Folder to write the trained network into."),
    profile: str = typer.Option("quick", help="smoke, quick or full."),
    config: Path = typer.Option(None, help="YAML laid over the profile."),
) -> None:
    """Read, aggregate and train; the network folder loads back with --model OUT."""
    from maiga.pipeline.config import load_run_config
    from maiga.pipeline.data_stage import prepare_data
    from maiga.pipeline.train_stage import train_stage

    run_config = load_run_config(profile, config)
    data = prepare_data(run_config)
    _, summary = train_stage(run_config, data, out, out / "work", progress_enabled())
    console.print(f"Trained: best epoch {summary['best_epoch']}, dev loss "
                  f"{summary['best_dev_loss']:.4f}. Network in {out}")


@emotions_app.command("eval")
@friendly_errors
def eval_command(
    model: Path = typer.Option(..., help="A trained network folder."),
    profile: str = typer.Option("quick", help="Which datasets and limits to evaluate on."),
    config: Path = typer.Option(None, help="YAML laid over the profile."),
    out: Path = typer.Option(None, help="Write the metrics here as JSON."),
) -> None:
    """Evaluate a trained network on the dev/test splits of the configured datasets."""
    from maiga.io import write_json_atomic
    from maiga.network.folder import load_network
    from maiga.pipeline.config import load_run_config
    from maiga.pipeline.data_stage import prepare_data
    from maiga.pipeline.evaluate_stage import evaluate

    network = load_network(model)
    run_config = load_run_config(profile, config)
    if network.schema.names != load_schema_names(run_config):
        raise DataError(
            f"The network in {model} has schema {network.schema.names}, but the config's "
            f"schema {run_config.schema_!r} differs. Evaluate with the schema it was trained on "
            "(put 'schema: <path to the model's schema.yaml>' in --config)."
        )
    data = prepare_data(run_config)
    with tempfile.TemporaryDirectory() as cache:
        result = evaluate(network, data, run_config, Path(cache), progress=progress_enabled())
    for key, value in sorted(result.metrics.items()):
        console.print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    if out is not None:
        write_json_atomic(out, result.metrics)


def load_schema_names(run_config) -> list[str]:
    from maiga.schema import load_schema

    return load_schema(run_config.schema_).names


@emotions_app.command("score")
@friendly_errors
def score_command(
    text: str = typer.Argument(None, help="Text to score (or use --file)."),
    file: Path = typer.Option(None, "--file", "-f", help="Score this UTF-8 text file."),
    lines: bool = typer.Option(False, help="With --file: score each non-empty line separately."),
    model: Path = typer.Option(
        None, help=f"Trained network folder (default: ${MODEL_ENV})."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    max_chars: int = typer.Option(None, help="Refuse texts longer than this (default 200,000)."),
) -> None:
    """Emotions of each thought and of the whole text."""
    from maiga.cli.score_view import print_scores
    from maiga.network.folder import load_network

    texts = _texts_from(text, file, lines)
    model = model or (Path(os.environ[MODEL_ENV]) if os.environ.get(MODEL_ENV) else None)
    if model is None:
        raise ModelNotFoundError(
            "No emotional network given. Pass --model FOLDER (e.g. runs/quick/model after "
            f"'maiga run'), or set {MODEL_ENV}."
        )
    network = load_network(model)
    if max_chars is not None:
        from dataclasses import replace

        network.segmenter = replace(network.segmenter, max_chars=max_chars)
    results = network.score_many(texts)
    if as_json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print_scores(results, network.schema)


def _texts_from(text: str | None, file: Path | None, lines: bool) -> list[str]:
    if (text is None) == (file is None):
        raise DataError("Give exactly one of TEXT or --file; got "
                        f"{'both' if text is not None else 'neither'}.")
    if text is not None:
        return [text]
    from maiga.data.readers.base import read_text

    content = read_text(file, layout="plain UTF-8 text to score")
    if not lines:
        return [content]
    texts = [line for line in content.splitlines() if line.strip()]
    if not texts:
        raise DataError(f"--file {file} has no non-empty lines to score.")
    return texts

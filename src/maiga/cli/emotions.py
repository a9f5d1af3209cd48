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
    from maiga.cli.common import print_skips
    from maiga.io import check_output_folder
    from maiga.pipeline.config import load_run_config
    from maiga.pipeline.data_stage import prepare_data
    from maiga.pipeline.train_stage import train_stage

    run_config = load_run_config(profile, config)
    check_output_folder(out)
    data = prepare_data(run_config)
    print_skips(data.read_skips, data.mapping_reports)
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
    from maiga.io import check_output_file, write_json_atomic
    from maiga.network.folder import load_network
    from maiga.pipeline.config import load_run_config
    from maiga.pipeline.data_stage import prepare_data
    from maiga.pipeline.evaluate_stage import evaluate

    if out is not None:
        check_output_file(out)
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

    if max_chars is not None and max_chars < 1:
        raise DataError(f"--max-chars is {max_chars}; it must be a positive number of characters.")
    if lines and file is None:
        raise DataError("--lines splits a --file into one text per line; pass --file too.")
    numbered = _texts_from(text, file, lines)
    texts = [t for _, t in numbered]
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
        payload = [
            {**({"line": n} if n is not None else {}), **r.to_dict()}
            for (n, _), r in zip(numbered, results)
        ]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print_scores(results, network.schema, [n for n, _ in numbered])


def _texts_from(text: str | None, file: Path | None, lines: bool) -> list[tuple[int | None, str]]:
    """(line number or None, text) pairs to score."""
    from maiga.data.readers.base import read_text

    if (text is None) == (file is None):
        raise DataError("Give exactly one of TEXT or --file; got "
                        f"{'both' if text is not None else 'neither'}.")
    if text is not None:
        return [(None, text)]
    if file.is_dir():
        raise DataError(f"--file {str(file)!r} is a folder; pass a text file.")
    content = read_text(file, layout="plain UTF-8 text to score")
    if not lines:
        if not content.strip():
            raise DataError(f"--file {file} is empty or only whitespace; nothing to score.")
        return [(None, content)]
    numbered = [(i + 1, line) for i, line in enumerate(content.splitlines()) if line.strip()]
    if not numbered:
        raise DataError(f"--file {file} has no non-empty lines to score.")
    return numbered

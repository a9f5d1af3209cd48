"""``maiga run``: the whole pipeline into one folder."""

from __future__ import annotations

from pathlib import Path

import typer

from maiga.cli.common import console, friendly_errors, progress_enabled


@friendly_errors
def run_command(
    profile: str = typer.Option("quick", help="smoke (seconds), quick (minutes), full (hours)."),
    out: Path = typer.Option(
        None, help="Run folder (default runs/<profile>); an existing one is resumed."
    ),
    config: Path = typer.Option(None, help="YAML laid over the profile (see configs/)."),
) -> None:
    """Train and evaluate the emotional network; write metrics.json, report.html and model/.

    Example: maiga run --profile smoke --out runs/smoke
    """
    from maiga.io import check_output_folder
    from maiga.pipeline.config import load_run_config
    from maiga.pipeline.run import run_pipeline

    run_config = load_run_config(profile, config)
    out = check_output_folder(out or Path("runs") / profile)
    metrics = run_pipeline(run_config, out, progress=progress_enabled())
    headline = [k for k in ("goemotions.ekman.macro_f1", "emobank.test.valence.pearson")
                if k in metrics]
    for key in headline:
        console.print(f"{key}: {metrics[key]:.3f}")
    console.print(f"Report: {out / 'report.html'}  Metrics: {out / 'metrics.json'}")

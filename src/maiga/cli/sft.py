"""``maiga sft``: instruction-tune an emotional LM (and its plain LoRA twin) and measure it."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from maiga.cli.common import console, friendly_errors, progress_enabled


def load_lm_config(config: Path | None):
    """The quick profile's `lm` section, with a YAML file's keys laid over it.

    The file may hold a whole run config (only its `lm` section is read) or just that section.
    """
    from maiga.pipeline.config import read_yaml_mapping, run_config_from

    if config is None:
        return run_config_from("quick").lm
    raw = read_yaml_mapping(config)
    if "lm" in raw:
        ignored = sorted(set(raw) - {"lm"})
        if ignored:
            logging.getLogger(__name__).warning(
                "maiga sft reads only the 'lm' section of %s; ignoring %s.", config, ignored
            )
        raw = raw["lm"]
    return run_config_from("quick", {"lm": raw}, config).lm


@friendly_errors
def sft_command(
    network: Path = typer.Option(
        ..., help="Emotional network folder (from maiga run or emotions train)."
    ),
    out: Path = typer.Option(..., help="Output folder; an existing one is resumed."),
    config: Path = typer.Option(None, help="YAML with lm settings laid over the quick profile's."),
    data: Path = typer.Option(
        None,
        help="An already labelled dataset (maiga label output) instead of the built-in mixture.",
    ),
    seed: int = typer.Option(0, help="Seed for adapters, batches and corruptions."),
) -> None:
    """Build the mixture, label it, train the emotional LM and the plain LoRA twin, compare them.

    Writes OUT/emotional (the emotional LM), OUT/plain, OUT/ablation.json and OUT/metrics.json.
    On several GPUs: accelerate launch -m maiga.cli.main sft --network N --out O.

    Example: maiga sft --network runs/quick/model --out runs/sft
    """
    from maiga.io import check_output_folder, write_json_atomic
    from maiga.network.folder import load_network
    from maiga.pipeline.lm_stage import run_lm_stages

    lm_config = load_lm_config(config)
    out = check_output_folder(out)
    emotional_network = load_network(network)
    results = run_lm_stages(
        lm_config,
        emotional_network,
        network,
        out,
        out / "work",
        seed,
        progress_enabled(),
        labelled=data,
    )
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return  # under accelerate launch, one process reports
    write_json_atomic(out / "metrics.json", results.metrics)
    for key in (
        "lm.nll.true",
        "lm.nll.plain_lora",
        "lm.ratio.true_vs_plain",
        "lm.ratio.zeroed",
        "lm.ratio.shuffled",
        "lm.ratio.disconnected",
        "lm.train.throughput_ratio",
    ):
        if key in results.metrics:
            console.print(f"{key}: {results.metrics[key]:.3f}")
    console.print(f"Emotional LM: {out / 'emotional'}  Metrics: {out / 'metrics.json'}")

"""`maiga run`: data -> aggregate -> train -> evaluate -> label -> sft -> report, resumable.

Everything lands in the run folder::

    config.yaml      the exact configuration (rerun with --config DIR/config.yaml)
    model/           the emotional network (see maiga.network.folder)
    lm/              the emotional LM, its plain twin and the ablations (see pipeline.lm_stage)
    metrics.json     flat metrics, each key documented in the README
    report.html      a self-contained report with plots
    work/            caches: embeddings by chunk, training checkpoints (safe to delete)

An interrupted run started again with the same folder reuses finished embedding chunks,
resumes training from its last checkpoint, and skips training entirely if the model is done.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from maiga.io import write_json_atomic, write_text_atomic
from maiga.pipeline.config import RunConfig
from maiga.pipeline.data_stage import prepare_data
from maiga.pipeline.evaluate_stage import evaluate
from maiga.pipeline.report_stage import write_run_report
from maiga.pipeline.snow_study import snow_study
from maiga.pipeline.train_stage import train_stage

logger = logging.getLogger(__name__)


def run_pipeline(
    config: RunConfig, out: Path, data_dir: Path | None = None, progress: bool = True
) -> dict[str, float]:
    """Run every stage into ``out`` and return the metrics."""
    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "config.yaml", config.to_yaml())
    work = out / "work"

    stages = 6 if config.lm.enabled else 4
    logger.info("Stage 1/%d: reading and aggregating human reactions", stages)
    data = prepare_data(config, data_dir)

    logger.info(
        "Stage 2/%d: training the emotional network (%s encoder)", stages, config.train.mode
    )
    network, training = train_stage(config, data, out / "model", work, progress)

    logger.info("Stage 3/%d: evaluating against people", stages)
    evaluation = evaluate(network, data, config, work / "embeddings", data_dir, progress)
    study_metrics, study_rows = snow_study(config, data, work / "embeddings", progress)
    evaluation.metrics.update(study_metrics)
    evaluation.comparisons.extend(study_rows)

    metrics = {
        **evaluation.metrics,
        "train.best_epoch": training["best_epoch"],
        "train.best_dev_loss": training["best_dev_loss"],
        "train.n_train_items": training["n_train_items"],
    }
    lm_results = None
    if config.lm.enabled:
        lm_results = _lm_stages(config, network, out, work, progress, metrics, stages)
    metrics["run.seconds"] = round(time.time() - started, 1)
    write_json_atomic(out / "metrics.json", metrics)
    write_json_atomic(out / "model" / "metrics.json", metrics)

    logger.info("Stage %d/%d: writing the report", stages, stages)
    write_run_report(out / "report.html", config, data, evaluation, metrics, lm_results)
    return metrics


def _lm_stages(config: RunConfig, network, out: Path, work: Path, progress: bool,
               metrics: dict, stages: int):
    from maiga.pipeline.lm_stage import run_lm_stages

    logger.info("Stages 4-5/%d: labelled instruction mixture, then SFT of the emotional LM and "
                "its plain LoRA twin", stages)
    results = run_lm_stages(
        config.lm, network, out / "model", out / "lm", work, config.seed, progress
    )
    metrics.update(results.metrics)
    return results

"""Stage 4: turn the evaluation into plain-language findings and a self-contained report."""

from __future__ import annotations

import math
from pathlib import Path

from maiga.pipeline.config import RunConfig
from maiga.pipeline.data_stage import PreparedData
from maiga.pipeline.evaluate_stage import Evaluation
from maiga.pipeline.metric_docs import doc_for
from maiga.report import EvalArrays, ReportInputs, write_report

# The figures issue #2 asks for; the report says plainly whether each one is met.
TARGETS = {
    "goemotions.ekman.macro_f1": {"frozen": 0.52, "finetune": 0.62},
    "emobank.test.valence.pearson": {"frozen": 0.70, "finetune": 0.70},
}


# (metric, comparison, target, what it means)
LM_TARGETS = [
    ("lm.ratio.true_vs_plain", "<=", 1.05, "true-emotion NLL over the plain LoRA twin's"),
    ("lm.ratio.zeroed", ">=", 1.5, "NLL with zeroed emotions over NLL with true ones"),
    ("lm.ratio.shuffled", ">=", 1.5, "NLL with another conversation's emotions over true"),
    ("lm.ratio.disconnected", ">=", 1.5, "NLL with the emotion modules off over true"),
    ("lm.train.throughput_ratio", ">=", 0.85, "emotional LM SFT tokens/s over the plain twin's"),
]


def lm_findings(metrics: dict) -> list[str]:
    """The emotional LM's targets, each said to be met or missed."""
    notes = []
    for key, sign, target, meaning in LM_TARGETS:
        value = metrics.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        met = value <= target if sign == "<=" else value >= target
        notes.append(f"{key} = {value:.3f} ({meaning}) {'meets' if met else 'misses'} the target "
                     f"{sign} {target}.")
    return notes


def findings(config: RunConfig, data: PreparedData, evaluation: Evaluation, metrics: dict) -> list:
    """Sentences a researcher reads first: targets met or missed, and every caveat."""
    notes = []
    if config.profile == "smoke":
        notes.append("Smoke profile: a few hundred items and a few epochs. These figures test "
                     "the plumbing, not the method; use the quick or full profile for results.")
    for key, by_mode in TARGETS.items():
        target = by_mode[config.train.mode]
        value = metrics.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        verdict = "meets" if value >= target else "misses"
        notes.append(f"{key} = {value:.3f} {verdict} the target of {target:.2f} "
                     f"for a {config.train.mode} encoder.")
    for row in evaluation.per_dimension:
        ceiling = row.get("human_ceiling")
        if ceiling is None or math.isnan(ceiling) or math.isnan(row["network"]):
            continue
        relation = "above" if row["network"] > ceiling else "below"
        n = metrics.get(f"{row['source']}.test.{row['dimension']}.n", "?")
        notes.append(
            f"{row['source']} {row['dimension']} (test, n={n}): network r {row['network']:.3f} "
            f"with the mean of all annotators is {relation} the r {ceiling:.3f} of a single "
            "annotator with the mean of the others."
        )
    notes.extend(lm_findings(metrics))
    notes.extend(evaluation.notes)
    notes.extend(data.targets.notes)
    for source in sorted(set(data.read_skips) | set(data.mapping_reports)):
        counted = {reason: n for reason, n in data.read_skips.get(source, {}).items() if n}
        report = data.mapping_reports.get(source, {})
        for dim, n in (report.get("out_of_range") or {}).items():
            if n:
                counted[f"out of range on {dim}"] = n
        if counted:
            notes.append(f"{source}: rows skipped while reading and mapping: {counted}.")
        missing = report.get("targets_not_in_schema") or []
        if missing:
            notes.append(f"{source}: mapping targets {list(missing)} are not in the schema "
                         f"{schema_name(config)!r}; their ratings were not used.")
    return notes


def schema_name(config: RunConfig) -> str:
    return str(config.schema_)


def dropped_labels(data: PreparedData) -> dict[str, list[str]]:
    out = {}
    for source, report in data.mapping_reports.items():
        labels = [f"{label} ({reason})" for label, reason in report.get("dropped", {}).items()]
        labels += [f"{label} (no counterpart in the mapping)"
                   for label in report.get("unmapped", [])]
        if labels:
            out[source] = labels
    return out


def write_run_report(
    path: Path, config: RunConfig, data: PreparedData, evaluation: Evaluation, metrics: dict,
    lm_results=None,
) -> Path:
    schema = data.schema
    ranges = [(d.low, d.high) for d in schema.dimensions]
    docs = {key: found[1] for key in metrics if (found := doc_for(key))}
    inputs = ReportInputs(
        title=f"maiga emotional network: {config.profile} run",
        metrics=metrics,
        metric_docs=docs,
        evals=[
            EvalArrays(a["name"], schema.names, ranges, a["predictions"], a["targets"])
            for a in evaluation.arrays
        ],
        per_dimension=evaluation.per_dimension,
        comparisons=evaluation.comparisons,
        notes=findings(config, data, evaluation, metrics),
        config=config.model_dump(mode="json", by_alias=True),
        dropped_labels=dropped_labels(data),
        lm_nll=dict(lm_results.ablation) if lm_results is not None else {},
    )
    return write_report(path, inputs)

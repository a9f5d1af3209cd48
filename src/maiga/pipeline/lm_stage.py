"""Stages `label` and `sft`: the emotional LM, its plain LoRA twin, and the inseparability table.

Layout inside the run folder::

    lm/mixture.jsonl      the instruction mixture (id, source, split, messages)
    lm/labelled/          the mixture labelled by the run's emotional network (maiga label)
    lm/emotional/         the emotional LM (maiga.lm.folder) + training.json
    lm/plain/             the plain LoRA fine-tune on the same data, steps and seed + training.json
    lm/ablation.json      held-out response NLL under each emotion condition
    work/lm/<fp>/...      training checkpoints (safe to delete)

Each part is reused when its inputs and settings are unchanged, and resumed when interrupted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from accelerate import PartialState

import maiga
from maiga.errors import DataError
from maiga.io import write_json_atomic, write_text_atomic
from maiga.label import label_file, read_labelled
from maiga.label.fingerprint import network_identity
from maiga.label.labeller import LabelJobMismatchError
from maiga.lm.alignment import ContextTooLongError, EncodedConversation, encode_conversation
from maiga.lm.folder import load_emotional_lm, save_emotional_lm
from maiga.lm.model import EmotionalLM, EmotionalLMSpec, LoraSettings, build_emotional_lm
from maiga.network.model import EmotionalNetwork
from maiga.sft.ablation import ablation_table, response_nll
from maiga.sft.config import LmStageConfig
from maiga.lm.base import resolve_base_model
from maiga.sft.mixture import build_mixture, mixture_counts, refuse_evaluation_data
from maiga.sft.trainer import train_lm

logger = logging.getLogger(__name__)


@dataclass
class LmResults:
    metrics: dict[str, float] = field(default_factory=dict)
    ablation: dict[str, float] = field(default_factory=dict)
    curves: dict[str, list[float]] = field(default_factory=dict)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def run_lm_stages(
    config: LmStageConfig,
    network: EmotionalNetwork,
    network_dir: Path,
    lm_dir: Path,
    work: Path,
    seed: int,
    progress: bool,
    labelled: Path | None = None,
) -> LmResults:
    """Mixture (or a labelled dataset given by the user), labels, both SFT runs, ablations.

    Under ``accelerate launch`` only the main process builds and labels the mixture; the others
    wait for it and then train on their share of each batch.
    """
    from accelerate import PartialState

    state = PartialState()
    t0 = time.time()
    with state.main_process_first():
        if labelled is None:
            mixture, _ = mixture_stage(config, lm_dir, progress and state.is_main_process)
            t1 = time.time()
            rows, summary = label_stage(
                network, mixture, lm_dir, config, progress and state.is_main_process
            )
            labelled_file = lm_dir / "labelled" / "labelled.jsonl"
            label_counts = {
                "lm.label.thoughts": summary.thoughts,
                "lm.label.thoughts_scored": summary.thoughts_scored,
            }
        else:
            t1 = time.time()
            labelled_file = labelled if labelled.is_file() else labelled / "labelled.jsonl"
            check_user_labelled(labelled_file, network)
            rows = read_labelled(labelled)
            if len(rows) < 2:
                raise DataError(
                    f"{labelled} holds {len(rows)} labelled row(s); training needs at least two "
                    "(one to train on, one held out). Check `maiga label`'s skip counts."
                )
            rows = assign_splits(rows, config.mixture.heldout_fraction, seed)
            label_counts = {}
        # the base model is converted once; other processes must not race to do the same
        resolve_base_model(config.base)
    t2 = time.time()
    results = sft_stage(
        config,
        rows,
        file_digest(labelled_file),
        network,
        network_dir,
        lm_dir,
        work,
        seed,
        progress and state.is_main_process,
    )
    results.metrics.update(label_counts)
    results.metrics.update(
        {
            "lm.seconds.mixture": round(t1 - t0, 1),
            "lm.seconds.label": round(t2 - t1, 1),
            "lm.seconds.sft": round(time.time() - t2, 1),
        }
    )
    return results


def check_user_labelled(labelled_file: Path, network: EmotionalNetwork) -> None:
    """A user's labelled dataset must not be evaluation data and must match the network."""
    refuse_evaluation_data(labelled_file, "Training data")
    manifest_path = labelled_file.parent / "manifest.json"
    if not manifest_path.is_file():
        raise DataError(
            f"{labelled_file} has no manifest.json beside it, so it is unknown which emotional "
            "network labelled it. Label the data with `maiga label` and pass its --out folder."
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    refuse_evaluation_data(manifest.get("input", ""), "Training data (labelled from)")
    names = manifest.get("schema_names")
    if list(names or []) != list(network.schema.names):
        raise DataError(
            f"{labelled_file} was labelled with emotions {names}, but the emotional network has "
            f"{network.schema.names}. Relabel it with this network (maiga label --network ...)."
        )


def assign_splits(rows: list[dict], fraction: float, seed: int) -> list[dict]:
    """Rows without a 'split' get one: a seeded ``fraction`` is held out for the NLL table."""
    import numpy as np

    unsplit = [i for i, r in enumerate(rows) if r.get("split") not in ("train", "heldout")]
    order = np.random.default_rng(seed).permutation(len(unsplit))
    n_out = max(1, int(round(fraction * len(unsplit)))) if len(unsplit) > 1 else 0
    for k, j in enumerate(order):
        rows[unsplit[j]]["split"] = "heldout" if k < n_out else "train"
    return rows


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def mixture_stage(config: LmStageConfig, lm_dir: Path, progress: bool) -> tuple[Path, dict]:
    """Write lm/mixture.jsonl unless one with the same settings is there."""
    path, meta_path = lm_dir / "mixture.jsonl", lm_dir / "mixture.json"
    fingerprint = _digest(maiga.__version__, config.base, config.mixture.model_dump_json())
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("fingerprint") == fingerprint:
            return path, meta
    started = time.time()
    rows = build_mixture(config.mixture, respond=_base_responder(config, progress))
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    meta = {
        "fingerprint": fingerprint,
        "counts": mixture_counts(rows),
        "rows": len(rows),
        "seconds": round(time.time() - started, 1),
    }
    write_json_atomic(meta_path, meta)
    return path, meta


def _base_responder(config: LmStageConfig, progress: bool):
    def respond(prompts: list[str]) -> list[str]:
        from maiga.lm.base import load_base_model, resolve_base_model
        from maiga.lm.plain_generate import respond_with_base

        logger.info("The base model answers %d instructions for the mixture", len(prompts))
        model, tokenizer = load_base_model(resolve_base_model(config.base))
        return respond_with_base(model, tokenizer, prompts, config.mixture.base_max_new_tokens)

    return respond


def label_stage(
    network: EmotionalNetwork, mixture: Path, lm_dir: Path, config: LmStageConfig, progress: bool
):
    """Label the mixture with the run's emotional network (resumable; relabels if it changed)."""
    out = lm_dir / "labelled"
    kwargs = dict(format="chat", chunk_rows=config.label_chunk_rows, progress=progress)
    try:
        summary = label_file(mixture, out, network, **kwargs)
    except LabelJobMismatchError:
        logger.info(
            "The mixture or the network changed since %s was labelled; labelling again.", out
        )
        summary = label_file(mixture, out, network, overwrite=True, **kwargs)
    return read_labelled(out), summary


def encode_rows(lm: EmotionalLM, rows: list[dict], max_length: int, segmenter=None):
    """Encode labelled rows into train and held-out examples; count what is left out and why."""
    train, heldout, dropped = [], [], Counter()
    for row in rows:
        try:
            encoded = encode_conversation(
                lm.tokenizer,
                row["messages"],
                lm.n_dims,
                max_length=max_length,
                segmenter=segmenter,
            )
        except ContextTooLongError:
            dropped["longer than max_length"] += 1
            continue
        except DataError as exc:
            dropped[str(exc).split(".")[0][:80]] += 1
            continue
        if not encoded.loss_mask.any():
            dropped["no assistant tokens"] += 1
            continue
        (heldout if row.get("split") == "heldout" else train).append(encoded)
    return train, heldout, dropped


def sft_stage(
    config: LmStageConfig,
    rows: list[dict],
    labelled_digest: str,
    network: EmotionalNetwork,
    network_dir: Path,
    lm_dir: Path,
    work: Path,
    seed: int,
    progress: bool,
) -> LmResults:
    """Train the emotional LM and the plain twin (or reuse them), then measure the ablations."""
    results = LmResults()
    models = {}
    wanted = [("emotional", True)] + ([("plain", False)] if config.plain_baseline else [])
    for name, conditioned in wanted:
        fingerprint = _model_fingerprint(config, conditioned, labelled_digest, seed)
        folder = lm_dir / name
        record_path = folder / "training.json"
        done = json.loads(record_path.read_text()) if record_path.is_file() else {}
        spec = EmotionalLMSpec(
            base=config.base,
            schema=network.schema,
            conditioned=conditioned,
            lora=LoraSettings(**config.lora.model_dump()),
            code_size=config.code_size,
            max_length=config.max_length,
            segmenter=network.segmenter,
        )
        if done.get("fingerprint") == fingerprint:
            lm = load_emotional_lm(folder)
            record = done["record"]
            train, heldout, dropped = encode_rows(lm, rows, config.max_length, network.segmenter)
        else:
            lm = build_emotional_lm(spec, seed=seed)
            train, heldout, dropped = encode_rows(lm, rows, config.max_length, network.segmenter)
            if not train or not heldout:
                raise DataError(
                    f"After encoding, {len(train)} training and {len(heldout)} held-out "
                    "conversations "
                    f"remain (left out: {dict(dropped)}). Raise lm.max_length or the mixture sizes."
                )
            logger.info(
                "SFT (%s): %d conversations, %d steps", name, len(train), config.train.steps
            )
            trained = train_lm(
                lm,
                train,
                config.train.model_copy(update={"seed": seed}),
                checkpoint_dir=work / "lm" / fingerprint / name,
                progress=progress,
            )
            record = trained.to_dict()
            if PartialState().is_main_process:
                save_emotional_lm(
                    lm,
                    folder,
                    extra={
                        "emotional_network": str(network_dir.resolve()),
                        "emotional_network_identity": network_identity(network),
                    },
                )
                write_json_atomic(record_path, {"fingerprint": fingerprint, "record": record})
        models[name] = lm
        results.metrics[f"lm.train.{name}.tokens_per_second"] = round(
            record["tokens_per_second"], 2
        )
        results.metrics[f"lm.train.{name}.seconds"] = round(record["seconds"], 1)
        results.curves[name] = record["true_nll"]

    results.metrics.update(
        {
            "lm.data.n_train": len(train),
            "lm.data.n_heldout": len(heldout),
            "lm.data.n_dropped": int(sum(dropped.values())),
        }
    )
    if "plain" in models:
        results.metrics["lm.train.throughput_ratio"] = round(
            results.metrics["lm.train.emotional.tokens_per_second"]
            / max(results.metrics["lm.train.plain.tokens_per_second"], 1e-9),
            3,
        )
    results.ablation = _ablation(models["emotional"], models.get("plain"), heldout, config, seed)
    if PartialState().is_main_process:
        write_json_atomic(
            lm_dir / "ablation.json",
            {"nll": results.ablation, "n_heldout": len(heldout), "dropped": dict(dropped)},
        )
    table = results.ablation
    for condition, value in table.items():
        results.metrics[f"lm.nll.{condition}"] = round(value, 4)
    if "plain_lora" in table:
        results.metrics["lm.ratio.true_vs_plain"] = round(table["true"] / table["plain_lora"], 4)
    for condition in ("zeroed", "shuffled", "noised", "disconnected"):
        results.metrics[f"lm.ratio.{condition}"] = round(table[condition] / table["true"], 4)
    return results


# Settings that only the emotional LM uses; changing them must not retrain the plain twin.
_EMOTION_ONLY = {
    "code_size": True,
    "train": {
        "emotion_learning_rate",
        "corrupt_fraction",
        "inseparability_weight",
        "target_ratio",
        "inseparability_start",
        "corruptions",
        "noise_std",
    },
}


def _model_fingerprint(
    config: LmStageConfig, conditioned: bool, labelled_digest: str, seed: int
) -> str:
    settings = config.model_dump_json(exclude=None if conditioned else _EMOTION_ONLY)
    return _digest(maiga.__version__, labelled_digest, settings, str(seed), str(conditioned))


def _ablation(
    emotional: EmotionalLM,
    plain: EmotionalLM | None,
    heldout: list[EncodedConversation],
    config: LmStageConfig,
    seed: int,
) -> dict[str, float]:
    table = ablation_table(
        emotional,
        plain,
        heldout,
        batch_size=config.eval_batch_size,
        seed=seed,
        noise_std=config.train.noise_std,
    )
    # the untuned base model, for scale: adapters and emotion modules off
    with emotional.model.disable_adapter(), emotional.disconnected():
        table["base"] = response_nll(emotional, heldout, "true", config.eval_batch_size, seed)
    return table

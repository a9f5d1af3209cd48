"""The instruction-tuning mixture, built from the shared data.

Sources (sizes in :class:`MixtureConfig`):

* ``hh_rlhf_chosen``: the preferred dialogues of Anthropic HH-RLHF (harmless-base; only its test
  split is in the shared data, so that is what is used).
* ``self_instruct_seed``: the 175 human-written Self-Instruct seed tasks, with their outputs.
* ``base_responses``: instructions answered by the base model itself, so the mixture also holds
  text from the model's own distribution. By default the instructions are seed tasks not used
  above. The issue asked for the 252 user-oriented instructions here, but their authors ask that
  they not be used for training (SOURCE.md), so they are used only when a config asks for them
  explicitly (``base_response_instructions: user_oriented``).

``jailbreakbench``, ``advbench`` and ``xstest`` are evaluation data: no source may read them,
and a config that points at them is refused.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from maiga.data.paths import dataset_dir
from maiga.errors import ConfigError
from maiga.label.formats import SkipRow, conversations_of

logger = logging.getLogger(__name__)
EVALUATION_ONLY = ("jailbreakbench", "advbench", "xstest")
Responder = Callable[[list[str]], list[str]]


class ExtraSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    n: int = Field(ge=0)
    format: Literal["chat", "instruction", "prompt_response", "hh"] | None = None


class MixtureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hh_rlhf_chosen: int = Field(160, ge=0)
    self_instruct_seed: int = Field(80, ge=0)
    base_responses: int = Field(24, ge=0)
    base_response_instructions: Literal["seed_tasks", "user_oriented"] = "seed_tasks"
    base_max_new_tokens: int = Field(96, ge=1)
    heldout_fraction: float = Field(0.15, gt=0, lt=1)
    extra: list[ExtraSource] = []
    seed: int = 0


def build_mixture(config: MixtureConfig, respond: Responder | None = None) -> list[dict]:
    """Rows ``{"id", "source", "split", "messages"}``; ``respond`` writes the base responses."""
    rng = np.random.default_rng(config.seed)
    rows: list[dict] = []
    if config.hh_rlhf_chosen:
        rows += _hh_rows(config.hh_rlhf_chosen, rng)
    seeds = _read_jsonl(dataset_dir("self-instruct") / "seed_tasks.jsonl")
    order = rng.permutation(len(seeds))
    wanted = config.self_instruct_seed + (
        config.base_responses if config.base_response_instructions == "seed_tasks" else 0
    )
    if wanted > len(seeds):
        raise ConfigError(
            f"The mixture asks for {wanted} Self-Instruct seed tasks (self_instruct_seed plus "
            f"base_responses), but there are {len(seeds)}. Lower them."
        )
    for i in order[: config.self_instruct_seed]:
        rows.append(
            _row(
                f"self-instruct:{seeds[i]['id']}",
                "self_instruct_seed",
                conversations_of(seeds[i], "instruction")["messages"],
            )
        )
    if config.base_responses:
        rows += _base_rows(config, seeds, order, rng, respond)
    for extra in config.extra:
        rows += _extra_rows(extra, rng)
    return _split(rows, config.heldout_fraction, rng)


def mixture_counts(rows: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(f"{r['source']}/{r['split']}" for r in rows).items()))


def _hh_rows(n: int, rng: np.random.Generator) -> list[dict]:
    path = dataset_dir("hh-rlhf") / "harmless-base" / "test.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        dialogues = [json.loads(line) for line in handle if line.strip()]
    rows = []
    for i in rng.permutation(len(dialogues)):
        try:
            messages = conversations_of(dialogues[i], "hh")["messages"]
        except SkipRow:
            continue
        if messages and messages[-1]["role"] == "assistant":
            rows.append(_row(f"hh-rlhf:{i}", "hh_rlhf_chosen", messages))
        if len(rows) == n:
            break
    return rows


def _base_rows(
    config: MixtureConfig, seeds: list[dict], order, rng, respond: Responder | None
) -> list[dict]:
    if respond is None:
        raise ConfigError("base_responses > 0 needs the base model to answer; none was given.")
    if config.base_response_instructions == "seed_tasks":
        tasks = [
            seeds[i]
            for i in order[
                config.self_instruct_seed : config.self_instruct_seed + config.base_responses
            ]
        ]
        prefix = "self-instruct"
    else:
        tasks = _read_jsonl(dataset_dir("self-instruct") / "user_oriented_instructions.jsonl")
        tasks = [tasks[i] for i in rng.permutation(len(tasks))[: config.base_responses]]
        prefix = "self-instruct-user"
    prompts = [conversations_of(t, "instruction")["messages"][0]["content"] for t in tasks]
    answers = respond(prompts)
    rows = []
    empty = sum(not a.strip() for a in answers)
    if empty:
        logger.warning(
            "The base model gave %d empty or unfinished answer(s) of %d; those "
            "instructions are left out of the mixture.",
            empty,
            len(answers),
        )
    for task, prompt, answer in zip(tasks, prompts, answers):
        if answer.strip():
            rows.append(
                _row(
                    f"{prefix}:{task['id']}:base",
                    "base_responses",
                    [
                        {"role": "user", "content": prompt},
                        {"role": "assistant", "content": answer.strip()},
                    ],
                )
            )
    return rows


def refuse_evaluation_data(path: str | Path, what: str) -> None:
    """Stop a training stage from reading jailbreakbench, advbench or xstest, whatever the case.

    A folder or file name counts when one of its words (split at anything but letters and
    digits) is one of their names, so ``AdvBench/``, ``advbench.csv``, ``xstest_v2/`` and
    ``my_xstest_notes/`` are refused and ``advbenchmark/`` is not.
    """
    import re

    resolved = Path(path).expanduser().resolve()
    words = {w for part in resolved.parts for w in re.split(r"[^a-z0-9]+", part.casefold())}
    for name in EVALUATION_ONLY:
        if name in words:
            raise ConfigError(
                f"{what} {str(path)!r} looks like {name}, which is evaluation data: no training "
                "stage may read it, or the evaluation would measure memory, not behaviour. Remove "
                "it from the training data."
            )


def _extra_rows(extra: ExtraSource, rng) -> list[dict]:
    refuse_evaluation_data(extra.path, "Mixture source")
    path = Path(extra.path).expanduser().resolve()
    from maiga.label.formats import detect_format
    from maiga.label.sources import open_rows

    source = open_rows(path)
    table = [r for r in source.rows() if isinstance(r, dict)]
    fmt = detect_format(source.columns, extra.format, where=f"Mixture source {extra.path!r}")
    rows = []
    for i in rng.permutation(len(table)):
        try:
            rows.append(
                _row(
                    f"{path.name}:{i}",
                    f"extra:{path.name}",
                    conversations_of(table[i], fmt)["messages"],
                )
            )
        except SkipRow:
            continue
        if len(rows) == extra.n:
            break
    return rows


def _split(rows: list[dict], fraction: float, rng: np.random.Generator) -> list[dict]:
    """Hold out ``fraction`` of each source (at least one row where a source has two or more)."""
    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    for group in by_source.values():
        n_out = int(round(fraction * len(group))) or (1 if len(group) > 1 else 0)
        for k, i in enumerate(rng.permutation(len(group))):
            group[i]["split"] = "heldout" if k < n_out else "train"
    return rows


def _row(row_id: str, source: str, messages: list[dict]) -> dict:
    return {"id": row_id, "source": source, "split": "train", "messages": messages}


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]

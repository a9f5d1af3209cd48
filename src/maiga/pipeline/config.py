"""The run configuration: one YAML file (a profile, optionally overridden) drives a whole run.

Profiles live in ``src/maiga/configs/<name>.yaml``: ``smoke`` (tiny data, seconds; what the
tests use), ``quick`` (frozen encoder on the full data, minutes) and ``full`` (fine-tuned
encoder, the best figures; an hour or more on a laptop CPU).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from maiga.errors import ConfigError
from maiga.network.train_config import TrainConfig
from maiga.sft.config import LmStageConfig

PROFILES = ("smoke", "quick", "full")


class DatasetConfig(BaseModel):
    """One source of human reactions."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Read this dataset in this run.")
    limit: int | None = Field(
        None, ge=1, description="At most this many items per split (a stable hash picks them)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Reader options, e.g. {perspective: both} for EmoBank."
    )
    path: str | None = Field(
        None, description="Your own CSV/TSV/JSONL table (long or wide form) instead of a "
        "registered dataset; the key under 'datasets' becomes its source name."
    )
    mapping: str | None = Field(
        None, description="Mapping YAML for 'path' (required with it), or a replacement for a "
        "registered dataset's built-in mapping."
    )


class AggregationSettings(BaseModel):
    """How many people's reactions become one target (the essay's section 5)."""

    model_config = ConfigDict(extra="forbid")

    variant: Literal["mean", "median", "competent_mean", "competent_median", "expert"] = Field(
        "mean", description="mean/median over all annotators, over a competent group, or the "
        "single most competent annotator."
    )
    competence: Literal["auto", "consensus", "gold", "dawid_skene"] = Field(
        "auto", description="How annotator competence is estimated."
    )
    competent_fraction: float = Field(
        0.5, gt=0, le=1, description="Share of an item's annotators that form its competent group."
    )


class RunConfig(BaseModel):
    """Everything that decides the result of ``maiga run``; saved as config.yaml in the run."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field("quick", description="Name of the profile this config came from.")
    schema_: str = Field(
        "essay8-va", alias="schema",
        description="Emotion schema: built-in name (essay8, essay8-va) or a YAML path.",
    )
    encoder: str = Field("all-MiniLM-L6-v2", description="Sentence encoder: name, hub id or path.")
    datasets: dict[str, DatasetConfig] = Field(
        default_factory=lambda: {n: DatasetConfig() for n in ("goemotions", "emobank", "snow2008")},
        description="Datasets to learn from and evaluate on, by reader name.",
    )
    aggregation: AggregationSettings = Field(default_factory=AggregationSettings)
    train: TrainConfig = Field(default_factory=TrainConfig)
    snow_folds: int = Field(
        5, ge=0, description="Cross-validation folds for the Snow 2008 comparison with the "
        "expert gold under every aggregation variant (0 skips it; frozen mode only)."
    )
    lm: LmStageConfig = Field(
        default_factory=LmStageConfig,
        description="Stages label and sft: the emotional LM and its plain LoRA baseline.",
    )
    seed: int = Field(0, description="Seed for everything that is random.")

    @field_validator("datasets")
    @classmethod
    def _known_datasets(cls, datasets: dict[str, DatasetConfig]) -> dict[str, DatasetConfig]:
        from maiga.data.readers import READERS

        unknown = sorted(n for n, d in datasets.items() if n not in READERS and not d.path)
        if unknown:
            raise ValueError(
                f"unknown dataset(s) {unknown}; known: {sorted(READERS)}, or give your own "
                "table with 'path' and 'mapping'"
            )
        return datasets

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", by_alias=True), sort_keys=False)


def load_run_config(
    profile: str = "quick", config_path: str | Path | None = None
) -> RunConfig:
    """A profile, with the values in ``config_path`` (if any) laid over it."""
    override = read_yaml_mapping(config_path) if config_path is not None else None
    return run_config_from(profile, override, config_path)


def read_yaml_mapping(config_path: str | Path) -> dict:
    """A YAML file that must hold a mapping; every other case is a clear ConfigError."""
    path = Path(config_path)
    if not path.is_file():
        raise ConfigError(f"Config file {str(path)!r} does not exist; pass a YAML file path.")
    try:
        raw = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file {path} is not valid UTF-8 YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"Config file {path} must hold a mapping of settings.")
    return raw


def run_config_from(
    profile: str, override: dict | None = None, origin: str | Path | None = None
) -> RunConfig:
    """A profile with ``override`` laid over it, validated (all problems listed at once)."""
    if profile not in PROFILES:
        raise ConfigError(
            f"Profile {profile!r} does not exist. Profiles: {', '.join(PROFILES)}; "
            "or pass --config with your own YAML."
        )
    raw = yaml.safe_load(resources.files("maiga.configs").joinpath(f"{profile}.yaml").read_text())
    if override:
        raw = _deep_merge(raw, override)
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ConfigError(
            f"Run config (profile {profile!r}, file {origin}) has {exc.error_count()} "
            f"problem(s):\n{problems}\nFix these keys; the profiles in maiga/configs/*.yaml "
            "(inside the installed package) show every key."
        ) from None


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged

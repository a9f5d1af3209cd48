"""Label mappings: how a dataset's labels or dimensions become the dimensions of a schema.

A mapping is a small YAML file (built-in ones live in ``maiga/data/mappings/``)::

    dataset: goemotions
    kind: categorical            # or continuous
    source_range: [0, 1]         # the source scale; continuous values are rescaled from it
    source_ranges: {valence: [-100, 100]}   # optional per-target override
    map: {joy: happiness, amusement: pleasure}
    dropped: {neutral: "why it is left out"}
    reasoning: |
      why each group goes where it goes

Categorical labels are presence strengths: each is scaled from ``source_range`` (default
[0, 1]) onto [0, 1], and a target fed by several labels takes their maximum per item and
annotator (an annotator who chose joy or excitement expresses happiness). Continuous
dimensions are rescaled linearly from their source range onto the target's schema range;
two sources on one continuous target would be an average nobody asked for, so it is an error.
Every decision that loses data is listed in the report that ``apply_mapping`` returns.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from maiga.data.table import REQUIRED_COLUMNS, validate_table
from maiga.errors import DataError, MappingError, problems_error
from maiga.schema.emotion_schema import EmotionSchema, load_schema

logger = logging.getLogger(__name__)

BUILTIN_MAPPINGS = ("goemotions", "goemotions-ekman", "emobank", "snow2008")
KINDS = ("categorical", "continuous")
TOLERANCE = 1e-6  # rescaled values this far outside the schema range are rounding, not errors
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"dataset", "kind", "source_range", "source_ranges", "map", "dropped", "reasoning"}


@dataclass(frozen=True)
class LabelMapping:
    """A validated mapping; build it with ``load_mapping`` or ``LabelMapping.from_dict``."""

    dataset: str
    kind: str
    map: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)
    source_range: tuple[float, float] | None = None
    source_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    reasoning: str = ""
    origin: str = "<dict>"

    def range_for(self, target: str) -> tuple[float, float]:
        """The source scale of the labels that feed ``target``."""
        return self.source_ranges.get(target) or self.source_range or (0.0, 1.0)

    def sources_of(self) -> dict[str, list[str]]:
        """Target -> the source labels mapped onto it, in file order."""
        result: dict[str, list[str]] = {}
        for source, target in self.map.items():
            result.setdefault(target, []).append(source)
        return result

    @classmethod
    def from_dict(cls, raw: Any, origin: str = "<dict>") -> LabelMapping:
        """Validate ``raw`` and build a mapping; every problem is reported in one error."""
        if not isinstance(raw, dict):
            raise MappingError(f"Mapping {origin} is a {type(raw).__name__}, not a YAML mapping "
                               "with keys dataset, kind, map (see maiga/data/mappings/).")
        problems: list[str] = []
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            problems.append(f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
        dataset = raw.get("dataset")
        if not isinstance(dataset, str) or not dataset.strip():
            problems.append("'dataset' must name the dataset the mapping is for")
        kind = raw.get("kind")
        if kind not in KINDS:
            problems.append(f"'kind' is {kind!r}; use one of {list(KINDS)}")
        label_map = _str_dict(raw.get("map"), "map", problems, required=True)
        dropped = _str_dict(raw.get("dropped", {}), "dropped", problems, required=False)
        bad_targets = sorted({t for t in label_map.values() if not _NAME.match(t)})
        if bad_targets:
            problems.append(f"target name(s) {bad_targets} are not valid dimension names (use a "
                            f"lower-case identifier); source labels: {sorted(label_map)}")
        both = sorted(set(label_map) & set(dropped))
        if both:
            problems.append(f"label(s) {both} are both mapped and dropped; keep one")
        source_range = _range(raw.get("source_range"), "source_range", problems)
        ranges = raw.get("source_ranges") or {}
        if not isinstance(ranges, dict):
            problems.append("'source_ranges' must map target names to [low, high]")
            ranges = {}
        source_ranges = {str(t): _range(r, f"source_ranges.{t}", problems) for t, r in
                         ranges.items()}
        stray = sorted(set(source_ranges) - set(label_map.values()))
        if stray:
            problems.append(f"source_ranges names target(s) {stray} that nothing maps onto")
        if kind == "continuous":
            _check_continuous(label_map, source_range, source_ranges, problems)
        reasoning = raw.get("reasoning", "")
        if not isinstance(reasoning, str):
            problems.append("'reasoning' must be text")
        if problems:
            raise problems_error(MappingError, f"Mapping {origin}", problems,
                                 "Fix the mapping file; maiga/data/mappings/*.yaml are examples.")
        return cls(dataset=dataset.strip(), kind=kind, map=label_map, dropped=dropped,
                   source_range=source_range,
                   source_ranges={t: r for t, r in source_ranges.items() if r},
                   reasoning=reasoning.strip(), origin=origin)


@dataclass
class MappedResult:
    """The table in schema dimensions and schema ranges, and a report of what was lost."""

    table: pd.DataFrame
    report: dict[str, Any]


def load_mapping(name_or_path: str | Path | LabelMapping) -> LabelMapping:
    """Load a built-in mapping by name (see ``BUILTIN_MAPPINGS``) or a YAML file by path."""
    if isinstance(name_or_path, LabelMapping):
        return name_or_path
    name = str(name_or_path)
    if name in BUILTIN_MAPPINGS:
        text = resources.files("maiga.data").joinpath(f"mappings/{name}.yaml").read_text("utf-8")
        return LabelMapping.from_dict(yaml.safe_load(text), origin=name)
    path = Path(name_or_path)
    if not path.is_file():
        raise MappingError(f"Mapping {name!r} is neither a built-in mapping nor an existing file. "
                           f"Built-in: {', '.join(BUILTIN_MAPPINGS)}; or pass a YAML file path.")
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"Mapping file {path} could not be read as UTF-8 YAML: {exc}. "
                           "Fix the file (see maiga/data/mappings/*.yaml).") from None
    return LabelMapping.from_dict(raw, origin=str(path))


def apply_mapping(
    table: pd.DataFrame, mapping: str | Path | LabelMapping,
    schema: str | Path | EmotionSchema | None = None,
) -> MappedResult:
    """Rename and rescale a long table's dimensions into ``schema``; report what was lost.

    Works on integer codes rather than strings so that GoEmotions (1.5M rows) maps in about
    a second.
    """
    mapping, schema = load_mapping(mapping), load_schema(schema)
    if any(c not in table.columns for c in REQUIRED_COLUMNS):
        validate_table(table)  # raises the standard missing-column DataError
    if table.empty:
        raise DataError(
            f"The table given to mapping {mapping.origin} has no rows, so nothing can be mapped. "
            "Check the reader's skip counts and the limit (limit=0 reads nothing).")
    table = table.reset_index(drop=True)
    codes, labels = pd.factorize(table["dimension"].astype(str))
    present = set(labels)
    absent = sorted(label for label in [*mapping.map, *mapping.dropped] if label not in present)
    if absent:
        raise MappingError(
            f"Mapping {mapping.origin} names label(s) {absent} that do not occur in the data. "
            f"Labels in the data: {sorted(present)}. Fix the label names in the mapping.")
    by_target = mapping.sources_of()
    targets = [d for d in schema.names if d in by_target]
    if not targets:
        raise MappingError(
            f"None of the targets of mapping {mapping.origin} ({sorted(by_target)}) is in schema "
            f"{schema.name!r} ({', '.join(schema.names)}). Use a schema with those dimensions "
            "(e.g. essay8-va for valence/arousal) or map the labels onto schema dimensions.")
    label_target = np.array([targets.index(mapping.map[lb]) if mapping.map.get(lb) in targets
                             else -1 for lb in labels], dtype=np.int64)
    row_target = label_target[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    rows = np.flatnonzero(row_target >= 0)
    target = row_target[rows]
    value, gold, bad, bad_gold = _rescale(table, rows, target, targets, mapping, schema)
    out_of_range = _count(targets, target[bad])
    gold_out = _count(targets, target[bad_gold & ~bad])
    gold[bad_gold] = np.nan
    rows, target, value, gold = rows[~bad], target[~bad], value[~bad], gold[~bad]
    if mapping.kind == "categorical":
        rows, target, value, gold = _max_per_target(table, rows, target, value, gold, targets)
    out = table.iloc[rows][[c for c in table.columns if c not in ("dimension", "value", "gold")]]
    names = pd.Series(targets).astype(str).array.take(target)  # gather, don't convert 400k
    out = out.assign(dimension=names, value=value, gold=gold)
    report = {
        "mapping": mapping.origin, "dataset": mapping.dataset, "kind": mapping.kind,
        "schema": schema.name,
        "supervised": {t: by_target[t] for t in targets},
        "dropped": dict(mapping.dropped),
        "unmapped": sorted(present - set(mapping.map) - set(mapping.dropped)),
        "targets_not_in_schema": {t: s for t, s in by_target.items() if t not in schema},
        "unsupervised": [d for d in schema.names if d not in targets],
        "out_of_range": out_of_range, "gold_out_of_range": gold_out,
        "rows_in": len(table), "rows_out": len(out),
    }
    if report["targets_not_in_schema"]:
        logger.warning(
            "Mapping %s targets %s, which schema %r lacks; those ratings are not used. "
            "Check the spelling, or use a schema with those dimensions.",
            mapping.origin, sorted(report["targets_not_in_schema"]), schema.name,
        )
    return MappedResult(validate_table(out, origin=f"{mapping.origin} mapped table"), report)


def _rescale(
    table: pd.DataFrame, rows: np.ndarray, target: np.ndarray, targets: list[str],
    mapping: LabelMapping, schema: EmotionSchema,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values and gold of ``rows`` on the target scale, and masks of those outside it.

    Categorical labels become presence strengths on [0, 1] whatever the target's range (0 is
    "absent" also on a signed dimension); continuous ones map onto the schema range.
    """
    src = np.array([mapping.range_for(t) for t in targets], dtype=float)
    if mapping.kind == "categorical":
        dst = np.tile([0.0, 1.0], (len(targets), 1))
    else:
        dst = np.array([(schema.dimension(t).low, schema.dimension(t).high) for t in targets])
    src_lo, src_hi, lo, hi = src[target, 0], src[target, 1], dst[target, 0], dst[target, 1]
    raw_value = pd.to_numeric(table["value"], errors="coerce").to_numpy(float)[rows]
    raw_gold = (pd.to_numeric(table["gold"], errors="coerce").to_numpy(float)[rows]
                if "gold" in table.columns else np.full(len(rows), np.nan))
    value = lo + (raw_value - src_lo) / (src_hi - src_lo) * (hi - lo)
    gold = lo + (raw_gold - src_lo) / (src_hi - src_lo) * (hi - lo)
    bad = ~((value >= lo - TOLERANCE) & (value <= hi + TOLERANCE))  # NaN counts as bad
    bad_gold = (gold < lo - TOLERANCE) | (gold > hi + TOLERANCE)
    return np.clip(value, lo, hi), np.clip(gold, lo, hi), bad, bad_gold


def _max_per_target(
    table: pd.DataFrame, rows: np.ndarray, target: np.ndarray, value: np.ndarray,
    gold: np.ndarray, targets: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One cell per (source, item, annotator, split, target): the strongest source label.

    Returns, per cell, a representative row of the input (for text and ids), the target
    index, the maximum value and the maximum gold (NaN only if every gold was NaN).
    """
    group = np.zeros(len(rows), dtype=np.int64)
    for column in ("source", "item", "annotator", "split"):
        if column in table.columns:
            codes = pd.factorize(table[column])[0][rows]
            group = pd.factorize(group * (int(codes.max(initial=0)) + 1) + codes)[0]
    n_targets = len(targets)
    cell = group * n_targets + target
    size = (int(group.max(initial=-1)) + 1) * n_targets
    best = np.full(size, -np.inf)
    np.maximum.at(best, cell, value)
    best_gold = np.full(size, np.nan)
    np.fmax.at(best_gold, cell, gold)
    first = np.zeros(size, dtype=np.int64)
    first[cell[::-1]] = rows[::-1]  # the earliest row of each cell wins
    used = np.zeros(size, dtype=bool)
    used[cell] = True
    cells = np.flatnonzero(used)
    return first[cells], cells % n_targets, best[cells], best_gold[cells]


def _count(targets: list[str], hits: np.ndarray) -> dict[str, int]:
    """Per-target counts of flagged rows, leaving out targets with none."""
    counts = np.bincount(hits, minlength=len(targets))
    return {t: int(n) for t, n in zip(targets, counts, strict=True) if n}


def _str_dict(raw: Any, key: str, problems: list[str], required: bool) -> dict[str, str]:
    """A {label: text} section; non-string entries are listed as problems."""
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict) or (required and not raw):
        problems.append(f"'{key}' must be a non-empty mapping of label -> "
                        f"{'target' if key == 'map' else 'reason'}")
        return {}
    result = {}
    for label, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            what = "a target dimension name" if key == "map" else "a reason (text)"
            problems.append(f"{key}.{label} is {value!r}; it must be {what}")
            continue
        result[str(label)] = value.strip()
    return result


def _range(raw: Any, key: str, problems: list[str]) -> tuple[float, float] | None:
    """A [low, high] pair with low < high, or None when absent."""
    if raw is None:
        return None
    try:
        low, high = (float(v) for v in raw)
    except (TypeError, ValueError):
        problems.append(f"'{key}' is {raw!r}; write it as [low, high]")
        return None
    if not low < high:
        problems.append(f"'{key}' is {raw!r}; low must be below high")
        return None
    return (low, high)


def _check_continuous(
    label_map: dict[str, str], source_range: tuple[float, float] | None,
    source_ranges: dict[str, tuple[float, float] | None], problems: list[str],
) -> None:
    """Continuous mappings need one source per target and a source range for each target."""
    targets: dict[str, list[str]] = {}
    for source, target in label_map.items():
        targets.setdefault(target, []).append(source)
    for target, sources in targets.items():
        if len(sources) > 1:
            problems.append(f"continuous target {target!r} gets several sources {sources}; a "
                            "continuous target takes exactly one source dimension")
    no_range = sorted(t for t in targets if source_range is None and not source_ranges.get(t))
    if no_range:
        problems.append(f"continuous target(s) {no_range} have no source range; add "
                        "source_range: [low, high] (or source_ranges per target)")

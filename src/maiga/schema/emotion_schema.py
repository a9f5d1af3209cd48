"""Load and validate emotion schemas.

A schema is a YAML file with a list of dimensions, each with a name, a range ([0, 1] for a
strength, [-1, 1] for a signed measure such as valence) and a one-line meaning. The built-in
schemas are ``essay8`` (the default: the essay's eight emotions) and ``essay8-va`` (the eight
plus valence and arousal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from maiga.errors import SchemaError, problems_error

SCHEMA_VERSION = 1
ALLOWED_RANGES = ((0.0, 1.0), (-1.0, 1.0))
BUILTIN_SCHEMAS = ("essay8", "essay8-va")
DEFAULT_SCHEMA = "essay8"
_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Dimension:
    """One emotion dimension.

    Attributes:
        name: lower-case identifier, e.g. ``happiness``.
        low: lower end of the range, 0 or -1.
        high: upper end of the range, always 1.
        meaning: one line that tells an annotator or a reader what the value means.
    """

    name: str
    low: float
    high: float
    meaning: str

    @property
    def signed(self) -> bool:
        return self.low < 0


@dataclass(frozen=True)
class EmotionSchema:
    """An ordered set of emotion dimensions; the order is the order of the network's outputs."""

    name: str
    dimensions: tuple[Dimension, ...]
    version: int = SCHEMA_VERSION

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def lows(self) -> np.ndarray:
        return np.array([d.low for d in self.dimensions], dtype=np.float32)

    @property
    def highs(self) -> np.ndarray:
        return np.array([d.high for d in self.dimensions], dtype=np.float32)

    @property
    def signed_mask(self) -> np.ndarray:
        return np.array([d.signed for d in self.dimensions], dtype=bool)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def index(self, name: str) -> int:
        if name not in self.names:
            raise SchemaError(
                f"Dimension {name!r} is not in schema {self.name!r}. "
                f"Its dimensions are: {', '.join(self.names)}."
            )
        return self.names.index(name)

    def dimension(self, name: str) -> Dimension:
        return self.dimensions[self.index(name)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "dimensions": [
                {"name": d.name, "range": [d.low, d.high], "meaning": d.meaning}
                for d in self.dimensions
            ],
        }

    def save(self, path: str | Path) -> None:
        from maiga.io import write_text_atomic

        write_text_atomic(Path(path), yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_dict(cls, raw: Any, origin: str = "<dict>") -> EmotionSchema:
        """Validate ``raw`` and build a schema; every problem is reported in one error."""
        problems: list[str] = []
        if not isinstance(raw, dict):
            raise SchemaError(
                f"Schema {origin} is a {type(raw).__name__}, not a mapping. "
                "Write it as YAML with keys 'name' and 'dimensions' (see maiga/schema/essay8.yaml "
                "in the installed package)."
            )
        version = raw.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            problems.append(f"version is {version!r}; this maiga reads version {SCHEMA_VERSION}")
        name = raw.get("name", Path(origin).stem)
        entries = raw.get("dimensions")
        if not isinstance(entries, list) or not entries:
            problems.append("'dimensions' must be a non-empty list of {name, range, meaning}")
            entries = []

        dims: list[Dimension] = []
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            where = f"dimension #{i + 1}"
            if not isinstance(entry, dict):
                problems.append(f"{where} is {entry!r}, not a mapping with name, range and meaning")
                continue
            dim_name = entry.get("name")
            if not isinstance(dim_name, str) or not _NAME_PATTERN.match(dim_name):
                problems.append(
                    f"{where} has name {dim_name!r}; use a lower-case identifier such as 'joy'"
                )
                dim_name = None
            elif dim_name in seen:
                problems.append(f"{where}: name {dim_name!r} is a duplicate")
            else:
                seen.add(dim_name)
                where = f"dimension {dim_name!r}"
            rng = entry.get("range")
            try:
                low, high = (float(v) for v in rng)
            except (TypeError, ValueError):
                low = high = None
            if low is None or (low, high) not in ALLOWED_RANGES:
                problems.append(f"{where} has range {rng!r}; allowed ranges are [0, 1] and [-1, 1]")
            meaning = entry.get("meaning", "")
            if not isinstance(meaning, str) or not meaning.strip():
                problems.append(
                    f"{where} has no 'meaning'; add one line that says what it measures"
                )
            unknown = set(entry) - {"name", "range", "meaning"}
            if unknown:
                problems.append(f"{where} has unknown keys {sorted(unknown)}")
            if dim_name and low is not None and (low, high) in ALLOWED_RANGES:
                dims.append(Dimension(dim_name, low, high, str(meaning).strip()))

        if problems:
            raise problems_error(
                SchemaError, f"Emotion schema {origin}", problems,
                "Fix the schema file; maiga/schema/essay8.yaml in the installed package is a "
                "valid example.",
            )
        return cls(name=str(name), dimensions=tuple(dims), version=SCHEMA_VERSION)


def load_schema(source: str | Path | EmotionSchema | None = None) -> EmotionSchema:
    """Load a schema by built-in name (``essay8``, ``essay8-va``) or from a YAML path."""
    if isinstance(source, EmotionSchema):
        return source
    source = DEFAULT_SCHEMA if source is None else source
    if str(source) in BUILTIN_SCHEMAS:
        text = resources.files("maiga.schema").joinpath(f"{source}.yaml").read_text("utf-8")
        return EmotionSchema.from_dict(yaml.safe_load(text), origin=str(source))
    path = Path(source)
    if not path.is_file():
        raise SchemaError(
            f"Schema {str(source)!r} is neither a built-in schema nor an existing file. "
            f"Built-in schemas: {', '.join(BUILTIN_SCHEMAS)}; or pass the path of a YAML file."
        )
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemaError(f"Schema file {path} could not be read as UTF-8 YAML: {exc}") from exc
    return EmotionSchema.from_dict(raw, origin=str(path))

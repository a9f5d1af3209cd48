"""Stage 1: read every configured dataset, map it onto the schema and aggregate the annotators."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from maiga.aggregate import AggregatedTargets, AggregationConfig, aggregate
from maiga.data.loading import load_dataset
from maiga.pipeline.config import RunConfig
from maiga.schema import EmotionSchema, load_schema

logger = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """The mapped long table of every dataset and the targets aggregated from it."""

    schema: EmotionSchema
    table: pd.DataFrame
    targets: AggregatedTargets
    read_skips: dict[str, dict[str, int]] = field(default_factory=dict)
    mapping_reports: dict[str, dict] = field(default_factory=dict)

    def split_index(self, split: str, source: str | None = None) -> list[int]:
        """Row positions in ``targets`` of the items of one split (and source)."""
        items = self.targets.items
        keep = items["split"] == split
        if source is not None:
            keep &= items["source"] == source
        return items.index[keep].tolist()


def prepare_data(
    config: RunConfig,
    data_dir: Path | None = None,
    aggregation: AggregationConfig | None = None,
) -> PreparedData:
    """Load, map and aggregate the datasets of ``config``."""
    schema = load_schema(config.schema_)
    tables, skips, reports = [], {}, {}
    for name, settings in config.datasets.items():
        if not settings.enabled:
            continue
        options = dict(settings.options)
        if settings.path:
            options.setdefault("source", name)
        loaded = load_dataset(
            settings.path or name, schema, data_dir=data_dir, limit=settings.limit,
            mapping=settings.mapping, **options,
        )
        logger.info("%s: %d ratings after mapping", name, len(loaded.table))
        tables.append(loaded.table)
        skips[loaded.source] = loaded.read_skips
        reports[loaded.source] = loaded.mapping_report
    table = pd.concat(tables, ignore_index=True)
    settings = aggregation or AggregationConfig(**config.aggregation.model_dump())
    targets = aggregate(table, schema, settings)
    targets.items = targets.items.reset_index(drop=True)
    return PreparedData(schema, table, targets, skips, reports)

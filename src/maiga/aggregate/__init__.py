"""Many annotators into training targets: competence, the essay's five variants, agreement."""

from __future__ import annotations

from maiga.aggregate.agreement import (
    agreement_report,
    correlation_with_gold,
    human_ceiling,
    krippendorff_alpha,
    single_annotator_vs_gold,
)
from maiga.aggregate.competence import (
    COMPETENCE_METHODS,
    UNSCORED,
    CompetenceResult,
    estimate_competence,
)
from maiga.aggregate.variants import (
    VARIANTS,
    AggregatedTargets,
    AggregationConfig,
    aggregate,
    competent_group_size,
)

__all__ = [
    "COMPETENCE_METHODS",
    "UNSCORED",
    "VARIANTS",
    "AggregatedTargets",
    "AggregationConfig",
    "CompetenceResult",
    "aggregate",
    "agreement_report",
    "competent_group_size",
    "correlation_with_gold",
    "estimate_competence",
    "human_ceiling",
    "krippendorff_alpha",
    "single_annotator_vs_gold",
]

"""What the run report needs, as plain data.

The report is built from these two dataclasses only, so that the code that trains and evaluates
the network and the code that draws the report can change independently: the pipeline fills
them in, :func:`maiga.report.write_report` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from maiga.errors import DataError


@dataclass
class EvalArrays:
    """Network outputs and aggregated human values for one evaluation set.

    Attributes:
        name: a label such as ``goemotions/test`` or ``emobank/test``.
        dimensions: schema dimension names, in the column order of the arrays.
        ranges: ``(low, high)`` per dimension, ``(0, 1)`` or ``(-1, 1)``.
        predictions: ``(n_items, n_dims)`` network outputs, already in range.
        targets: ``(n_items, n_dims)`` aggregated human values; NaN means "not rated", since
            most sources rate only some of the schema's dimensions.
    """

    name: str
    dimensions: list[str]
    ranges: list[tuple[float, float]]
    predictions: np.ndarray
    targets: np.ndarray

    def __post_init__(self) -> None:
        # Shape errors caught here name the eval set; caught later they surface as an
        # IndexError deep inside a plot, which says nothing about which input was wrong.
        self.predictions = np.asarray(self.predictions, dtype=float)
        self.targets = np.asarray(self.targets, dtype=float)
        self.dimensions = [str(d) for d in self.dimensions]
        self.ranges = [(float(lo), float(hi)) for lo, hi in self.ranges]
        problems = []
        n_dims = len(self.dimensions)
        for label, arr in (("predictions", self.predictions), ("targets", self.targets)):
            if arr.ndim != 2:
                problems.append(f"{label} has shape {arr.shape}; it must be (n_items, n_dims)")
            elif arr.shape[1] != n_dims:
                problems.append(f"{label} has {arr.shape[1]} columns but there are "
                                f"{n_dims} dimensions")
        if not problems and self.predictions.shape != self.targets.shape:
            problems.append(f"predictions {self.predictions.shape} and targets "
                            f"{self.targets.shape} differ in shape")
        if len(self.ranges) != n_dims:
            problems.append(f"{len(self.ranges)} ranges for {n_dims} dimensions")
        for (lo, hi), dim in zip(self.ranges, self.dimensions):
            if not hi > lo:
                problems.append(f"dimension {dim!r} has range ({lo}, {hi}); low must be < high")
        if problems:
            raise DataError(
                f"Evaluation arrays {self.name!r} are inconsistent: " + "; ".join(problems)
                + ". Build predictions and targets with one row per item and one column per "
                "entry of 'dimensions'."
            )

    @property
    def n_items(self) -> int:
        return int(self.targets.shape[0])

    def rated_counts(self) -> list[int]:
        """Items with a finite target and prediction, per dimension (what a plot can use)."""
        ok = np.isfinite(self.targets) & np.isfinite(self.predictions)
        return [int(n) for n in ok.sum(axis=0)]


@dataclass
class ReportInputs:
    """Everything the run report shows.

    Attributes:
        title: the report's heading.
        metrics: flat keys such as ``goemotions.ekman.macro_f1`` to a number or a string.
        metric_docs: key to a one-line meaning; keys without one are shown without.
        evals: the evaluation sets, for the calibration and agreement plots.
        per_dimension: rows ``{"source", "dimension", "network", "human_ceiling", "metric"}``.
        comparisons: rows ``{"group", "label", "value"}`` for a side-by-side table and plot.
        notes: plain-language findings and caveats, shown first.
        config: the run configuration, shown as YAML.
        dropped_labels: source to the labels its mapping dropped.
        lm_nll: held-out response NLL per emotion condition of the emotional LM (with
            ``plain_lora`` and ``base``); empty when the run has no LM stages.
    """

    title: str
    metrics: dict[str, Any] = field(default_factory=dict)
    metric_docs: dict[str, str] = field(default_factory=dict)
    evals: list[EvalArrays] = field(default_factory=list)
    per_dimension: list[dict] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    dropped_labels: dict[str, list[str]] = field(default_factory=dict)
    lm_nll: dict[str, float] = field(default_factory=dict)

"""The run report: one self-contained HTML file that says whether the network is any good.

The pipeline fills :class:`ReportInputs` and calls :func:`write_report`; nothing here trains or
evaluates, so the report can be re-drawn from saved arrays without the model.
"""

from __future__ import annotations

from maiga.report.html import render_report, write_report
from maiga.report.inputs import EvalArrays, ReportInputs

__all__ = ["EvalArrays", "ReportInputs", "render_report", "write_report"]

"""Render scores for a terminal: numbered thoughts, then one row per emotion with bars.

Emotions are rows and thoughts are columns, so the table stays readable in 80 columns; more
thoughts than fit are shown in further tables of a few columns each.
"""

from __future__ import annotations

from rich.table import Table

from maiga.cli.common import console
from maiga.network.model import TextEmotions
from maiga.schema import EmotionSchema

_BLOCKS = " ▏▎▍▌▋▊▉█"
COLUMNS_PER_TABLE = 5


def bar(value: float, low: float, width: int = 5) -> str:
    """A bar for a value in [0, 1], or for |value| in [-1, 1] with the sign in front."""
    magnitude = abs(value) if low < 0 else value
    eighths = round(max(0.0, min(1.0, magnitude)) * width * 8)
    full, rest = divmod(eighths, 8)
    body = ("█" * full + (_BLOCKS[rest] if rest else "")).ljust(width)
    return f"{body}{value:+.2f}" if low < 0 else f"{body} {value:.2f}"


def print_scores(
    results: list[TextEmotions], schema: EmotionSchema, line_numbers: list | None = None
) -> None:
    for k, result in enumerate(results):
        line = (line_numbers or [None] * len(results))[k]
        if len(results) > 1:
            console.rule(f"line {line}" if line is not None else f"text {k + 1}")
        for i, thought in enumerate(result.thoughts, start=1):
            console.print(f"[bold]#{i}[/] {thought.text}", highlight=False)
        columns = [(f"#{i}", t.values) for i, t in enumerate(result.thoughts, start=1)]
        if len(columns) > 1:
            columns.append(("whole", result.overall))
        for start in range(0, len(columns), COLUMNS_PER_TABLE):
            _table(columns[start : start + COLUMNS_PER_TABLE], schema)


def _table(columns: list[tuple[str, dict]], schema: EmotionSchema) -> None:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("emotion", no_wrap=True)
    for label, _ in columns:
        table.add_column(label, no_wrap=True)
    for dim in schema.dimensions:
        table.add_row(dim.name, *(bar(values[dim.name], dim.low) for _, values in columns))
    console.print(table)

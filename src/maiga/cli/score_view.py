"""Render scores as a table with one bar per emotion and thought."""

from __future__ import annotations

from rich.table import Table

from maiga.cli.common import console
from maiga.network.model import TextEmotions
from maiga.schema import EmotionSchema

_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, low: float, width: int = 6) -> str:
    """A bar for a value in [0, 1], or for |value| in [-1, 1] with a sign in front."""
    magnitude = abs(value) if low < 0 else value
    eighths = round(max(0.0, min(1.0, magnitude)) * width * 8)
    full, rest = divmod(eighths, 8)
    body = ("█" * full + (_BLOCKS[rest] if rest else "")).ljust(width)
    sign = ("-" if value < 0 else "+") if low < 0 else ""
    return f"{sign}{body} {value:+.2f}" if low < 0 else f"{body} {value:.2f}"


def print_scores(results: list[TextEmotions], schema: EmotionSchema) -> None:
    for result in results:
        table = Table(show_lines=False, title_justify="left", expand=False)
        table.add_column("thought", overflow="fold", max_width=40)
        for dim in schema.dimensions:
            table.add_column(dim.name, no_wrap=True)
        rows = [(t.text, t.values) for t in result.thoughts]
        if len(rows) > 1:
            rows.append(("[bold]whole text[/]", result.overall))
        for label, values in rows:
            cells = [bar(values[d.name], d.low) for d in schema.dimensions]
            table.add_row(label, *cells)
        console.print(table)

"""Entry point: ``maiga run``, ``maiga emotions ...``, ``maiga label``, ``maiga sft``,
``maiga chat``."""

from __future__ import annotations

import typer

from maiga.cli.common import setup_logging
from maiga.cli.emotions import emotions_app
from maiga.cli.chat import chat_command
from maiga.cli.label import label_command
from maiga.cli.run import run_command
from maiga.cli.sft import sft_command

app = typer.Typer(
    name="maiga",
    help="Make AI Goodness Again: emotional networks and the evidence for them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(emotions_app, name="emotions")
app.command("run")(run_command)
app.command("label")(label_command)
app.command("sft")(sft_command)
app.command("chat")(chat_command)


def _print_version(value: bool) -> None:
    if value:
        from maiga import __version__

        typer.echo(f"maiga {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    version: bool = typer.Option(
        False,
        "--version",
        help="Print maiga's version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    setup_logging(verbose, quiet)


if __name__ == "__main__":
    app()

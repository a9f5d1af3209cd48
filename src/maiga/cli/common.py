"""What every command shares: logging set-up and turning MaigaError into a clean message."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from maiga.errors import MaigaError

console = Console()
err_console = Console(stderr=True)


def setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(message)s", handlers=[RichHandler(console=err_console)],
        force=True,
    )
    for noisy in ("sentence_transformers", "transformers", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if quiet:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not verbose:
        # transformers' deprecation notices are for maiga's developers, not its users
        import warnings

        warnings.filterwarnings("ignore", category=FutureWarning)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a MaigaError as a message (what, why, what to do) and exit 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MaigaError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            err_console.print(
                "interrupted. Finished steps are kept; run the same command with the same "
                "--out to resume.", highlight=False,
            )
            raise typer.Exit(code=130) from None

    return wrapper


def progress_enabled() -> bool:
    """Progress bars only at INFO or below, as the logs they sit beside."""
    return logging.getLogger().getEffectiveLevel() <= logging.INFO


def print_skips(read_skips: dict, mapping_reports: dict) -> None:
    """One line per dataset with every row that reading or mapping dropped, and why."""
    for source in sorted(set(read_skips) | set(mapping_reports)):
        counted = {k: v for k, v in read_skips.get(source, {}).items() if v}
        report = mapping_reports.get(source, {})
        for dim, n in (report.get("out_of_range") or {}).items():
            if n:
                counted[f"out of range on {dim}"] = n
        if counted:
            err_console.print(f"{source}: skipped {counted}", highlight=False)

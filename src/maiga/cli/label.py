"""``maiga label``: emotion values for every thought of a chat or instruction dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from maiga.cli.common import console, err_console, friendly_errors, progress_enabled


@friendly_errors
def label_command(
    input: Path = typer.Argument(
        ...,
        help="Dataset: .jsonl/.json/.csv/.tsv (optionally .gz), .parquet, or a folder "
        "saved with datasets' save_to_disk.",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="Folder for labelled.jsonl and manifest.json; an unfinished one "
        "with the same arguments is resumed.",
    ),
    network: Path = typer.Option(
        ..., "--network", help="A saved emotional network folder (e.g. runs/quick/model)."
    ),
    format: str = typer.Option(
        None,
        "--format",
        help="chat, instruction, prompt_response or hh (default: detected from the columns).",
    ),
    messages_column: str = typer.Option(
        "messages", "--messages-column", help="Column holding the messages (chat format)."
    ),
    chunk_rows: int = typer.Option(
        256, "--chunk-rows", help="Rows per saved chunk: the most an interruption loses."
    ),
    limit: int = typer.Option(None, "--limit", help="Label only the first N rows."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Delete earlier labelling output in --out and start again."
    ),
    batch_size: int = typer.Option(128, "--batch-size", help="Thoughts per encoder batch."),
) -> None:
    """Split every message into thoughts and add the emotional network's values to each.

    Example: maiga label data/chat.jsonl --network runs/quick/model --out labelled/chat
    """
    from maiga.label import label_file

    summary = label_file(
        input,
        out,
        network,
        format=format,
        messages_column=messages_column,
        chunk_rows=chunk_rows,
        progress=progress_enabled(),
        limit=limit,
        overwrite=overwrite,
        batch_size=batch_size,
    )
    if summary.chunks_resumed:
        err_console.print(
            f"kept {summary.chunks_resumed} of {summary.chunks} chunks from an earlier run",
            highlight=False,
        )
    if summary.rows_skipped:
        err_console.print(
            f"skipped {summary.n_skipped:,} rows: {summary.rows_skipped}", highlight=False
        )
    console.print(
        f"Labelled {summary.rows_labelled:,} of {summary.rows_read:,} rows: "
        f"{summary.messages:,} messages, {summary.thoughts:,} thoughts "
        f"({summary.thoughts_scored:,} scored, {summary.thoughts_from_cache:,} from cache), "
        f"{summary.n_skipped:,} rows skipped. Output: {summary.output}",
        highlight=False,
    )
    if summary.rows_read and not summary.rows_labelled:
        err_console.print(
            "error: no row could be labelled (see the skip reasons above); the "
            "output is empty. Fix the input and rerun with --overwrite.",
            highlight=False,
        )
        raise typer.Exit(code=2)

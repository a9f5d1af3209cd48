"""``maiga chat``: talk to an emotional LM and see the emotion trace of every thought."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from maiga.cli.common import console, err_console, friendly_errors


@friendly_errors
def chat_command(
    model: Path = typer.Option(
        ..., help="Emotional LM folder (from maiga sft or maiga run: RUN/lm/emotional)."
    ),
    network: Path = typer.Option(
        None, help="Emotional network folder; default: the one the LM was trained with."
    ),
    prompt: str = typer.Option(
        None, help="One message to answer; without it, an interactive session."
    ),
    max_new_tokens: int = typer.Option(128, min=1),
    temperature: float = typer.Option(0.0, min=0.0, help="0 is greedy."),
    top_p: float = typer.Option(1.0, min=0.0, max=1.0),
    seed: int = typer.Option(0),
    no_rescore: bool = typer.Option(
        False, "--no-rescore", help="Keep the prompt's emotions for the whole response (faster)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the response and trace as JSON."),
    research_fixed_emotions: str = typer.Option(
        None,
        help="RESEARCH ONLY: comma-separated values put on every token instead of the "
        "computed emotions, for ablations. Never use in a product.",
    ),
) -> None:
    """Answer with the emotional LM; emotions come from the emotional network, thought by thought.

    Example: maiga chat --model runs/quick/lm/emotional --prompt "My dog died today."
    """
    from maiga.errors import ModelNotFoundError
    from maiga.lm.folder import load_emotional_lm, read_lm_config
    from maiga.lm.generate import EmotionalChat, GenerationSettings, check_settings
    from maiga.network.folder import load_network

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # loading bars would bury the conversation
    hf_logging.set_verbosity_error()
    lm_config = read_lm_config(model)
    network_path = network or lm_config.get("emotional_network")
    if not network_path:
        raise ModelNotFoundError(
            f"{model} does not say which emotional network it was trained with; pass --network."
        )
    settings = GenerationSettings(
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
        rescore=not no_rescore,
    )
    check_settings(settings)  # before minutes of model loading
    fixed = _parse_fixed(research_fixed_emotions)
    emotional_network = load_network(network_path)
    _warn_if_network_changed(lm_config, emotional_network)
    chat = EmotionalChat(load_emotional_lm(model), emotional_network, settings)
    if prompt is not None:
        _show(_respond(chat, [{"role": "user", "content": prompt}], fixed), chat, as_json)
        return
    try:
        _session(chat, fixed, as_json)
    except KeyboardInterrupt:  # ending a conversation is not an interrupted job
        err_console.print("\nbye.", highlight=False)


def _session(chat, fixed, as_json: bool) -> None:
    """Interactive turns; a bad turn is reported and dropped, the session goes on."""
    from maiga.errors import MaigaError
    from maiga.lm.alignment import ContextTooLongError

    history: list[dict] = []
    while True:
        text = _ask()
        if text is None:
            return
        if not text.strip():
            continue
        history.append({"role": "user", "content": text.strip()})
        try:
            response = _respond(chat, history, fixed)
        except ContextTooLongError:
            history = history[-1:]  # forget earlier turns and answer this one alone
            err_console.print(
                "[yellow]The conversation outgrew the context window; earlier turns "
                "were dropped.[/]"
            )
            try:
                response = _respond(chat, history, fixed)
            except MaigaError as exc:
                err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
                history.pop()
                continue
        except MaigaError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            history.pop()
            continue
        if response.text.strip():
            history.append({"role": "assistant", "content": response.text.strip()})
        else:  # an empty reply cannot be part of a conversation; forget the turn
            history.pop()
        _show(response, chat, as_json)


def _warn_if_network_changed(lm_config: dict, network) -> None:
    from maiga.label.fingerprint import network_identity

    recorded = lm_config.get("emotional_network_identity")
    if recorded and recorded != json.loads(json.dumps(network_identity(network))):
        err_console.print(
            "[yellow]warning:[/] this emotional network is not the one the LM was "
            "trained with (different weights or settings); its emotions will differ "
            "from training.",
            highlight=False,
        )


def _ask() -> str | None:
    import sys

    try:
        err_console.print("you> ", end="")  # on stderr, so stdout holds only answers (and --json)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        line = line.rstrip("\n")
    except EOFError:
        return None
    return None if line.strip() in ("exit", "quit") else line


def _respond(chat, history, fixed):
    if fixed is None:
        return chat.respond(history)
    from maiga.lm.research import respond_with_fixed_emotions

    err_console.print("[bold yellow]research mode:[/] emotions are fixed by you, not computed.")
    return respond_with_fixed_emotions(chat, history, fixed)


def _parse_fixed(text: str | None) -> list[float] | None:
    if text is None:
        return None
    from maiga.errors import DataError

    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise DataError(
            f"--research-fixed-emotions {text!r} must be comma-separated numbers."
        ) from None


def _show(response, chat, as_json: bool) -> None:
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "response": response.text,
                    "stopped": response.stopped,
                    "new_tokens": response.new_tokens,
                    "seconds": round(response.seconds, 3),
                    "meta": response.meta,
                    "trace": [t.__dict__ for t in response.trace],
                }
            )
        )
        return
    console.print(f"[bold]assistant>[/] {response.text}", highlight=False)
    if response.stopped == "length":
        console.print("(cut off at --max-new-tokens)", style="dim")
    if "research_fixed_emotions" in response.meta:
        console.print(
            "RESEARCH MODE: the model received the fixed emotions "
            f"{response.meta['research_fixed_emotions']} on every token; the trace "
            "below shows what the emotional network computes, not what was fed."
        )
    _trace_table(response.trace, chat.lm.schema)


def _trace_table(trace, schema) -> None:
    from rich.table import Table

    from maiga.cli.score_view import bar

    table = Table(title="emotion trace (per thought)", show_edge=False, pad_edge=False)
    table.add_column("who", no_wrap=True, min_width=9)
    table.add_column("thought", max_width=28, overflow="ellipsis", no_wrap=True)
    strongest = 3 if console.width >= 100 else 2
    table.add_column(f"strongest {strongest}", no_wrap=True)
    for thought in trace:
        ranked = sorted(schema.dimensions, key=lambda d: -abs(thought.values[d.name]))[:strongest]
        cells = "  ".join(f"{d.name[:8]} {bar(thought.values[d.name], d.low, 3)}" for d in ranked)
        table.add_row(thought.role, thought.text, cells)
    console.print(table)

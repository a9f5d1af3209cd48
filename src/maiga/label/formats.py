"""Turn dataset rows into conversations: lists of ``{"role", "content"}`` messages.

Four row formats, detected from the columns or forced:

* ``chat``: a column (default ``messages``) holding a list of ``{"role", "content"}`` dicts;
  in CSV/TSV a cell holding that list as JSON text.
* ``instruction``: ``instruction`` (+ optional ``input``) and ``output``. The user message is
  the instruction, followed by a blank line and the input when there is one; the assistant
  message is the output. Self-instruct seed tasks keep input and output in ``instances``
  (a list of ``{"input", "output"}``); the first instance is used.
* ``prompt_response``: ``prompt`` and ``response`` (or ``completion``).
* ``hh``: Anthropic HH-RLHF, whose ``chosen`` (and ``rejected``) hold whole dialogues as
  ``"\\n\\nHuman: ...\\n\\nAssistant: ..."``; a list of messages there is accepted too.
  ``chosen`` becomes ``messages`` and ``rejected`` becomes ``rejected_messages``.

A row that cannot become a conversation raises :class:`SkipRow` with a short reason; the
labeller counts those reasons instead of stopping, because one bad row in a hundred thousand
should not cost the rest. A message cannot be dropped on its own (the turns would no longer
alternate, and a DPO pair would lose its context), so any bad message skips its whole row.

Message content is kept exactly as stored (thought spans index into it), except HH turns, which
are cut out of the transcript and stripped of the whitespace around them.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from maiga.errors import DataError
from maiga.label.sources import RowSource, UnreadableRow, open_rows

__all__ = [
    "FORMATS",
    "MESSAGES",
    "REJECTED",
    "SkipRow",
    "conversations_of",
    "detect_format",
    "jsonable",
    "open_rows",
    "parse_hh_transcript",
    "RowSource",
    "UnreadableRow",
]

FORMATS = ("chat", "instruction", "prompt_response", "hh")
MESSAGES = "messages"
REJECTED = "rejected_messages"
HH_ROLES = {"Human": "user", "Assistant": "assistant"}
# A turn marker: "Human:" or "Assistant:" at the start or after a blank line.
_HH_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):")


class SkipRow(DataError):
    """A row that cannot be labelled; ``reason`` is the short text it is counted under."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def expected_columns(messages_column: str = MESSAGES) -> dict[str, str]:
    """What each format needs, worded for error messages."""
    return {
        "chat": f"'{messages_column}' (a list of {{role, content}} messages)",
        "instruction": "'instruction' and 'output' (optional 'input'), or 'instruction' and "
        "'instances' (self-instruct)",
        "prompt_response": "'prompt' and 'response' (or 'completion')",
        "hh": "'chosen' (optional 'rejected'): Human:/Assistant: transcripts",
    }


def detect_format(
    columns: Iterable[str],
    format: str | None = None,
    messages_column: str = MESSAGES,
    where: str = "The dataset",
) -> str:
    """The row format of a dataset with ``columns``: ``format`` if given (checked), else detected.

    Detection tries chat, hh, instruction, prompt_response in that order, so a dataset that
    already holds messages is read as messages even when it has other columns too.
    """
    columns = list(columns)
    expected = expected_columns(messages_column)
    if format is not None:
        if format not in FORMATS:
            raise DataError(
                f"Format {format!r} is unknown; choose one of {list(FORMATS)} "
                "(or leave --format out to detect it from the columns)."
            )
        if not _fits(format, set(columns), messages_column):
            raise DataError(
                f"{where} was to be read as format {format!r}, which needs "
                f"{expected[format]}, but its columns are {columns}. Pick the --format that "
                "matches the data (or leave it out to detect it), or name the column that "
                "holds the messages with --messages-column."
            )
        return format
    for candidate in ("chat", "hh", "instruction", "prompt_response"):
        if _fits(candidate, set(columns), messages_column):
            return candidate
    wanted = "; ".join(f"{name}: {needs}" for name, needs in expected.items())
    raise DataError(
        f"{where} has columns {columns}, which match none of the formats maiga label reads "
        f"({wanted}). If the messages are in a column with another name, pass "
        "--messages-column NAME; if the columns are there under another format, pass "
        f"--format (one of {', '.join(FORMATS)})."
    )


def _fits(format: str, columns: set[str], messages_column: str) -> bool:
    if format == "chat":
        return messages_column in columns
    if format == "instruction":
        return "instruction" in columns and bool({"output", "instances"} & columns)
    if format == "prompt_response":
        return "prompt" in columns and bool({"response", "completion"} & columns)
    return "chosen" in columns


def conversations_of(
    row: dict, format: str, messages_column: str = MESSAGES
) -> dict[str, list[dict]]:
    """The conversations of one row, keyed by the output column they go into.

    Returns ``{"messages": [...]}``, plus ``"rejected_messages"`` for an HH row with a
    rejected dialogue. Raises :class:`SkipRow` when the row cannot be used.
    """
    if format == "chat":
        return {MESSAGES: _messages(row.get(messages_column))}
    if format == "instruction":
        return {MESSAGES: _instruction(row)}
    if format == "prompt_response":
        response = row.get("response") if "response" in row else row.get("completion")
        return {
            MESSAGES: [
                {"role": "user", "content": _content(row.get("prompt"))},
                {"role": "assistant", "content": _content(response)},
            ]
        }
    if format == "hh":
        out = {MESSAGES: _dialogue(row.get("chosen"))}
        if "rejected" in row:
            try:
                out[REJECTED] = _dialogue(row["rejected"])
            except SkipRow as skip:
                raise SkipRow(f"{skip.reason} (rejected)") from None
        return out
    raise DataError(f"Format {format!r} is unknown; choose one of {list(FORMATS)}.")


def parse_hh_transcript(text: str) -> list[dict]:
    """``"\\n\\nHuman: a\\n\\nAssistant: b"`` -> user/assistant messages, whitespace stripped."""
    pieces = _HH_TURN.split(text)
    # pieces = [before the first marker, role, content, role, content, ...]
    if len(pieces) < 3 or pieces[0].strip():
        raise SkipRow("not an HH transcript")
    messages = []
    for role, content in zip(pieces[1::2], pieces[2::2]):
        messages.append({"role": HH_ROLES[role], "content": _content(content.strip())})
    return messages


def _dialogue(value: Any) -> list[dict]:
    """An HH column: a transcript string, or (as some copies store it) a list of messages."""
    if isinstance(value, str):
        return parse_hh_transcript(value)
    return _messages(value)


def _messages(value: Any) -> list[dict]:
    if _missing(value):
        raise SkipRow("missing messages")
    if isinstance(value, str):  # CSV/TSV cells hold the list as JSON text
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SkipRow("messages not a list") from None
    if isinstance(value, (tuple, np.ndarray)):  # pandas keeps Parquet lists as arrays
        value = list(value)
    if not isinstance(value, list):
        raise SkipRow("messages not a list")
    if not value:
        raise SkipRow("no messages")
    messages = []
    for message in value:
        if not isinstance(message, dict) or "content" not in message:
            raise SkipRow("message without role or content")
        role = message.get("role")
        if not isinstance(role, str) or not role.strip():
            raise SkipRow("message without role or content")
        messages.append({**message, "role": role, "content": _content(message["content"])})
    return messages


def _instruction(row: dict) -> list[dict]:
    instruction = _content(row.get("instruction"))
    if "output" in row and not _missing(row["output"]):
        source = row
    elif "instances" in row:
        instances = row["instances"]
        if isinstance(instances, (tuple, np.ndarray)):
            instances = list(instances)
        if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
            raise SkipRow("no instances")
        source = instances[0]
    else:
        raise SkipRow("missing content")
    extra = source.get("input")
    if _missing(extra):
        extra = ""
    if not isinstance(extra, str):
        raise SkipRow("non-string content")
    user = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    return [
        {"role": "user", "content": user},
        {"role": "assistant", "content": _content(source.get("output"))},
    ]


def _content(value: Any) -> str:
    if _missing(value):
        raise SkipRow("missing content")
    if not isinstance(value, str):
        raise SkipRow("non-string content")
    if not value.strip():
        raise SkipRow("empty message")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from bytes that were not UTF-8
        raise SkipRow("text that is not valid UTF-8") from None
    return value


def _missing(value: Any) -> bool:
    """None or NaN: what pandas, Parquet and JSON (``NaN``) use for an absent cell."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def jsonable(value: Any) -> Any:
    """A row value as plain JSON: NaN becomes null (JSON has no NaN), numpy and dates as text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        # Binary cells (e.g. images) survive the trip through JSON as base64 text.
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)

"""Read a labelled dataset back, checking every thought against the message it belongs to.

Later stages (SFT with emotion inputs, emotional DPO) line thoughts up with tokens through their
character spans, so a span that does not fit its message, or values of the wrong length, must
stop the reader with the line that is wrong rather than train on shifted emotions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from maiga.errors import DataError
from maiga.label.formats import MESSAGES, REJECTED

OUTPUT = "labelled.jsonl"
MANIFEST = "manifest.json"
STATE_FILE = "label_state.json"
PARTS = "parts"
_DAMAGED = (
    "Labelled files must be left as maiga label wrote them; label the dataset again "
    "(maiga label ... --overwrite)."
)


def read_labelled(folder_or_file: str | Path) -> list[dict]:
    """Rows of a labelled dataset: the ``--out`` folder of ``maiga label`` or its labelled.jsonl.

    Every message of ``messages`` (and ``rejected_messages``) has ``thoughts``: a list of
    ``{"start", "end", "values"}`` with ``content[start:end]`` the thought's text and ``values``
    in the order of the manifest's ``schema_names``.
    """
    path = Path(folder_or_file)
    if path.is_dir():
        file = path / OUTPUT
        if not file.is_file():
            if (path / PARTS).is_dir() or (path / STATE_FILE).is_file():
                raise DataError(
                    f"{str(path)!r}: labelling not finished, rerun maiga label with the same "
                    f"arguments to resume ({OUTPUT} is written when every chunk is done)."
                )
            raise DataError(
                f"{str(path)!r} is not a labelled dataset: it has no {OUTPUT}. Pass the --out "
                f"folder of 'maiga label' or the {OUTPUT} inside it."
            )
    elif path.is_file():
        file = path
    else:
        raise DataError(
            f"{str(path)!r} does not exist. Pass the --out folder of 'maiga label' "
            f"or the {OUTPUT} inside it."
        )
    n_values = _schema_size(file.parent / MANIFEST)
    rows = []
    with open(file, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{file} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where} is not valid JSON ({exc.msg}). {_DAMAGED}") from None
            n_values = check_labelled_row(row, n_values, where)
            rows.append(row)
    return rows


def check_labelled_row(row: Any, n_values: int | None, where: str) -> int | None:
    """Raise a DataError unless ``row`` holds well-formed thoughts; returns the values length.

    ``n_values`` is the expected number of values per thought (None: take it from this row).
    """
    if not isinstance(row, dict) or not isinstance(row.get(MESSAGES), list):
        raise DataError(f"{where} has no '{MESSAGES}' list. {_DAMAGED}")
    for key in (MESSAGES, REJECTED):
        if key not in row:
            continue
        messages = row[key]
        if not isinstance(messages, list) or not messages:
            raise DataError(f"{where}: '{key}' is not a non-empty list of messages. {_DAMAGED}")
        for m, message in enumerate(messages, start=1):
            n_values = _check_message(message, n_values, f"{where}, {key} #{m}")
    return n_values


def _check_message(message: Any, n_values: int | None, where: str) -> int | None:
    if not isinstance(message, dict) or not isinstance(message.get("content"), str):
        raise DataError(f"{where} has no string 'content'. {_DAMAGED}")
    thoughts = message.get("thoughts")
    if not isinstance(thoughts, list):
        raise DataError(f"{where} has no 'thoughts' list: it was not labelled. {_DAMAGED}")
    length = len(message["content"])
    for t, thought in enumerate(thoughts, start=1):
        here = f"{where}, thought #{t}"
        if not isinstance(thought, dict):
            raise DataError(f"{here} is not an object with start, end and values. {_DAMAGED}")
        start, end, values = thought.get("start"), thought.get("end"), thought.get("values")
        if not (_is_int(start) and _is_int(end) and 0 <= start < end <= length):
            raise DataError(
                f"{here} has span [{start!r}, {end!r}), which does not lie inside "
                f"its message of {length} characters. {_DAMAGED}"
            )
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            raise DataError(f"{here} has values {values!r}, not a list of numbers. {_DAMAGED}")
        if n_values is None:
            n_values = len(values)
        if len(values) != n_values:
            raise DataError(
                f"{here} has {len(values)} values; the schema has {n_values} "
                f"dimensions. {_DAMAGED}"
            )
    return n_values


def _schema_size(manifest: Path) -> int | None:
    """Number of schema dimensions recorded next to the file, if there is a manifest."""
    if not manifest.is_file():
        return None
    try:
        names = json.loads(manifest.read_text("utf-8")).get("schema_names")
    except (json.JSONDecodeError, AttributeError):
        raise DataError(f"{manifest} is damaged (not a JSON object). {_DAMAGED}") from None
    return len(names) if isinstance(names, list) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

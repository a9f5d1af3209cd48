"""Label conversations with an emotional network: emotion values for every thought.

Two entry points. :func:`label_conversations` labels conversations held in memory (the SFT
pipeline calls it). :func:`label_file` labels a whole dataset file into a folder::

    OUT/label_state.json        what the job is (its fingerprint), written first
    OUT/parts/part-00000.jsonl  one finished chunk of rows each, written atomically
    OUT/parts/part-00000.json   that chunk's counts, written just before its rows
    OUT/labelled.jsonl          all rows, when every chunk is done
    OUT/manifest.json           counts, schema, segmenter, network, input, versions

An interrupted job loses at most the chunk it was working on: rerun it with the same arguments
and finished parts are kept, their thoughts fill the cache so none is scored again, and the
result is the same file an uninterrupted run writes. Once labelled.jsonl and the manifest are
written the parts are removed, since they hold the same rows again.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

import maiga
from maiga.errors import ConfigError, DataError, MaigaError
from maiga.io import check_output_folder, write_atomic, write_json_atomic, write_text_atomic
from maiga.label.cache import ThoughtCache
from maiga.label.fingerprint import heads_digest, input_fingerprint, network_identity
from maiga.label.formats import (
    MESSAGES,
    REJECTED,
    SkipRow,
    UnreadableRow,
    conversations_of,
    detect_format,
    jsonable,
    open_rows,
)
from maiga.label.reader import (
    MANIFEST,
    OUTPUT,
    PARTS,
    STATE_FILE,
    read_labelled,
)
from maiga.network.model import EmotionalNetwork
from maiga.thoughts import split_thoughts

__all__ = [
    "LabelJobMismatchError",
    "LabelSummary",
    "ThoughtCache",
    "label_conversations",
    "label_file",
    "read_labelled",
]

LABEL_FORMAT = "maiga.labelled_dataset"
# Raise when the rows or thoughts written change meaning; old parts are then not reused.
LABEL_FORMAT_VERSION = 1
DEFAULT_BATCH_SIZE = 128
logger = logging.getLogger(__name__)


class LabelJobMismatchError(ConfigError):
    """The output folder holds a labelling job made with other settings (or of unknown origin)."""


@dataclass
class LabelSummary:
    """What a labelling job read, labelled and skipped.

    Row, message and thought counts cover the whole job, including chunks finished by an
    earlier, interrupted run. ``thoughts == thoughts_scored + thoughts_from_cache``.

    Attributes:
        rows_read: input rows looked at (at most ``limit``).
        rows_labelled: rows written with thoughts.
        rows_skipped: reason -> number of whole rows left out for it.
        messages: labelled messages (rejected ones included).
        thoughts: thoughts in those messages.
        thoughts_scored: distinct thought texts the network scored.
        thoughts_from_cache: thoughts whose text had been scored before in the job.
        scored_this_run: thought texts scored by this call (0 when everything was resumed).
        chunks: chunks of ``chunk_rows`` rows in the job.
        chunks_resumed: chunks finished by an earlier run and kept.
        output: the labelled.jsonl written.
    """

    rows_read: int = 0
    rows_labelled: int = 0
    rows_skipped: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    thoughts: int = 0
    thoughts_scored: int = 0
    thoughts_from_cache: int = 0
    scored_this_run: int = 0
    chunks: int = 0
    chunks_resumed: int = 0
    output: Path | None = None

    @property
    def n_skipped(self) -> int:
        return sum(self.rows_skipped.values())

    def counts(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "output"}

    def add_chunk(self, stats: dict[str, Any]) -> None:
        for key in (
            "rows_read",
            "rows_labelled",
            "messages",
            "thoughts",
            "thoughts_scored",
            "thoughts_from_cache",
        ):
            setattr(self, key, getattr(self, key) + int(stats[key]))
        for reason, n in stats["rows_skipped"].items():
            self.rows_skipped[reason] = self.rows_skipped.get(reason, 0) + int(n)


# ---- conversations in memory ----------------------------------------------------------------


def label_conversations(
    conversations: Sequence[Sequence[dict]],
    network: EmotionalNetwork,
    cache: ThoughtCache | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[list[dict]]:
    """Each message with ``"thoughts": [{"start", "end", "values"}]`` added (inputs untouched).

    Messages are split into thoughts with the network's segmenter; ``start``/``end`` are the
    character span in that message's ``content`` and ``values`` follow
    ``network.schema.names``. Thought texts of all conversations share the encoder's batches,
    and a text already in ``cache`` (or seen earlier in this call) is not scored again; pass
    the same cache to several calls to carry that across them.
    """
    if isinstance(conversations, (str, dict)):
        raise DataError(
            f"label_conversations takes a list of conversations, got one "
            f"{type(conversations).__name__}; wrap a single conversation in a list."
        )
    if cache is not None and not isinstance(cache, ThoughtCache):
        raise TypeError(
            f"cache is a {type(cache).__name__}; pass a maiga.label.ThoughtCache "
            "(or None for a fresh one)."
        )
    cache = ThoughtCache() if cache is None else cache
    split = [_split_conversation(c, i, network) for i, c in enumerate(conversations)]

    keys = [
        [[cache.key(t.text) for t in thoughts] for thoughts in per_message]
        for per_message in split
    ]
    unseen: dict[str, str] = {}
    total = 0
    for per_message, per_message_keys in zip(split, keys):
        for thoughts, thought_keys in zip(per_message, per_message_keys):
            for thought, key in zip(thoughts, thought_keys):
                total += 1
                if key not in cache and key not in unseen:
                    unseen[key] = thought.text
    if unseen:
        values = network.predict(list(unseen.values()), batch_size=batch_size)
        if not np.isfinite(values).all():
            bad = list(unseen.values())[int(np.argwhere(~np.isfinite(values))[0][0])]
            raise MaigaError(
                f"The emotional network gave NaN or infinite values for the "
                f"thought {bad[:80]!r}; its weights are broken. Retrain it, or "
                "label with another network."
            )
        for key, row in zip(unseen, values):
            # Six decimals, as network.score reports them: more digits are float noise that
            # depends on which texts share an encoder batch.
            cache[key] = tuple(round(float(v), 6) for v in row)
    cache.scored += len(unseen)
    cache.reused += total - len(unseen)

    labelled = []
    for conversation, per_message, per_message_keys in zip(conversations, split, keys):
        labelled.append(
            [
                {
                    **message,
                    "thoughts": [
                        {"start": t.start, "end": t.end, "values": list(cache[key])}
                        for t, key in zip(thoughts, thought_keys)
                    ],
                }
                for message, thoughts, thought_keys in zip(
                    conversation, per_message, per_message_keys
                )
            ]
        )
    return labelled


def _split_conversation(conversation: Any, index: int, network: EmotionalNetwork) -> list:
    where = f"conversation #{index + 1}"
    if not isinstance(conversation, (list, tuple)):
        raise DataError(
            f"{where} is a {type(conversation).__name__}, not a list of messages. "
            "Pass a list of conversations, each a list of {role, content} dicts."
        )
    out = []
    for m, message in enumerate(conversation, start=1):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise DataError(
                f"{where} message #{m} has no text 'content' (got "
                f"{type(content).__name__}). Every message must be a "
                "{role, content} dict whose content is a string."
            )
        try:
            out.append(split_thoughts(content, network.segmenter))
        except MaigaError as exc:
            raise DataError(f"{where} message #{m}: {exc}") from None
    return out


# ---- a whole dataset file ---------------------------------------------------------------------


def label_file(
    input: str | Path,
    out_folder: str | Path,
    network: EmotionalNetwork | str | Path,
    *,
    format: str | None = None,
    messages_column: str = MESSAGES,
    chunk_rows: int = 256,
    progress: bool = True,
    limit: int | None = None,
    overwrite: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LabelSummary:
    """Label every row of ``input`` into ``out_folder`` (see the module docstring), resumably.

    Args:
        input: a dataset file or ``save_to_disk`` folder (see :mod:`maiga.label.sources`).
        out_folder: where the parts, labelled.jsonl and manifest.json go.
        network: an emotional network, or the folder of a saved one (loaded only after the
            input has been checked, so a wrong path fails in a second, not after loading).
        format: chat, instruction, prompt_response or hh; None detects it from the columns.
        messages_column: the column holding the messages in the chat format.
        chunk_rows: rows per part file: the most an interruption can lose.
        progress: show a progress bar over rows.
        limit: label only the first ``limit`` rows (in file order).
        overwrite: delete an earlier job's output in ``out_folder`` instead of refusing it.
        batch_size: texts per encoder batch.

    Rows that cannot be labelled are skipped and counted by reason (see ``rows_skipped``).
    """
    _check_count("chunk_rows", chunk_rows)
    _check_count("batch_size", batch_size)
    if limit is not None:
        _check_count("limit", limit)
    out = check_output_folder(Path(out_folder))
    source = open_rows(input)
    row_format = detect_format(
        source.columns, format, messages_column, where=f"Input {str(source.path)!r}"
    )
    n_rows = source.n_rows if limit is None else min(limit, source.n_rows)
    if n_rows == 0:
        raise DataError(f"Input {str(source.path)!r} has no rows; there is nothing to label.")
    network_path = None
    if not isinstance(network, EmotionalNetwork):
        from maiga.network.folder import load_network

        network_path = str(Path(network))
        network = load_network(network)

    job = {
        "label_format_version": LABEL_FORMAT_VERSION,
        "input": input_fingerprint(source.files(), source.path),
        "row_format": row_format,
        "messages_column": messages_column,
        "chunk_rows": chunk_rows,
        "limit": limit,
        "network": network_identity(network),
    }
    finished = _start_job(out, job, overwrite)
    if finished is not None:
        return finished

    n_chunks = math.ceil(n_rows / chunk_rows)
    cache = ThoughtCache()
    kept = _finished_parts(out / PARTS, n_chunks, chunk_rows, n_rows, cache)
    summary = LabelSummary(chunks=n_chunks, chunks_resumed=len(kept))
    if kept:
        logger.info(
            "Resuming: %d of %d chunks were labelled by an earlier run.", len(kept), n_chunks
        )
    chunk_stats = dict(kept)
    with _progress_bar(progress) as bar:
        task = bar.add_task("labelling rows", total=n_rows)
        bar.advance(task, sum(s["rows_read"] for s in kept.values()))
        todo = [i for i in range(n_chunks) if i not in kept]
        rows = source.rows(todo[0] * chunk_rows) if todo else iter(())
        for index in range(todo[0] if todo else n_chunks, n_chunks):
            count = min(chunk_rows, n_rows - index * chunk_rows)
            batch = list(islice(rows, count))
            if index in kept:  # finished earlier, after a chunk that was not
                continue
            chunk_stats[index] = _label_chunk(
                batch,
                index,
                index * chunk_rows,
                row_format,
                messages_column,
                network,
                cache,
                batch_size,
                out / PARTS,
            )
            summary.scored_this_run += chunk_stats[index]["thoughts_scored"]
            bar.advance(task, count)
    for index in range(n_chunks):
        summary.add_chunk(chunk_stats[index])

    summary.output = out / OUTPUT
    write_atomic(summary.output, lambda tmp: _concatenate(out / PARTS, n_chunks, tmp))
    write_json_atomic(
        out / MANIFEST,
        _manifest(
            summary,
            source,
            row_format,
            messages_column,
            chunk_rows,
            limit,
            network,
            network_path,
            job,
        ),
    )
    shutil.rmtree(out / PARTS, ignore_errors=True)
    if summary.rows_labelled == 0:
        logger.warning(
            "No row of %s could be labelled; skipped: %s", source.path, summary.rows_skipped
        )
    return summary


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} is {value!r}; it must be a positive whole number.")


def _start_job(out: Path, job: dict, overwrite: bool) -> LabelSummary | None:
    """Check ``out`` against ``job`` and record the job; a finished job returns its summary."""
    state_path = out / STATE_FILE
    ours = [out / PARTS, out / OUTPUT, out / MANIFEST, state_path]
    previous = _read_json(state_path) if state_path.is_file() else None
    if overwrite:
        for path in ours:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    elif previous is not None and previous.get("fingerprint") != job:
        changed = _differences(previous.get("fingerprint") or {}, job)
        raise LabelJobMismatchError(
            f"--out {str(out)!r} holds a labelling job made with other settings (changed: "
            f"{'; '.join(changed)}), so its finished parts cannot be reused for this one. "
            "Pick a new --out, or pass --overwrite to delete that output and start again."
        )
    elif previous is None and any(p.exists() for p in ours):
        raise LabelJobMismatchError(
            f"--out {str(out)!r} holds labelling output but no {STATE_FILE}, so it is not known "
            "how it was made. Pick a new --out, or pass --overwrite to delete it and start "
            "again."
        )
    elif (out / OUTPUT).is_file() and (out / MANIFEST).is_file():
        manifest = _read_json(out / MANIFEST)
        summary = LabelSummary(
            **{
                k: v
                for k, v in manifest.get("counts", {}).items()
                if k in LabelSummary.__dataclass_fields__
            }
        )
        summary.scored_this_run, summary.chunks_resumed = 0, summary.chunks
        summary.output = out / OUTPUT
        logger.info("%s is already labelled with these settings; nothing to do.", out)
        return summary
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(state_path, {"format": LABEL_FORMAT, "fingerprint": job})
    return None


def _differences(old: dict, new: dict) -> list[str]:
    changed = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if isinstance(new.get(key), dict) or isinstance(old.get(key), dict):
            changed.append(f"{key} differs")
        else:
            changed.append(f"{key} {old.get(key)!r} -> {new.get(key)!r}")
    return changed


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _part_paths(parts: Path, index: int) -> tuple[Path, Path]:
    """(rows, counts) of chunk ``index``."""
    return parts / f"part-{index:05d}.jsonl", parts / f"part-{index:05d}.json"


def _finished_parts(
    parts: Path, n_chunks: int, chunk_rows: int, n_rows: int, cache: ThoughtCache
) -> dict[int, dict]:
    """Counts of the chunks an earlier run finished; their thoughts go into ``cache``.

    A chunk is finished when its counts and then its rows were both written (each write is
    atomic, in that order). A part that does not read back cleanly is labelled again.
    """
    kept: dict[int, dict] = {}
    if not parts.is_dir():
        return kept
    for index in range(n_chunks):
        rows_path, stats_path = _part_paths(parts, index)
        if not (rows_path.is_file() and stats_path.is_file()):
            continue
        stats = _read_json(stats_path)
        expected = [index * chunk_rows, min((index + 1) * chunk_rows, n_rows)]
        if stats.get("rows") != expected:
            continue
        try:
            thoughts = _part_thoughts(rows_path)
        except DataError as exc:
            logger.warning("Part %s is damaged (%s); labelling its rows again.", rows_path, exc)
            continue
        for text, values in thoughts:
            cache.store(text, values)
        kept[index] = stats
    return kept


def _part_thoughts(path: Path) -> list[tuple[str, list[float]]]:
    """(thought text, values) of every thought in a part file."""
    found = []
    for row in read_labelled(path):  # checks every span and values list
        for key in (MESSAGES, REJECTED):
            for message in row.get(key, []):
                content = message["content"]
                for thought in message["thoughts"]:
                    found.append((content[thought["start"] : thought["end"]], thought["values"]))
    return found


def _label_chunk(
    batch: list,
    index: int,
    first_row: int,
    row_format: str,
    messages_column: str,
    network: EmotionalNetwork,
    cache: ThoughtCache,
    batch_size: int,
    parts: Path,
) -> dict[str, Any]:
    """Label one chunk of rows and write its part (counts first, then rows); return the counts."""
    skipped: dict[str, int] = {}
    kept, conversations = [], []
    for row in batch:
        try:
            if isinstance(row, UnreadableRow):
                raise SkipRow(row.reason)
            found = conversations_of(row, row_format, messages_column)
            _check_lengths(found, network.segmenter.max_chars)
        except SkipRow as skip:
            skipped[skip.reason] = skipped.get(skip.reason, 0) + 1
            continue
        kept.append((row, list(found)))
        conversations.extend(found.values())

    scored, reused = cache.scored, cache.reused
    labelled = iter(label_conversations(conversations, network, cache, batch_size))
    lines = []
    for row, keys in kept:
        out_row = {str(k): jsonable(v) for k, v in row.items()}
        for key in keys:
            out_row[key] = jsonable(next(labelled))
        lines.append(json.dumps(out_row, ensure_ascii=False, allow_nan=False) + "\n")

    stats = {
        "rows": [first_row, first_row + len(batch)],
        "rows_read": len(batch),
        "rows_labelled": len(kept),
        "rows_skipped": skipped,
        "messages": sum(len(c) for c in conversations),
        "thoughts": (cache.scored - scored) + (cache.reused - reused),
        "thoughts_scored": cache.scored - scored,
        "thoughts_from_cache": cache.reused - reused,
    }
    return _write_part(parts, index, lines, stats)


def _write_part(parts: Path, index: int, lines: list[str], stats: dict) -> dict:
    rows_path, stats_path = _part_paths(parts, index)
    write_json_atomic(stats_path, stats)
    write_text_atomic(rows_path, "".join(lines))
    return stats


def _check_lengths(conversations: dict[str, list[dict]], max_chars: int) -> None:
    for messages in conversations.values():
        if any(len(m["content"]) > max_chars for m in messages):
            raise SkipRow(f"message over {max_chars:,} characters")


def _concatenate(parts: Path, n_chunks: int, target: Path) -> None:
    with open(target, "wb") as out:
        for index in range(n_chunks):
            with open(_part_paths(parts, index)[0], "rb") as part:
                shutil.copyfileobj(part, out)


def _manifest(
    summary: LabelSummary,
    source,
    row_format: str,
    messages_column: str,
    chunk_rows: int,
    limit: int | None,
    network: EmotionalNetwork,
    network_path: str | None,
    job: dict,
) -> dict[str, Any]:
    schema = network.schema
    return {
        "format": LABEL_FORMAT,
        "format_version": LABEL_FORMAT_VERSION,
        "maiga_version": maiga.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "input": str(source.path),
        "input_kind": source.kind,
        "row_format": row_format,
        "messages_column": messages_column,
        "chunk_rows": chunk_rows,
        "limit": limit,
        "output": OUTPUT,
        "counts": summary.counts(),
        "schema_names": list(schema.names),
        "schema": schema.to_dict(),
        "segmenter": dict(network.segmenter.__dict__),
        "network": {
            "path": network_path,
            "encoder_ref": network.encoder_ref,
            "heads_sha256": heads_digest(network),
        },
        "thoughts": "each message has thoughts [{start, end, values}]: content[start:end] is "
        "the thought, values follow schema_names",
        "fingerprint": job,
    }


def _progress_bar(enabled: bool):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )

"""From a labelled conversation to tokens, per-token emotion inputs and a loss mask.

The rule for which emotions a token sees (the same at training and at generation time):

* Tokens of the prompt side (system and user messages and the chat template around them) are
  known in full before the model answers. Each is owned by the thought that holds its last
  non-space character, or else by the latest thought that started before it, and sees that
  thought's emotions (none yet: zeros).
* Tokens of an assistant message (from its first character up to the next message) see only
  thoughts that were complete when the token was written. "Complete" is decided exactly as the
  generation loop decides it: segment the message's text up to the end of the token; every
  thought but the last is complete; the token sees the latest of those. With none complete yet,
  it sees the last thought before the message. Deciding on the prefix (not on the final
  segmentation) matters for long sentences, which the segmenter cuts into overlapping windows
  only once they pass ``max_words``.

Loss is taken on the tokens of assistant messages and the one token that closes each of them (the
end-of-turn marker), so the model learns to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maiga.errors import DataError
from maiga.thoughts import SegmenterConfig, split_thoughts


class ContextTooLongError(DataError):
    """A conversation has more tokens than the model or the configured limit allows."""


@dataclass
class EncodedConversation:
    input_ids: list[int]
    emotions: np.ndarray  # (tokens, n_dims) float32
    loss_mask: np.ndarray  # (tokens,) bool
    last_thought_values: np.ndarray  # emotions the first response thought will see

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class _Span:
    start: int
    end: int
    values: np.ndarray
    message: int


def render(tokenizer, messages: list[dict], add_generation_prompt: bool) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise DataError(
            f"Tokenizer {type(tokenizer).__name__} has no chat template, so conversations cannot "
            "be laid out for it. Use an instruction-tuned base model or set "
            "tokenizer.chat_template."
        )
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    try:
        return tokenizer.apply_chat_template(
            plain, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    except Exception as exc:  # jinja errors (unknown roles, alternation rules) are input errors
        raise DataError(
            f"The model's chat template refused the conversation (roles "
            f"{[m['role'] for m in messages]}): {exc}. Use the roles and order it expects."
        ) from exc


def content_offsets(
    tokenizer, messages: list[dict], add_generation_prompt: bool
) -> tuple[str, list[int]]:
    """The rendered conversation and where each message's content starts in it.

    Contents are located by rendering once with unique placeholders, so a message whose text
    also occurs in template text (a system prompt the template adds) is still found in its place.
    """
    marks = [f"\u2063MAIGA{i}\u2063" for i in range(len(messages))]
    with_marks = render(
        tokenizer,
        [{**m, "content": mark} for m, mark in zip(messages, marks)],
        add_generation_prompt,
    )
    rendered = render(tokenizer, messages, add_generation_prompt)
    offsets, shift, cursor = [], 0, 0
    for index, (message, mark) in enumerate(zip(messages, marks)):
        at = with_marks.find(mark, cursor)
        real = at + shift
        if at < 0 or rendered[real : real + len(message["content"])] != message["content"]:
            raise DataError(
                f"Message #{index + 1} ({message['role']}) does not appear verbatim in the chat "
                "template's output, so its thoughts cannot be placed on tokens. The template "
                "probably rewrites content (strips or escapes it); strip the content before "
                "labelling."
            )
        offsets.append(real)
        shift += len(message["content"]) - len(mark)
        cursor = at + len(mark)
    return rendered, offsets


def encode_conversation(
    tokenizer,
    messages: list[dict],
    n_dims: int,
    *,
    add_generation_prompt: bool = False,
    max_length: int | None = None,
    segmenter: SegmenterConfig | None = None,
) -> EncodedConversation:
    """Tokenise a labelled conversation (messages with ``thoughts``) with its emotion inputs.

    ``segmenter`` must be the one the thoughts were made with (the emotional network's).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise DataError(
            f"Tokenizer {type(tokenizer).__name__} is not a fast tokenizer; maiga needs character "
            "offsets per token to place emotions. Load the model's tokenizer.json (use_fast=True)."
        )
    segmenter = segmenter or SegmenterConfig()
    rendered, starts = content_offsets(tokenizer, messages, add_generation_prompt)
    spans = _thought_spans(messages, starts, n_dims)
    encoding = tokenizer(rendered, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoding["input_ids"], encoding["offset_mapping"]
    if max_length is not None and len(ids) > max_length:
        raise ContextTooLongError(
            f"The conversation has {len(ids)} tokens, more than the limit of {max_length}. "
            "Shorten it, or raise max_length (up to the model's context window)."
        )
    emotions = np.zeros((len(ids), n_dims), dtype=np.float32)
    span_starts = np.array([s.start for s in spans])
    by_position = {(s.message, s.start, s.end): k for k, s in enumerate(spans)}
    # a token belongs to the message region of its last character, so a token that merges the
    # space before a reply with the reply's first word counts as part of the reply
    region = (
        np.searchsorted(np.array(starts), [max(a, b - 1) for a, b in offsets], side="right") - 1
    )
    prefix_cache: dict[tuple[int, int], int | None] = {}
    for t, (a, b) in enumerate(offsets):
        m = int(region[t])
        if m >= 0 and messages[m]["role"] == "assistant":
            seen = _seen_in_reply(
                messages, starts, spans, by_position, m, b, segmenter, prefix_cache
            )
        else:
            seen = _owner(rendered, a, b, spans, span_starts)
        if seen is not None:
            emotions[t] = spans[seen].values
    mask = _assistant_mask(offsets, messages, starts)
    last = spans[-1].values if spans else np.zeros(n_dims, dtype=np.float32)
    return EncodedConversation(list(ids), emotions, mask, last)


def _thought_spans(messages: list[dict], starts: list[int], n_dims: int) -> list[_Span]:
    spans = []
    for index, (message, offset) in enumerate(zip(messages, starts)):
        thoughts = message.get("thoughts")
        if thoughts is None:
            raise DataError(
                f"Message #{index + 1} has no 'thoughts'; the emotional LM needs labelled data. "
                "Label it first with `maiga label`."
            )
        for thought in thoughts:
            values = np.asarray(thought["values"], dtype=np.float32)
            if values.shape != (n_dims,):
                raise DataError(
                    f"A thought of message #{index + 1} has {values.size} emotion values; the "
                    f"emotional LM's schema has {n_dims}. Relabel with a matching emotional "
                    "network."
                )
            spans.append(
                _Span(offset + int(thought["start"]), offset + int(thought["end"]), values, index)
            )
    spans.sort(key=lambda s: (s.start, s.end))
    return spans


def _seen_in_reply(
    messages, starts, spans, by_position, m: int, token_end: int, segmenter, cache: dict
) -> int | None:
    """The thought an assistant token sees: the latest complete one of the reply so far."""
    content = messages[m]["content"]
    cut = int(min(max(token_end - starts[m], 0), len(content)))
    key = (m, cut)
    if key not in cache:
        done = split_thoughts(content[:cut], segmenter)[:-1] if content[:cut].strip() else []
        found = None
        if done:
            found = by_position.get((m, starts[m] + done[-1].start, starts[m] + done[-1].end))
            if found is None:
                raise DataError(
                    f"Message #{m + 1}'s thoughts do not match the segmenter's (a thought "
                    "ending at "
                    f"character {done[-1].end} is missing). Relabel the data with the emotional "
                    "network the LM uses, so thoughts and segmenter agree."
                )
        else:  # nothing of the reply is complete: the last thought before the message
            before = [k for k, s in enumerate(spans) if s.message < m]
            found = before[-1] if before else None
        cache[key] = found
    return cache[key]


def _owner(text: str, a: int, b: int, spans: list[_Span], span_starts: np.ndarray) -> int | None:
    if not spans:
        return None
    piece = text[a:b]
    stripped = len(piece.rstrip())
    if stripped:
        last_char = a + stripped - 1
        # the latest-starting thought that contains the character (windows may overlap)
        candidate = int(np.searchsorted(span_starts, last_char, side="right")) - 1
        while candidate >= 0 and spans[candidate].start <= last_char:
            if last_char < spans[candidate].end:
                return candidate
            candidate -= 1
    before = int(np.searchsorted(span_starts, a, side="left")) - 1
    return before if before >= 0 else None


def _assistant_mask(offsets, messages: list[dict], starts: list[int]) -> np.ndarray:
    mask = np.zeros(len(offsets), dtype=bool)
    token_starts = np.array([a for a, _ in offsets]) if offsets else np.zeros(0, dtype=int)
    for message, start in zip(messages, starts):
        if message["role"] != "assistant":
            continue
        end = start + len(message["content"])
        inside = (token_starts >= start) & (token_starts < end)
        # tokens that straddle the content start (a leading-space merge) count too
        inside |= np.array([a < start < b for a, b in offsets], dtype=bool)
        mask |= inside
        after = np.nonzero(token_starts >= end)[0]
        if after.size:
            mask[after[0]] = True  # the end-of-turn marker
    return mask

"""From a labelled conversation to tokens, per-token emotion inputs and a loss mask.

The rule for which emotions a token sees (the same at training and at generation time):

* Each token is owned by the thought that holds its last non-space character; a token of pure
  space or template text is owned by the latest thought that started before it (none: zeros).
* A token owned by a thought of a non-assistant message (system, user) sees that thought's
  emotions: the prompt is known in full before the model answers.
* A token owned by an assistant thought sees the emotions of the thought just before it in the
  conversation: while a thought is being written its emotions are not known yet, so response
  tokens only ever see thoughts that are complete. This is what the generation loop reproduces
  when it scores each thought as it completes.

Loss is taken on the tokens of assistant messages and the one token that closes each of them (the
end-of-turn marker), so the model learns to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maiga.errors import DataError


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
    assistant: bool


def render(tokenizer, messages: list[dict], add_generation_prompt: bool) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise DataError(
            f"Tokenizer {type(tokenizer).__name__} has no chat template, so conversations cannot "
            "be laid out for it. Use an instruction-tuned base model or set tokenizer.chat_template."
        )
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    return tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=add_generation_prompt)


def content_offsets(rendered: str, messages: list[dict]) -> list[int]:
    """Where each message's content starts in the rendered conversation."""
    offsets, cursor = [], 0
    for index, message in enumerate(messages):
        at = rendered.find(message["content"], cursor)
        if at < 0:
            raise DataError(
                f"Message #{index + 1} ({message['role']}) does not appear verbatim in the chat "
                "template's output, so its thoughts cannot be placed on tokens. The template "
                "probably rewrites content (strips or escapes it); strip the content before labelling."
            )
        offsets.append(at)
        cursor = at + len(message["content"])
    return offsets


def encode_conversation(tokenizer, messages: list[dict], n_dims: int, *,
                        add_generation_prompt: bool = False,
                        max_length: int | None = None) -> EncodedConversation:
    """Tokenise a labelled conversation (messages with ``thoughts``) with its emotion inputs."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError(
            f"Tokenizer {type(tokenizer).__name__} is not a fast tokenizer; maiga needs character "
            "offsets per token to place emotions. Load the model's tokenizer.json (use_fast=True)."
        )
    rendered = render(tokenizer, messages, add_generation_prompt)
    starts = content_offsets(rendered, messages)
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
    for t, (a, b) in enumerate(offsets):
        owner = _owner(rendered, a, b, spans, span_starts)
        if owner is None:
            continue
        if not spans[owner].assistant:
            emotions[t] = spans[owner].values
        elif owner > 0:
            emotions[t] = spans[owner - 1].values
    mask = _assistant_mask(rendered, offsets, messages, starts)
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
                    f"emotional LM's schema has {n_dims}. Relabel with a matching emotional network."
                )
            spans.append(_Span(offset + int(thought["start"]), offset + int(thought["end"]),
                               values, message["role"] == "assistant"))
    spans.sort(key=lambda s: (s.start, s.end))
    return spans


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


def _assistant_mask(text: str, offsets, messages: list[dict], starts: list[int]) -> np.ndarray:
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

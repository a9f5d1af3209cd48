"""Split text into thoughts with a rule-based sentence segmenter.

The essay ties emotions to thoughts, not tokens. A thought here is a sentence; a sentence longer
than ``max_words`` becomes overlapping windows of ``window_words`` words, so that no thought is
too long for the encoder and every word is covered. Each thought keeps the character span it
covers in the original text, so later stages can line thoughts up with tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maiga.errors import MaigaError

# Words ending in a full stop that rarely end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "cf", "fig",
    "no", "vol", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m", "approx", "dept", "est",
}
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space.
_BOUNDARY = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|\n\s*")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class SegmenterConfig:
    """How text is cut into thoughts.

    Attributes:
        max_words: a sentence with more words than this is cut into windows.
        window_words: words per window.
        stride_words: words between the starts of consecutive windows (overlap =
            window_words - stride_words).
        max_chars: texts longer than this are refused rather than scored slowly for minutes.
    """

    max_words: int = 48
    window_words: int = 32
    stride_words: int = 24
    max_chars: int = 200_000

    def __post_init__(self) -> None:
        if not 0 < self.stride_words <= self.window_words <= self.max_words:
            raise MaigaError(
                f"Segmenter settings stride_words={self.stride_words}, "
                f"window_words={self.window_words}, max_words={self.max_words} are inconsistent: "
                "they need 0 < stride_words <= window_words <= max_words."
            )


@dataclass(frozen=True)
class Thought:
    """One thought: its text and the character span [start, end) it covers in the source."""

    text: str
    start: int
    end: int
    is_window: bool = False


def check_text(text: object, max_chars: int, what: str = "text") -> str:
    """Refuse empty, whitespace-only, non-string and over-long texts with a clear message."""
    if not isinstance(text, str):
        raise MaigaError(f"The {what} is a {type(text).__name__}, not a string; pass plain text.")
    if not text.strip():
        raise MaigaError(
            f"The {what} is empty or only whitespace ({len(text)} characters); "
            "there is nothing to score. Pass text with at least one word."
        )
    if len(text) > max_chars:
        raise MaigaError(
            f"The {what} has {len(text):,} characters, more than the limit of {max_chars:,}. "
            "Split it into smaller documents, or raise the limit (SegmenterConfig.max_chars, "
            "CLI --max-chars) if you accept the time it takes."
        )
    return text


def split_thoughts(text: str, config: SegmenterConfig | None = None) -> list[Thought]:
    """Split ``text`` into thoughts (sentences, long ones into overlapping windows)."""
    config = config or SegmenterConfig()
    check_text(text, config.max_chars)
    thoughts: list[Thought] = []
    for start, end in _sentence_spans(text):
        thoughts.extend(_windows(text, start, end, config))
    return thoughts


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().strip() and _continues(text, match.start(), end):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))

    trimmed = []
    for s, e in spans:
        piece = text[s:e]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            trimmed.append((s + lead, e - trail))
    return trimmed


def _continues(text: str, mark_at: int, after: int) -> bool:
    """True if the punctuation at ``mark_at`` does not end the sentence.

    That is the case after an abbreviation or an initial ("Dr.", "J."), and when the next word
    starts in lower case ('"Why?" she asked').
    """
    rest = text[after:].lstrip(" \t")
    if rest[:1].islower():
        return True
    if text[mark_at] != ".":
        return False
    dot_at = mark_at
    word_start = max(text.rfind(" ", 0, dot_at), text.rfind("\n", 0, dot_at)) + 1
    word = text[word_start:dot_at].lower().lstrip("(\"'")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _windows(text: str, start: int, end: int, config: SegmenterConfig) -> list[Thought]:
    """One thought for a short sentence; overlapping word windows for a long one."""
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    if len(words) <= config.max_words:
        return [Thought(text[start:end], start, end)]
    out = []
    first = 0
    while True:
        last = min(first + config.window_words, len(words))
        s, e = words[first][0], words[last - 1][1]
        out.append(Thought(text[s:e], s, e, is_window=True))
        if last == len(words):
            return out
        first += config.stride_words

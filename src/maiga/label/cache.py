"""Emotion values of thought texts already scored, so no thought text is scored twice.

Chat datasets repeat themselves: system prompts, greetings, refusals and HH dialogues whose
chosen and rejected versions share every turn but the last. Scoring each distinct text once
is often the largest saving of a labelling run.
"""

from __future__ import annotations

import hashlib


class ThoughtCache(dict):
    """``sha256(thought text) -> values`` (a tuple in schema order), plus usage counters.

    Attributes:
        scored: thought texts sent to the network through this cache.
        reused: thoughts whose values were already here (including repeats inside one call).
    """

    def __init__(self) -> None:
        super().__init__()
        self.scored = 0
        self.reused = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def lookup(self, text: str) -> tuple[float, ...] | None:
        return self.get(self.key(text))

    def store(self, text: str, values) -> None:
        self[self.key(text)] = tuple(float(v) for v in values)

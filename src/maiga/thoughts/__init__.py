"""Thoughts: the unit that emotions belong to (sentences, or windows of long sentences)."""

from maiga.thoughts.segment import SegmenterConfig, Thought, split_thoughts

__all__ = ["SegmenterConfig", "Thought", "split_thoughts"]

from __future__ import annotations

import pytest

from maiga.errors import MaigaError
from maiga.thoughts import SegmenterConfig, split_thoughts


def test_sentences_with_spans():
    text = 'Dr. Smith came home. He was sad!  "Why?" she asked... Nobody knew.\nA new line'
    thoughts = split_thoughts(text)
    assert [t.text for t in thoughts] == [
        "Dr. Smith came home.", "He was sad!", '"Why?" she asked...', "Nobody knew.", "A new line"
    ]
    for t in thoughts:
        assert text[t.start : t.end] == t.text


def test_long_sentence_becomes_overlapping_windows_covering_every_word():
    config = SegmenterConfig(max_words=10, window_words=8, stride_words=5)
    words = [f"w{i}" for i in range(23)]
    thoughts = split_thoughts(" ".join(words), config)
    assert all(t.is_window for t in thoughts)
    assert all(len(t.text.split()) <= 8 for t in thoughts)
    covered = {w for t in thoughts for w in t.text.split()}
    assert covered == set(words)
    assert thoughts[0].text.split()[5] == thoughts[1].text.split()[0]  # overlap of 3 words


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_refused(text):
    with pytest.raises(MaigaError, match="empty"):
        split_thoughts(text)


def test_huge_text_is_refused_with_the_limit_named():
    with pytest.raises(MaigaError, match="max_chars"):
        split_thoughts("word " * 250_000)


def test_inconsistent_windows_are_refused():
    with pytest.raises(MaigaError, match="inconsistent"):
        SegmenterConfig(max_words=10, window_words=20, stride_words=5)

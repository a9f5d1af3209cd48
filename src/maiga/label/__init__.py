"""Label chat and instruction datasets with an emotional network, thought by thought."""

from maiga.label.cache import ThoughtCache
from maiga.label.formats import FORMATS, conversations_of, detect_format, parse_hh_transcript
from maiga.label.labeller import LabelSummary, label_conversations, label_file
from maiga.label.reader import read_labelled
from maiga.label.sources import open_rows

__all__ = [
    "FORMATS",
    "LabelSummary",
    "ThoughtCache",
    "conversations_of",
    "detect_format",
    "label_conversations",
    "label_file",
    "open_rows",
    "parse_hh_transcript",
    "read_labelled",
]

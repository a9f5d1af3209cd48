"""Dataset readers by name: each turns one dataset folder into a validated long table.

``get_reader(name)`` is how loading and the CLI find a reader, so adding a dataset means adding
one module and one entry in ``READERS``.
"""

from __future__ import annotations

from collections.abc import Callable

from maiga.data.readers.base import ReadResult
from maiga.data.readers.emobank import read_emobank
from maiga.data.readers.generic import read_table_file
from maiga.data.readers.goemotions import read_goemotions, read_goemotions_raters
from maiga.data.readers.snow2008 import read_snow2008
from maiga.errors import DataError

Reader = Callable[..., ReadResult]

READERS: dict[str, Reader] = {
    "goemotions": read_goemotions,
    "emobank": read_emobank,
    "snow2008": read_snow2008,
}


def get_reader(name: str) -> Reader:
    """The reader registered under ``name``; an unknown name lists the names that exist."""
    try:
        return READERS[name]
    except KeyError:
        raise DataError(
            f"No dataset reader is called {name!r}. Readers: {', '.join(sorted(READERS))}; "
            "for your own CSV/TSV/JSONL file use read_table_file (or pass its path)."
        ) from None


__all__ = [
    "READERS", "ReadResult", "get_reader", "read_emobank", "read_goemotions",
    "read_goemotions_raters", "read_snow2008", "read_table_file",
]

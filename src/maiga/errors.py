"""Errors that maiga raises for bad input.

Every message says three things: what was passed, why it is wrong, and what to do about it.
The CLI prints these without a traceback.
"""

from __future__ import annotations


class MaigaError(Exception):
    """Base class of every error that reaches a user because of their input."""


class SchemaError(MaigaError):
    """An emotion schema is invalid (all problems are listed at once)."""


class DataError(MaigaError):
    """A dataset, table or file does not have the shape maiga needs."""


class MappingError(MaigaError):
    """A label mapping does not fit the dataset or the schema."""


class ModelNotFoundError(MaigaError):
    """A model name or path could not be resolved to files on disk."""


class ConfigError(MaigaError):
    """A run or training configuration is invalid."""


def problems_error(kind: type[MaigaError], subject: str, problems: list[str], fix: str) -> MaigaError:
    """Build one error that lists every problem found, so a user fixes them all in one go."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return kind(f"{subject} has {len(problems)} problem(s):\n{lines}\n{fix}")

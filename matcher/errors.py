"""Exception types: every error says what went wrong and how to fix it."""

from __future__ import annotations

__all__ = [
    "MatcherError",
    "SchemaError",
    "InputFileError",
    "ConfigError",
    "NotFittedError",
    "StoreError",
]


class MatcherError(Exception):
    """Base class of every error matcher raises on purpose."""


class SchemaError(MatcherError, ValueError):
    """A value in an input row breaks the data contract (file, row, field, fix)."""


class InputFileError(MatcherError, ValueError):
    """An input file cannot be read at all: missing, not UTF-8, unknown format, wrong columns."""


class ConfigError(MatcherError, ValueError):
    """A configuration value is out of range or of the wrong type."""


class NotFittedError(MatcherError, ValueError, AttributeError):
    """A component was used before ``fit``/``build`` (or ``load``) gave it state."""


class StoreError(MatcherError, RuntimeError):
    """The store is missing, has no published snapshot, or fails its integrity checks."""

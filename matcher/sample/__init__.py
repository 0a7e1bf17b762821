"""Seeded generator of a realistic sample dataset: creators, posts, brands, comments, outcomes
of past campaigns and ground-truth labels.

``generator`` makes the tables (its docstring describes the data model), ``vocabulary``
reads the words they are made of from ``data/*.json``, and ``python -m matcher.sample``
runs :func:`main`.
"""

from __future__ import annotations

from matcher.sample.generator import (
    FAKE_PATTERNS,
    NICHES,
    REFERENCE_DATE,
    TIERS,
    WINDOW_DAYS,
    SampleInfo,
    generate,
    main,
    tier_of,
)

__all__ = [
    "NICHES",
    "REFERENCE_DATE",
    "WINDOW_DAYS",
    "FAKE_PATTERNS",
    "TIERS",
    "SampleInfo",
    "generate",
    "tier_of",
    "main",
]

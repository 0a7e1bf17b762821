"""matcher: find the creators whose own content fits a brand, ranked by engagement and trust, with reasons.

The public names below are imported on first use (PEP 562), so ``import matcher`` and the
``matcher`` command's help load neither pandas, pyarrow, FAISS nor the encoder; ``matcher.Matcher``
imports the engine the first time it is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matcher.batch import BatchResult, run_batch
    from matcher.config import Config, Weights
    from matcher.engine import Matcher
    from matcher.errors import MatcherError
    from matcher.niches import NicheModel, niche_agreement
    from matcher.schema import AudienceOverlap, Brand, Collaboration, Evidence, Filters, Match, NicheScore, PriceEstimate, Shortlist, ShortlistPick

__all__ = [
    "Matcher",
    "Match",
    "Evidence",
    "NicheScore",
    "Collaboration",
    "PriceEstimate",
    "Shortlist",
    "ShortlistPick",
    "AudienceOverlap",
    "NicheModel",
    "niche_agreement",
    "Brand",
    "Filters",
    "Config",
    "Weights",
    "run_batch",
    "BatchResult",
    "MatcherError",
]

__version__ = "0.1.0"

# Each public name and the module that defines it.
_HOME = {
    "Matcher": "matcher.engine",
    "Match": "matcher.schema",
    "Evidence": "matcher.schema",
    "NicheScore": "matcher.schema",
    "Collaboration": "matcher.schema",
    "PriceEstimate": "matcher.schema",
    "Shortlist": "matcher.schema",
    "ShortlistPick": "matcher.schema",
    "AudienceOverlap": "matcher.schema",
    "NicheModel": "matcher.niches",
    "niche_agreement": "matcher.niches",
    "Brand": "matcher.schema",
    "Filters": "matcher.schema",
    "Config": "matcher.config",
    "Weights": "matcher.config",
    "run_batch": "matcher.batch",
    "BatchResult": "matcher.batch",
    "MatcherError": "matcher.errors",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""matcher: find the creators whose own content fits a brand, ranked by engagement and trust, with reasons."""

from matcher.batch import BatchResult, run_batch
from matcher.config import Config, Weights
from matcher.engine import Matcher
from matcher.errors import MatcherError
from matcher.niches import NicheModel, niche_agreement
from matcher.schema import Brand, Evidence, Filters, Match, NicheScore

__all__ = [
    "Matcher",
    "Match",
    "Evidence",
    "NicheScore",
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

"""matcher: find the creators whose own content fits a brand, ranked by engagement and trust, with reasons."""

from matcher.batch import BatchResult, run_batch
from matcher.config import Config, Weights
from matcher.engine import Matcher
from matcher.errors import MatcherError
from matcher.schema import Brand, Evidence, Filters, Match

__all__ = [
    "Matcher",
    "Match",
    "Evidence",
    "Brand",
    "Filters",
    "Config",
    "Weights",
    "run_batch",
    "BatchResult",
    "MatcherError",
]

__version__ = "0.1.0"

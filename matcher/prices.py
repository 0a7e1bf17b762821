"""Per-post price estimates per creator: published industry rates as the prior, calibrated on a user's own past prices.

A price is always a range with its basis, never one precise figure. The prior is the per-post rate
range that Influencer Marketing Hub publishes by platform and follower tier (:data:`PUBLISHED_RATES`).
Within a tier the typical price follows the follower count on a log scale, from the bottom of the
published range at the tier's smallest accounts to its top at the largest. That typical price is
then adjusted for the creator's credible engagement relative to its tier's median (the
``credible_engagement_rate`` and ``tier_median_rate`` of :func:`matcher.signals.compute_signals`) and
for whether it has a sponsored-post history, by at most the published ranges' own spread.

:class:`PriceCalibration` fits, per platform, a log-price model on the user's past prices (an
optional ``price`` column in the outcomes table), shrunk toward the prior: with few prices the
estimate stays close to the prior; with none it *is* the prior. It is saved pickle-free, as JSON
with a manifest that holds its checksum.

A creator whose follower count is unknown gets no price (NaN), never a guess.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.config import PriceConfig
from matcher.errors import ConfigError, StoreError

__all__ = [
    "PUBLISHED_RATES",
    "RATE_SOURCE",
    "PRICE_COLUMNS",
    "PRICE_MODEL_FILE",
    "PRICE_MANIFEST_FILE",
    "PriceCalibration",
    "prior_price",
    "estimate_prices",
    "load_price_calibration",
    "price_text",
    "price_inputs",
    "validate_calibration",
    "PLAN_COLUMNS",
    "creator_plan",
]

logger = logging.getLogger(__name__)

#: Where the prior comes from.
RATE_SOURCE = "Influencer Marketing Hub per-post rates"

#: Published per-post rates in USD by platform and follower tier, as Influencer Marketing Hub
#: publishes them ("Influencer Rates: How Much Do Influencers Really Cost"; tiers nano 1k-10k,
#: micro 10k-50k, mid-tier 50k-500k, macro 500k-1M, mega 1M+ followers):
#:
#: * Instagram: nano $10-$100, micro $100-$500, mid-tier $500-$5,000, macro $5,000-$10,000, mega $10,000+;
#: * YouTube (per video): nano $20-$200, micro $200-$1,000, mid-tier $1,000-$10,000, macro $10,000-$20,000, mega $20,000+;
#: * TikTok: nano $5-$25, micro $25-$125, mid-tier $125-$1,250, macro $1,250-$2,500, mega $2,500+.
#:
#: The figures are quoted as they circulate in guides that cite the publisher; one of them gives TikTok
#: mid-tier as $125-$1,000 and macro as $2,000-$4,000 instead, and another gives $125-$2,500 for all of
#: 100k-1M, so the TikTok macro row is the least certain. Other published tables agree in order of
#: magnitude (Hootsuite: Instagram nano $25-$150 and mid-tier $160-$1,800 per post). Each row: (tier, followers from, followers to, price from,
#: price to); the top tier's price is open-ended (None). These tiers are the publisher's, not
#: matcher's own follower tiers (:data:`matcher.signals.TIERS`, which split micro at 100k).
PUBLISHED_RATES: dict[str, tuple[tuple[str, float, float, float, float | None], ...]] = {
    "instagram": (
        ("nano", 1_000, 10_000, 10, 100),
        ("micro", 10_000, 50_000, 100, 500),
        ("mid", 50_000, 500_000, 500, 5_000),
        ("macro", 500_000, 1_000_000, 5_000, 10_000),
        ("mega", 1_000_000, math.inf, 10_000, None),
    ),
    "youtube": (
        ("nano", 1_000, 10_000, 20, 200),
        ("micro", 10_000, 50_000, 200, 1_000),
        ("mid", 50_000, 500_000, 1_000, 10_000),
        ("macro", 500_000, 1_000_000, 10_000, 20_000),
        ("mega", 1_000_000, math.inf, 20_000, None),
    ),
    "tiktok": (
        ("nano", 1_000, 10_000, 5, 25),
        ("micro", 10_000, 50_000, 25, 125),
        ("mid", 50_000, 500_000, 125, 1_250),
        ("macro", 500_000, 1_000_000, 1_250, 2_500),
        ("mega", 1_000_000, math.inf, 2_500, None),
    ),
}

#: The columns :func:`estimate_prices` returns.
PRICE_COLUMNS = ("price_low", "price_mid", "price_high", "price_basis")

#: The calibration in a store's root, written by ``matcher train``, and its manifest.
PRICE_MODEL_FILE = "price_model.json"
PRICE_MANIFEST_FILE = "price_model.manifest.json"
PRICE_FORMAT = "matcher-price-calibration"
PRICE_VERSION = 1

# Engagement ratios are clipped to this range before they adjust a price: a ratio far outside it
# is more likely a measurement problem (the signals flag it) than a reason to pay 10x.
_RATIO_CLIP = (0.1, 10.0)


def _tables() -> dict[str, dict[str, np.ndarray]]:
    """Per platform: follower anchors, log-price anchors and the elasticity of each segment."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for platform, rows in PUBLISHED_RATES.items():
        f_lo = np.array([r[1] for r in rows], dtype=float)
        p_lo = np.array([r[3] for r in rows], dtype=float)
        closed = [r for r in rows if r[4] is not None]
        elasticity = np.array([math.log(r[4] / r[3]) / math.log(r[2] / r[1]) for r in closed])
        spread = float(np.median([math.sqrt(r[4] / r[3]) for r in closed]))
        out[platform] = {"log_f": np.log(f_lo), "log_p": np.log(p_lo), "elasticity": elasticity, "spread": np.array(spread)}
    return out


_RATES = _tables()


def _base_log_price(platform: str, log_f: np.ndarray) -> np.ndarray:
    """ln of the typical published price at each ln(followers): piecewise linear in log-log through
    the bottom of each tier's range, extended below the first tier and above the last with the
    elasticity of the nearest closed tier."""
    t = _RATES[platform]
    xs, ys, el = t["log_f"], t["log_p"], t["elasticity"]
    inside = np.interp(log_f, xs, ys)
    below = ys[0] + el[0] * (log_f - xs[0])
    above = ys[-1] + el[-1] * (log_f - xs[-1])
    return np.where(log_f < xs[0], below, np.where(log_f > xs[-1], above, inside))


def _publisher_tier(platform: str, followers: np.ndarray) -> np.ndarray:
    rows = PUBLISHED_RATES[platform]
    edges = np.array([r[1] for r in rows[1:]], dtype=float)
    names = np.array([r[0] for r in rows], dtype=object)
    return names[np.searchsorted(edges, followers, side="right")]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _features(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The inputs every estimate reads, as arrays aligned with ``frame``."""
    platform = (
        frame["platform"].astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
        if "platform" in frame
        else np.full(len(frame), "", dtype=object)
    )
    followers = _column(frame, "followers")
    followers = np.where(followers > 0, followers, np.nan)
    if "engagement_ratio_credible" in frame:
        ratio = _column(frame, "engagement_ratio_credible")
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = _column(frame, "credible_engagement_rate") / _column(frame, "tier_median_rate")
    ratio = np.where(np.isfinite(ratio) & (ratio > 0), np.clip(ratio, *_RATIO_CLIP), np.nan)
    sponsored = _column(frame, "sponsored_posts")
    return {
        "platform": platform,
        "followers": followers,
        "log_ratio": np.log(ratio),
        # Unknown history (no sponsored_posts column) counts as none.
        "sponsored": np.nan_to_num(sponsored, nan=0.0) > 0,
    }


def prior_price(frame: pd.DataFrame, *, config: PriceConfig | None = None) -> pd.DataFrame:
    """The prior's log price per row of ``frame``: ``log_mid`` (NaN where no estimate is possible),
    the publisher's ``rate_tier`` and the design columns calibration fits on."""
    cfg = config or PriceConfig()
    x = _features(frame)
    n = len(frame)
    log_mid = np.full(n, np.nan)
    rate_tier = np.full(n, "", dtype=object)
    for platform in _RATES:
        rows = (x["platform"] == platform) & np.isfinite(x["followers"])
        if not rows.any():
            continue
        log_f = np.log(x["followers"][rows])
        base = _base_log_price(platform, log_f)
        # Engagement above the tier's median earns more, below it less; a creator without a
        # sponsored-post history has no rate card yet. Together they move the price by at most the
        # published ranges' own spread either way.
        adj = cfg.engagement_elasticity * np.nan_to_num(x["log_ratio"][rows]) + np.where(x["sponsored"][rows], 0.0, math.log(cfg.unsponsored_factor))
        bound = math.log(float(_RATES[platform]["spread"]))
        log_mid[rows] = base + np.clip(adj, -bound, bound)
        rate_tier[rows] = _publisher_tier(platform, x["followers"][rows])
    return pd.DataFrame(
        {
            "platform": x["platform"],
            "log_mid": log_mid,
            "rate_tier": rate_tier,
            "log_followers": np.log(x["followers"]),
            "log_ratio": np.nan_to_num(x["log_ratio"]),
            "sponsored": x["sponsored"].astype(float),
        },
        index=frame.index,
    )


def _design(prior: pd.DataFrame, reference_followers: float) -> np.ndarray:
    """Calibration features: intercept, ln(followers / reference), ln(engagement ratio), sponsored history."""
    return np.column_stack(
        [
            np.ones(len(prior)),
            prior["log_followers"].to_numpy() - math.log(reference_followers),
            prior["log_ratio"].to_numpy(),
            prior["sponsored"].to_numpy(),
        ]
    )


_FEATURES = ("intercept", "log_followers", "log_engagement_ratio", "sponsored_history")


@dataclass(frozen=True)
class _PlatformFit:
    coef: tuple[float, ...]
    sigma: float
    n: int


class PriceCalibration:
    """A log-price model per platform fitted on a user's own past prices, shrunk toward the prior.

    For each platform with prices, the residuals ``r = ln(price) − ln(prior mid)`` are fitted by a
    ridge regression on intercept, ln(followers), ln(credible engagement ratio) and sponsored
    history, with penalty ``prior_strength`` (the number of prices the prior is worth): the
    coefficients start at 0 (the prior) and move toward the user's prices as they accumulate. The
    follower coefficient is kept above minus the prior's smallest elasticity, so a larger audience
    never costs less. The spread of the range is the residual spread, shrunk the same way toward
    ``prior_log_sd``.

    Example::

        cal = PriceCalibration(config=cfg.prices).fit(signals_with_platform, outcomes)
        cal.save(store_root)
    """

    def __init__(self, *, config: PriceConfig | None = None) -> None:
        self.config = config or PriceConfig()

    def fit(self, frame: pd.DataFrame, prices: pd.DataFrame) -> PriceCalibration:
        """Fit on ``prices`` (columns ``creator_id`` and ``price`` in USD, blanks ignored) joined to the
        per-creator ``frame`` (as for :func:`estimate_prices`, with a ``creator_id`` column or index).

        Prices of creators not in ``frame``, or without a follower count or platform rates, are
        counted in ``skipped_`` and not used. Returns ``self``.
        """
        cfg = self.config
        table = frame.set_index("creator_id") if "creator_id" in frame.columns else frame
        table = table[~table.index.duplicated()]
        p = prices.loc[:, ["creator_id", "price"]].copy()
        p["creator_id"] = p["creator_id"].astype(str)
        p["price"] = pd.to_numeric(p["price"], errors="coerce")
        p = p[np.isfinite(p["price"]) & (p["price"] > 0)]
        known = p["creator_id"].isin(table.index.astype(str))
        rows = table.loc[p.loc[known, "creator_id"]]
        prior = prior_price(rows, config=cfg)
        ok = np.isfinite(prior["log_mid"].to_numpy())
        self.skipped_ = int((~known).sum() + (~ok).sum())
        prior = prior[ok]
        logp = np.log(p.loc[known, "price"].to_numpy()[ok])
        self.platforms_: dict[str, _PlatformFit] = {}
        for platform in sorted(set(prior["platform"])):
            sel = (prior["platform"] == platform).to_numpy()
            X = _design(prior[sel], cfg.reference_followers)
            r = logp[sel] - prior["log_mid"].to_numpy()[sel]
            lam = cfg.prior_strength * np.eye(X.shape[1])
            coef = np.linalg.solve(X.T @ X + lam, X.T @ r)
            floor = -(float(_RATES[platform]["elasticity"].min()) - 0.05)
            if coef[1] < floor:  # refit the rest with the follower slope held at its floor
                coef[1] = floor
                rest = [0, 2, 3]
                Xr = X[:, rest]
                coef[rest] = np.linalg.solve(Xr.T @ Xr + cfg.prior_strength * np.eye(len(rest)), Xr.T @ (r - floor * X[:, 1]))
            resid = r - X @ coef
            n = int(sel.sum())
            # The residuals' spread, with the degrees of freedom the fit used taken off, so a range
            # fitted on few prices is not narrower than the prices it has not seen.
            dof = max(0.0, n - float(np.trace(np.linalg.solve(X.T @ X + lam, X.T @ X))))
            sigma = math.sqrt((cfg.prior_strength * cfg.prior_log_sd**2 + float(resid @ resid)) / (cfg.prior_strength + dof))
            self.platforms_[platform] = _PlatformFit(coef=tuple(float(c) for c in coef), sigma=sigma, n=n)
        self.n_prices_ = int(sum(f.n for f in self.platforms_.values()))
        self.fitted_at_ = datetime.now(timezone.utc).isoformat(timespec="seconds")
        logger.info("price calibration: %d prices over %s (%d skipped)", self.n_prices_, ", ".join(self.platforms_) or "no platform", self.skipped_)
        return self

    # -- files ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The calibration as plain JSON-ready values (the config it was fitted with included)."""
        if not hasattr(self, "platforms_"):
            raise ConfigError("the price calibration is not fitted; call fit(frame, prices) first")
        cfg = self.config
        return {
            "format": PRICE_FORMAT,
            "version": PRICE_VERSION,
            "fitted_at": self.fitted_at_,
            "features": list(_FEATURES),
            "prior": {"source": RATE_SOURCE, "prior_strength": cfg.prior_strength, "prior_log_sd": cfg.prior_log_sd, "reference_followers": cfg.reference_followers},
            "prices": self.n_prices_,
            "skipped": self.skipped_,
            "platforms": {k: {"coef": list(v.coef), "sigma": v.sigma, "n": v.n} for k, v in self.platforms_.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, config: PriceConfig | None = None, source: str = "price calibration") -> PriceCalibration:
        """Rebuild a calibration from :meth:`to_dict`'s values.

        Raises:
            StoreError: the values are not a price calibration of this version.
        """
        if data.get("format") != PRICE_FORMAT or data.get("version") != PRICE_VERSION:
            raise StoreError(f"{source}: not a {PRICE_FORMAT} v{PRICE_VERSION} file; run 'matcher train' again or delete it")
        cal = cls(config=config)
        try:
            cal.platforms_ = {
                str(k): _PlatformFit(coef=tuple(float(c) for c in v["coef"]), sigma=float(v["sigma"]), n=int(v["n"]))
                for k, v in dict(data["platforms"]).items()
            }
            if any(len(f.coef) != len(_FEATURES) or not all(math.isfinite(c) for c in f.coef) or not (f.sigma > 0) for f in cal.platforms_.values()):
                raise ValueError("coefficients or spread out of range")
            cal.n_prices_ = int(data["prices"])
            cal.skipped_ = int(data.get("skipped", 0))
            cal.fitted_at_ = str(data.get("fitted_at", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"{source}: damaged ({exc}); run 'matcher train' again or delete it") from None
        return cal

    def save(self, directory: str | Path) -> Path:
        """Write :data:`PRICE_MODEL_FILE` and its manifest (sha256 and size) into ``directory``,
        each atomically (temp file, fsync, rename). Returns the model's path."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        body = json.dumps(self.to_dict(), indent=2, sort_keys=True).encode()
        manifest = {"format": PRICE_FORMAT, "version": PRICE_VERSION, "file": PRICE_MODEL_FILE, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        _write_atomic(d / PRICE_MODEL_FILE, body)
        _write_atomic(d / PRICE_MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True).encode())
        return d / PRICE_MODEL_FILE

    @classmethod
    def load(cls, directory: str | Path, *, config: PriceConfig | None = None) -> PriceCalibration:
        """Read a calibration written by :meth:`save`, after its checksum matches the manifest.

        Raises:
            StoreError: a file is missing, its checksum or size does not match, or it is damaged.
        """
        d = Path(directory)
        where = d / PRICE_MODEL_FILE
        try:
            manifest = json.loads((d / PRICE_MANIFEST_FILE).read_text())
            if manifest.get("format") != PRICE_FORMAT or manifest.get("version") != PRICE_VERSION:
                raise StoreError(f"{d / PRICE_MANIFEST_FILE}: not a {PRICE_FORMAT} v{PRICE_VERSION} manifest; run 'matcher train' again")
            size = int(manifest["bytes"])
            with open(where, "rb") as fh:
                body = fh.read(size + 1)
        except FileNotFoundError as exc:
            raise StoreError(f"{exc.filename}: missing; run 'matcher train' again or delete {where.name} and its manifest") from None
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"{d / PRICE_MANIFEST_FILE}: damaged ({exc}); run 'matcher train' again") from None
        if len(body) != size or hashlib.sha256(body).hexdigest() != manifest.get("sha256"):
            raise StoreError(f"{where}: does not match its manifest (checksum or size); run 'matcher train' again")
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(f"{where}: not valid JSON ({exc}); run 'matcher train' again") from None
        return cls.from_dict(data, config=config, source=str(where))

    def digest(self) -> str:
        """A hash of the fitted values (what a batch run's checkpoints depend on)."""
        return hashlib.sha256(json.dumps(self.to_dict()["platforms"], sort_keys=True).encode()).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_price_calibration(store: str | Path, *, config: PriceConfig | None = None) -> PriceCalibration | None:
    """The store's price calibration (``matcher train``), or None when it has none.

    Raises:
        StoreError: the calibration is there but does not verify.
    """
    root = Path(store)
    if not (root / PRICE_MODEL_FILE).exists() and not (root / PRICE_MANIFEST_FILE).exists():
        return None
    return PriceCalibration.load(root, config=config)


def price_inputs(creators: pd.DataFrame, signals: pd.DataFrame) -> pd.DataFrame:
    """The frame :func:`estimate_prices` reads: the per-creator ``signals`` (rows aligned with
    ``creators``) with the creators' ``platform``."""
    sig = signals.reset_index(drop=True)
    if "platform" in sig or "platform" not in creators:
        return sig
    return sig.assign(platform=creators["platform"].reset_index(drop=True))


def validate_calibration(
    frame: pd.DataFrame, prices: pd.DataFrame, *, config: PriceConfig | None = None, test_size: float = 0.25, seed: int = 0
) -> dict[str, Any]:
    """How well the ranges hold prices they were not fitted on: prior alone vs calibrated.

    The creators with prices are split (``test_size`` held out, by creator, so no creator is in
    both parts); the calibration is fitted on the rest and both estimates are scored on the held-out
    prices: ``coverage`` (share of prices inside [low, high]; the target is ``prices.interval``),
    ``median_abs_log_error`` (median |ln(price / mid)|; 0.1 is about 10% off) and mean range width
    (``high / low``).

    Raises:
        ConfigError: fewer than 10 usable prices.
    """
    cfg = config or PriceConfig()
    table = frame.set_index("creator_id") if "creator_id" in frame.columns else frame
    p = prices.loc[:, ["creator_id", "price"]].copy()
    p["creator_id"] = p["creator_id"].astype(str)
    p["price"] = pd.to_numeric(p["price"], errors="coerce")
    p = p[np.isfinite(p["price"]) & (p["price"] > 0) & p["creator_id"].isin(table.index.astype(str))]
    prior_all = estimate_prices(table.loc[p["creator_id"].unique()].reset_index(), config=cfg)
    p = p[p["creator_id"].map(prior_all["price_mid"]).notna()]
    if len(p) < 10:
        raise ConfigError(f"prices: {len(p)} usable prices (a price > 0 for a creator in the store with a follower count); need at least 10 to validate a calibration")
    creators = np.array(sorted(p["creator_id"].unique()))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(creators, max(1, int(round(test_size * len(creators)))), replace=False).tolist())
    test = p[p["creator_id"].isin(held)]
    train = p[~p["creator_id"].isin(held)]
    cal = PriceCalibration(config=cfg).fit(table.reset_index(), train)
    rows = table.loc[test["creator_id"]].reset_index()
    report: dict[str, Any] = {"train": int(len(train)), "test": int(len(test)), "interval": cfg.interval}
    for tag, c in (("prior", None), ("calibrated", cal)):
        est = estimate_prices(rows, config=cfg, calibration=c)
        price = test["price"].to_numpy()
        low, mid, high = (est[k].to_numpy() for k in ("price_low", "price_mid", "price_high"))
        report[tag] = {
            "coverage": round(float(np.mean((price >= low) & (price <= high))), 4),
            "median_abs_log_error": round(float(np.median(np.abs(np.log(price / mid)))), 4),
            "mean_width": round(float(np.mean(high / low)), 3),
        }
    return report


#: What a campaign plan shows per creator (exports, ``matcher matches``): the price range (never its
#: mid alone) with its basis, and how sure the trust figure is with the evidence it rests on.
PLAN_COLUMNS = ("price_low", "price_high", "price_basis", "trust_confidence", "confidence_posts", "confidence_comments", "confidence_days")


def creator_plan(signals: pd.DataFrame) -> pd.DataFrame:
    """:data:`PLAN_COLUMNS` per creator from a snapshot's per-creator table, indexed by ``creator_id``
    (blank where the snapshot was written before a column existed)."""
    n = len(signals)

    def col(name: str, default: Any = np.nan) -> np.ndarray:
        return signals[name].to_numpy() if name in signals else np.full(n, default, dtype=object if default is None else "float64")

    days = pd.to_numeric(pd.Series(col("history_days")), errors="coerce").round()
    out = pd.DataFrame(
        {
            "price_low": pd.to_numeric(pd.Series(col("price_low")), errors="coerce").round(2).to_numpy(),
            "price_high": pd.to_numeric(pd.Series(col("price_high")), errors="coerce").round(2).to_numpy(),
            "price_basis": col("price_basis", None),
            "trust_confidence": col("trust_confidence", None),
            "confidence_posts": pd.array(col("n_posts"), dtype="Int64") if "n_posts" in signals else pd.array([pd.NA] * n, dtype="Int64"),
            "confidence_comments": pd.array(pd.to_numeric(pd.Series(col("comments_seen")), errors="coerce"), dtype="Int64"),
            "confidence_days": pd.array(days, dtype="Int64"),
        },
        index=pd.Index(signals["creator_id"].astype(str).to_numpy(), name="creator_id"),
    )
    return out[~out.index.duplicated()]


def _money(x: float) -> str:
    return f"${x:,.0f}"


def estimate_prices(frame: pd.DataFrame, *, config: PriceConfig | None = None, calibration: PriceCalibration | None = None) -> pd.DataFrame:
    """Per-post price ranges in USD, one row per creator.

    Args:
        frame: the per-creator signals (as :func:`matcher.signals.compute_signals` writes them) with
            ``creator_id``, ``platform`` and ``followers``; ``credible_engagement_rate`` with
            ``tier_median_rate``, and ``sponsored_posts``, adjust the estimate when present.
        config: the prior's settings (:class:`matcher.config.PriceConfig`).
        calibration: a fitted :class:`PriceCalibration`; platforms it has prices for use it, the
            others the prior alone.

    Returns:
        A frame indexed by ``creator_id`` with ``price_low``, ``price_mid``, ``price_high`` (float,
        USD per post; NaN when followers are unknown or the platform has no published rates) and
        ``price_basis`` (short text: the prior used, and whether calibrated).
    """
    cfg = config or PriceConfig()
    ids = frame["creator_id"].astype(str).to_numpy() if "creator_id" in frame.columns else frame.index.astype(str).to_numpy()
    prior = prior_price(frame, config=cfg)
    log_mid = prior["log_mid"].to_numpy().copy()
    sigma = np.full(len(frame), cfg.prior_log_sd)
    platform = prior["platform"].to_numpy()
    tier = prior["rate_tier"].to_numpy()
    basis = np.array(
        [
            f"{RATE_SOURCE}, {p} {t} tier; not calibrated" if t else
            ("no follower count: unknown" if p in _RATES else f"no published rates for platform {p or '(blank)'}: unknown")
            for p, t in zip(platform, tier)
        ],
        dtype=object,
    )
    fits = getattr(calibration, "platforms_", None) or {}
    for name, fit in fits.items():
        rows = (platform == name) & np.isfinite(log_mid)
        if not rows.any() or fit.n == 0:
            continue
        X = _design(prior[rows], cfg.reference_followers)
        log_mid[rows] = log_mid[rows] + X @ np.asarray(fit.coef)
        sigma[rows] = fit.sigma
        basis[rows] = f"{RATE_SOURCE}, calibrated on {fit.n} of your past prices ({name})"
    z = float(_normal_quantile(0.5 + cfg.interval / 2))
    mid = np.exp(log_mid)
    out = pd.DataFrame(
        {
            "price_low": mid * np.exp(-z * sigma),
            "price_mid": mid,
            "price_high": mid * np.exp(z * sigma),
            "price_basis": basis,
        },
        index=pd.Index(ids, name="creator_id"),
    )
    return out


def _normal_quantile(p: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(p))


def price_text(low: float | None, high: float | None) -> str:
    """A price range as shown to people: ``"$120–$260 per post"``, rounded to two significant figures."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "price unknown"
    return f"{_money(_round2(low))}–{_money(_round2(high))} per post"


def _round2(x: float) -> float:
    if x <= 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(x)))
    return round(x, digits) if digits > 0 else float(round(x, digits))

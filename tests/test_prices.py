"""Price estimates: the published-rate prior, its adjustments, calibration on past prices, the saved calibration."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import Config, PriceConfig
from matcher.errors import ConfigError, StoreError
from matcher.prices import (
    PRICE_MANIFEST_FILE,
    PRICE_MODEL_FILE,
    PUBLISHED_RATES,
    PriceCalibration,
    estimate_prices,
    load_price_calibration,
    price_text,
)

PLATFORMS = sorted(PUBLISHED_RATES)


def frame(followers, *, platform="instagram", rate=0.03, median=0.03, sponsored=1):
    n = len(followers)
    return pd.DataFrame(
        {
            "creator_id": [f"c{i}" for i in range(n)],
            "platform": [platform] * n if isinstance(platform, str) else platform,
            "followers": followers,
            "credible_engagement_rate": [rate] * n if np.isscalar(rate) else rate,
            "tier_median_rate": [median] * n if np.isscalar(median) else median,
            "sponsored_posts": [sponsored] * n if np.isscalar(sponsored) else sponsored,
        }
    )


def test_prior_at_a_tier_boundary_is_the_published_rate():
    # At 10,000 Instagram followers the published nano range ends and micro begins at $100; a
    # creator at its tier's median engagement with sponsored posts gets exactly that as its mid.
    out = estimate_prices(frame([1_000, 10_000, 50_000]))
    assert out["price_mid"].round(6).tolist() == [10.0, 100.0, 500.0]
    assert out.index.tolist() == ["c0", "c1", "c2"]
    assert out["price_basis"].iloc[1] == "Influencer Marketing Hub per-post rates, instagram micro tier; not calibrated"


def test_unknown_followers_or_platform_give_no_price():
    f = frame([np.nan, 0, 20_000, 20_000], platform=["instagram", "tiktok", "snapchat", ""])
    out = estimate_prices(f)
    assert out[["price_low", "price_mid", "price_high"]].isna().all().all()
    assert out["price_basis"].tolist()[0] == "no follower count: unknown"
    assert "no published rates for platform snapchat" in out["price_basis"].tolist()[2]


def test_engagement_and_sponsored_history_move_the_price_within_the_published_spread():
    cfg = PriceConfig()
    base = estimate_prices(frame([20_000]))["price_mid"].iloc[0]
    twice = estimate_prices(frame([20_000], rate=0.06))["price_mid"].iloc[0]
    assert twice == pytest.approx(base * 2**cfg.engagement_elasticity)
    new = estimate_prices(frame([20_000], sponsored=0))["price_mid"].iloc[0]
    assert new == pytest.approx(base * cfg.unsponsored_factor)
    # A hundredfold engagement is bounded by the published ranges' spread (median sqrt(high/low)).
    spread = float(np.median([math.sqrt(r[4] / r[3]) for r in PUBLISHED_RATES["instagram"] if r[4]]))
    wild = estimate_prices(frame([20_000], rate=3.0))["price_mid"].iloc[0]
    assert wild == pytest.approx(base * spread)


def test_the_range_is_the_configured_interval_around_the_mid():
    out = estimate_prices(frame([20_000]), config=PriceConfig(prior_log_sd=0.5, interval=0.8))
    z = 1.2815515655446004
    assert out["price_high"].iloc[0] / out["price_mid"].iloc[0] == pytest.approx(math.exp(z * 0.5))
    assert out["price_mid"].iloc[0] / out["price_low"].iloc[0] == pytest.approx(math.exp(z * 0.5))


def test_price_text_is_a_rounded_range():
    assert price_text(123.4, 987.6) == "$120–$990 per post"
    assert price_text(8.67, 40.35) == "$9–$40 per post"
    assert price_text(None, 5.0) == "price unknown"
    assert price_text(float("nan"), 5.0) == "price unknown"


followers_st = st.floats(min_value=1.0, max_value=5e8, allow_nan=False)
ratio_st = st.floats(min_value=1e-4, max_value=1.0)


@settings(max_examples=200, deadline=None)
@given(
    platform=st.sampled_from(PLATFORMS),
    a=followers_st,
    b=followers_st,
    rate=ratio_st,
    sponsored=st.integers(0, 3),
)
def test_price_is_monotone_in_followers_within_a_platform(platform, a, b, rate, sponsored):
    lo, hi = sorted((a, b))
    out = estimate_prices(frame([lo, hi], platform=platform, rate=rate, median=0.03, sponsored=sponsored))
    for col in ("price_low", "price_mid", "price_high"):
        assert out[col].iloc[0] <= out[col].iloc[1] * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(
    followers=st.lists(st.one_of(followers_st, st.just(float("nan"))), min_size=1, max_size=8),
    platform=st.sampled_from(PLATFORMS),
    rate=ratio_st,
    sd=st.floats(min_value=0.01, max_value=3.0),
    interval=st.floats(min_value=0.05, max_value=0.99),
)
def test_low_mid_high_are_ordered_and_nan_exactly_when_followers_unknown(followers, platform, rate, sd, interval):
    out = estimate_prices(frame(followers, platform=platform, rate=rate), config=PriceConfig(prior_log_sd=sd, interval=interval))
    unknown = np.isnan(np.asarray(followers))
    assert out["price_mid"].isna().to_numpy().tolist() == unknown.tolist()
    known = out[~unknown]
    assert (known["price_low"] <= known["price_mid"]).all() and (known["price_mid"] <= known["price_high"]).all()
    assert (known["price_low"] > 0).all()


def _world(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Creators of three platforms and their past prices from a known rule: 1.6x the prior's typical
    price for TikTok, 0.7x for YouTube, Instagram as published, with lognormal noise."""
    rng = np.random.default_rng(seed)
    platform = rng.choice(PLATFORMS, n)
    followers = np.exp(rng.uniform(np.log(2_000), np.log(800_000), n)).round()
    f = frame(followers.tolist(), platform=platform.tolist(), rate=rng.uniform(0.01, 0.08, n).tolist(), median=0.03, sponsored=rng.integers(0, 3, n).tolist())
    prior = estimate_prices(f)["price_mid"].to_numpy()
    factor = np.select([platform == "tiktok", platform == "youtube"], [1.6, 0.7], 1.0)
    prices = pd.DataFrame({"creator_id": f["creator_id"], "price": prior * factor * np.exp(rng.normal(0, 0.3, n))})
    return f, prices


@settings(max_examples=50, deadline=None)
@given(followers=st.lists(followers_st, min_size=1, max_size=6), platform=st.sampled_from(PLATFORMS), rate=ratio_st)
def test_calibration_with_zero_prices_equals_the_prior(followers, platform, rate):
    f = frame(followers, platform=platform, rate=rate)
    cal = PriceCalibration().fit(f, pd.DataFrame({"creator_id": pd.Series(dtype=str), "price": pd.Series(dtype=float)}))
    assert cal.n_prices_ == 0
    pd.testing.assert_frame_equal(estimate_prices(f, calibration=cal), estimate_prices(f))


def test_calibration_learns_each_platforms_level_and_says_so():
    f, prices = _world(600)
    cal = PriceCalibration().fit(f, prices)
    assert cal.n_prices_ == 600 and cal.skipped_ == 0
    prior = estimate_prices(f)
    calibrated = estimate_prices(f, calibration=cal)
    ratio = (calibrated["price_mid"] / prior["price_mid"]).groupby(f.set_index("creator_id")["platform"]).median()
    assert ratio["tiktok"] == pytest.approx(1.6, rel=0.1)
    assert ratio["youtube"] == pytest.approx(0.7, rel=0.1)
    assert ratio["instagram"] == pytest.approx(1.0, rel=0.1)
    n_tiktok = int((f["platform"] == "tiktok").sum())
    assert f"Influencer Marketing Hub per-post rates, calibrated on {n_tiktok} of your past prices (tiktok)" in set(calibrated["price_basis"])
    # The noise is 0.3; the calibrated range narrows toward it from the prior's 0.6.
    width = np.log(calibrated["price_high"] / calibrated["price_mid"]) / 1.2815515655446004
    assert 0.25 < width.max() < 0.4


def test_few_prices_stay_mostly_prior():
    f, prices = _world(600)
    tiktok = prices[f["platform"].eq("tiktok").to_numpy()].head(3)
    cal = PriceCalibration().fit(f, tiktok)
    prior, calibrated = estimate_prices(f), estimate_prices(f, calibration=cal)
    rows = f["platform"].eq("tiktok").to_numpy()
    shift = (calibrated["price_mid"] / prior["price_mid"])[rows]
    assert (shift > 1.0).all() and (shift < 1.2).all()  # toward 1.6, but 3 prices weigh little against 20
    assert (calibrated[~rows] == prior[~rows]).all().all()


def test_prices_of_unknown_creators_are_skipped():
    f, prices = _world(50)
    extra = pd.DataFrame({"creator_id": ["nobody", "c0"], "price": [100.0, -5.0]})
    cal = PriceCalibration().fit(f, pd.concat([prices, extra]))
    assert cal.n_prices_ == 50 and cal.skipped_ == 1  # the negative price is not a price at all


def test_calibration_round_trips_through_json_and_its_manifest(tmp_path):
    f, prices = _world(300)
    cal = PriceCalibration().fit(f, prices)
    path = cal.save(tmp_path)
    assert path == tmp_path / PRICE_MODEL_FILE
    data = json.loads(path.read_text())  # plain JSON: no pickle anywhere
    assert data["format"] == "matcher-price-calibration" and data["prices"] == 300
    back = load_price_calibration(tmp_path)
    assert back is not None and back.digest() == cal.digest()
    pd.testing.assert_frame_equal(estimate_prices(f, calibration=back), estimate_prices(f, calibration=cal))


def test_a_store_without_a_calibration_has_none(tmp_path):
    assert load_price_calibration(tmp_path) is None


def test_a_tampered_calibration_is_refused(tmp_path):
    f, prices = _world(100)
    PriceCalibration().fit(f, prices).save(tmp_path)
    path = tmp_path / PRICE_MODEL_FILE
    path.write_text(path.read_text().replace('"sigma": 0.', '"sigma": 1.', 1))
    with pytest.raises(StoreError, match="does not match its manifest"):
        load_price_calibration(tmp_path)
    (tmp_path / PRICE_MANIFEST_FILE).unlink()
    with pytest.raises(StoreError, match="missing"):
        load_price_calibration(tmp_path)


def test_an_unfitted_calibration_cannot_be_saved(tmp_path):
    with pytest.raises(ConfigError, match="not fitted"):
        PriceCalibration().save(tmp_path)


def test_price_config_is_validated():
    with pytest.raises(ConfigError, match="prices.prior_log_sd"):
        PriceConfig(prior_log_sd=0.0)
    with pytest.raises(ConfigError, match="prices.currency"):
        PriceConfig(currency="EUR")
    assert Config.from_dict({"prices": {"prior_strength": 5}}).prices.prior_strength == 5


@pytest.mark.slow
def test_recommend_prices_from_the_snapshot_then_with_a_calibration_trained_later(built, sample, encoder, tmp_path):
    import shutil

    from matcher.engine import Matcher
    from matcher.ingest import load_outcomes
    from matcher.prices import price_inputs
    from matcher.store import Store

    store = tmp_path / "store"
    shutil.copytree(built.store, store, ignore=shutil.ignore_patterns("cache"))
    m = Matcher(store, encoder=encoder).load()
    brief = "Lightweight trail running shoe with a rock plate for technical singletrack"
    snap = Store(store).load()
    stored = snap.signals.set_index("creator_id")
    before = m.recommend(brief, k=10)
    assert any(x.price is not None for x in before)
    for x in before:
        row = stored.loc[x.creator_id]
        if x.followers is None:
            assert x.price is None
            continue
        # From the per-creator table the batch wrote, a range around its mid.
        assert (x.price.low, x.price.mid, x.price.high) == pytest.approx((row["price_low"], row["price_mid"], row["price_high"]), abs=0.006)
        assert x.price.low < x.price.mid < x.price.high and x.price.currency == "USD"
        assert x.price.basis == row["price_basis"] and x.price.basis.endswith("; not calibrated")
        assert x.trust_confidence is not None and x.trust_confidence.level == row["trust_confidence"]

    # 'matcher train' writes a calibration after the batch: the next call prices with it.
    outcomes, _, _ = load_outcomes(sample.outcomes)
    cal = PriceCalibration().fit(price_inputs(snap.creators, snap.signals), outcomes)
    cal.save(store)
    after = m.recommend(brief, k=10)
    want = estimate_prices(price_inputs(snap.creators, snap.signals), calibration=cal)
    assert [x.creator_id for x in after] == [x.creator_id for x in before]  # prices never change the ranking
    for x in after:
        if x.price is None:
            continue
        assert x.price.mid == pytest.approx(want.loc[x.creator_id, "price_mid"], abs=0.006)
        assert "calibrated on" in x.price.basis


def _flat_world() -> tuple[pd.DataFrame, PriceCalibration]:
    """A calibration on prices that barely grow with followers (elasticity 0.1): the fitted follower
    slope hits its floor, so a larger audience still never costs less."""
    rng = np.random.default_rng(3)
    n = 400
    platform = rng.choice(PLATFORMS, n)
    followers = np.exp(rng.uniform(np.log(1_000), np.log(2_000_000), n)).round()
    f = frame(followers.tolist(), platform=platform.tolist(), rate=rng.uniform(0.01, 0.08, n).tolist(), median=0.03, sponsored=rng.integers(0, 3, n).tolist())
    prices = pd.DataFrame({"creator_id": f["creator_id"], "price": 300 * (followers / 10_000) ** 0.1 * np.exp(rng.normal(0, 0.2, n))})
    return f, PriceCalibration().fit(f, prices)


_FLAT = _flat_world()


def test_a_fitted_follower_slope_stops_at_its_floor():
    _, cal = _FLAT
    for name, fit in cal.platforms_.items():
        # Minus the published table's smallest elasticity (TikTok nano: $5-$25 over 1k-10k, 0.70), plus a margin.
        closed = [r for r in PUBLISHED_RATES[name] if r[4] is not None]
        floor = -min(math.log(r[4] / r[3]) / math.log(r[2] / r[1]) for r in closed) + 0.05
        assert fit.coef[1] >= floor - 1e-12, name
    assert cal.platforms_["tiktok"].coef[1] == pytest.approx(-math.log(5) / math.log(10) + 0.05, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(platform=st.sampled_from(PLATFORMS), a=followers_st, b=followers_st, rate=ratio_st, sponsored=st.integers(0, 3))
def test_calibrated_price_is_monotone_in_followers_too(platform, a, b, rate, sponsored):
    _, cal = _FLAT
    lo, hi = sorted((a, b))
    out = estimate_prices(frame([lo, hi], platform=platform, rate=rate, sponsored=sponsored), calibration=cal)
    assert out["price_mid"].iloc[0] <= out["price_mid"].iloc[1] * (1 + 1e-12)
    assert (out["price_low"] <= out["price_mid"]).all() and (out["price_mid"] <= out["price_high"]).all()

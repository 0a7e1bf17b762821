import numpy as np
import pandas as pd
import pytest

from matcher import Brand, Filters, Matcher, Weights
from matcher.errors import NotFittedError, StoreError

pytestmark = pytest.mark.slow

BRIEF = "Lightweight trail running shoe with a grippy outsole and rock plate, built for technical singletrack and ultramarathons."


def test_recommend_returns_typed_explained_matches(matcher_):
    ms = matcher_.recommend(BRIEF, k=10)
    assert len(ms) == 10
    assert [m.rank for m in ms] == list(range(1, 11))
    assert all(ms[i].score >= ms[i + 1].score for i in range(9))
    snap = matcher_.snapshot_
    posts = snap.posts.set_index("post_id")
    for m in ms:
        assert m.score == pytest.approx(sum(m.contributions.values()), abs=1e-5)
        assert set(m.components) == {"topic", "engagement", "trust", "conversation", "fit"}
        assert 1 <= len(m.evidence) <= 3
        # Evidence is the creator's own posts, best first.
        assert all(posts.loc[e.post_id, "creator_id"] == m.creator_id for e in m.evidence)
        assert [e.similarity for e in m.evidence] == sorted((e.similarity for e in m.evidence), reverse=True)
        assert m.why.startswith("topic ")


def test_known_answer_on_sample(matcher_, sample):
    labels = pd.read_csv(sample.labels, dtype=str, keep_default_na=False)
    niche = dict(zip(labels["creator_id"], labels["niche"]))
    ms = matcher_.recommend(BRIEF, k=10)
    assert [niche[m.creator_id] for m in ms] == ["trail running"] * 10


def test_filters_return_k_when_k_qualify(matcher_):
    c = matcher_.snapshot_.creators
    for flt in (
        Filters(countries=("DE",)),
        Filters(platforms=("tiktok",), min_followers=1_000, max_followers=100_000),
        Filters(languages=("en",), countries=("US", "GB")),
    ):
        mask = np.ones(len(c), bool)
        if flt.countries:
            mask &= c["country"].isin(flt.countries).fillna(False).to_numpy(bool)
        if flt.platforms:
            mask &= c["platform"].isin(flt.platforms).to_numpy(bool)
        if flt.languages:
            mask &= c["language"].isin(flt.languages).fillna(False).to_numpy(bool)
        if flt.min_followers is not None:
            f = c["followers"].astype("Float64")
            mask &= ((f >= flt.min_followers) & (f <= flt.max_followers)).fillna(False).to_numpy(bool)
        qualifying = set(c.loc[mask, "creator_id"])
        ms = matcher_.recommend("budget travel backpack for hostels and long trips", k=25, filters=flt)
        assert len(ms) == min(25, len(qualifying))
        assert {m.creator_id for m in ms} <= qualifying


def test_k_larger_than_collection_and_exclusions(matcher_):
    # Brand accounts are left out by default; everyone else is returned.
    n = int((~matcher_.snapshot_.signals["is_brand_account"]).sum())
    ms = matcher_.recommend(BRIEF, k=n + 50)
    assert len(ms) == n
    assert len({m.creator_id for m in ms}) == n
    top = matcher_.recommend(BRIEF, k=3)
    again = matcher_.recommend(BRIEF, k=3, filters=Filters(exclude_creators=(top[0].creator_id,)))
    assert top[0].creator_id not in {m.creator_id for m in again}
    assert again[0].creator_id == top[1].creator_id


def test_batch_call_equals_single_calls(matcher_):
    briefs = [BRIEF, "vegan protein cookbook with plant-based recipes", "retinol night serum for sensitive skin"]
    many = matcher_.recommend_many(briefs, k=5)
    for b, got in zip(briefs, many):
        single = matcher_.recommend(b, k=5)
        assert [m.creator_id for m in single] == [m.creator_id for m in got]
        np.testing.assert_allclose([m.score for m in single], [m.score for m in got], atol=1e-5)


def test_brand_record_applies_its_own_filters(matcher_):
    brand = Brand(brand_id="x", name="Ridgeline 4", description=BRIEF, countries=("US",), max_followers=100_000)
    ms = matcher_.recommend(brand, k=5)
    assert ms and all(m.country == "US" and m.followers is not None and m.followers <= 100_000 for m in ms)


def test_weights_override_changes_the_order_by_the_documented_sum(matcher_):
    base = matcher_.recommend(BRIEF, k=20)
    topic_only = matcher_.recommend(BRIEF, k=20, weights=Weights(topic=1.0, engagement=0.0, trust=0.0, conversation=0.0, fit=0.0))
    assert all(m.score == pytest.approx(m.components["topic"], abs=1e-5) for m in topic_only if "penalty" not in m.contributions)
    assert [m.score for m in topic_only] == sorted((m.score for m in topic_only), reverse=True)
    assert {m.creator_id for m in base} != set() and topic_only[0].components["topic"] >= max(m.components["topic"] for m in base) - 1e-6


def test_bad_calls_fail_clearly(matcher_, tmp_path):
    with pytest.raises(ValueError, match="between 1 and"):
        matcher_.recommend(BRIEF, k=0)
    with pytest.raises(ValueError, match="blank"):
        matcher_.recommend("   ", k=3)
    with pytest.raises(NotFittedError):
        Matcher(tmp_path).recommend(BRIEF)
    with pytest.raises(StoreError, match="no published snapshot"):
        Matcher(tmp_path, encoder=matcher_.encoder).load()


def test_brand_accounts_only_with_opt_in(matcher_):
    sig = matcher_.snapshot_.signals
    brands = set(sig.loc[sig["is_brand_account"], "creator_id"])
    assert brands
    everyone = len(sig)
    default = {m.creator_id for m in matcher_.recommend(BRIEF, k=everyone)}
    opted = {m.creator_id for m in matcher_.recommend(BRIEF, k=everyone, filters=Filters(include_brand_accounts=True))}
    assert not default & brands
    assert brands <= opted


def test_min_trust_filter(matcher_):
    ms = matcher_.recommend(BRIEF, k=30, filters=Filters(min_trust=0.9))
    assert ms and all(m.components["trust"] >= 0.9 for m in ms)


def test_diversity_spreads_the_top_k(matcher_):
    vecs = matcher_.snapshot_.index.vectors_
    row = matcher_.snapshot_.index.row_of

    def spread(ms):
        v = vecs[[row(m.creator_id) for m in ms]]
        s = v @ v.T
        return float(s[np.triu_indices(len(ms), 1)].mean())

    plain = matcher_.recommend(BRIEF, k=10)
    diverse = matcher_.recommend(BRIEF, k=10, diversity=0.7)
    assert len(diverse) == 10 and len({m.creator_id for m in diverse}) == 10
    assert spread(diverse) < spread(plain)
    assert diverse[0].creator_id == plain[0].creator_id  # the best match always leads


def test_competitor_conflict_is_flagged_and_penalised(matcher_):
    snap = matcher_.snapshot_
    posts = snap.posts
    people = set(snap.signals.loc[~snap.signals["is_brand_account"], "creator_id"])
    sponsored = posts[posts["is_sponsored"] & posts["text"].str.contains("Halcyon Skin", regex=False) & posts["creator_id"].isin(people)]
    assert len(sponsored), "the sample has sponsored posts naming brands"
    cid = sponsored["creator_id"].iloc[0]
    brief = "fragrance-free barrier repair moisturizer with ceramides for sensitive skin"
    plain = Brand(brand_id="x", description=brief)
    rival = Brand(brand_id="y", description=brief, competitors=("Halcyon Skin",))
    k = len(snap.creators)
    a = {m.creator_id: m for m in matcher_.recommend(plain, k=k)}
    b = {m.creator_id: m for m in matcher_.recommend(rival, k=k)}
    assert "COMPETITOR_CONFLICT" in b[cid].flags and "COMPETITOR_CONFLICT" not in a[cid].flags
    assert b[cid].contributions["penalty"] < 0
    assert b[cid].score == pytest.approx(a[cid].score * 0.5, abs=1e-5)
    assert "Halcyon Skin" in b[cid].signals["reasons"]["COMPETITOR_CONFLICT"]

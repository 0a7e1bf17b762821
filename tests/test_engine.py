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
        # One wording for where engagement stands: the why line says what the signals (and the page) say.
        standing = m.signals.get("engagement_standing")
        assert (standing is None) == (m.signals.get("engagement_percentile") is None)
        if standing is not None:
            assert f"({standing})" in m.why and "top " not in m.why


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


@pytest.mark.parametrize(
    "flt",
    [Filters(countries=("DE", "US")), Filters(platforms=("tiktok",)), Filters(exclude_creators=("c000001", "c000002")), Filters(min_trust=0.5)],
    ids=["countries", "platform", "exclusions", "min_trust"],
)
def test_a_filter_or_a_larger_k_never_changes_a_score(matcher_, flt):
    """Topical fit is calibrated on the brief's best creators in the whole collection, so a filtered
    ranking is the unfiltered one with the others left out, scores and all."""
    everyone = matcher_.recommend(BRIEF, k=1000)
    by_id = {m.creator_id: m for m in everyone}
    got = matcher_.recommend(BRIEF, k=20, filters=flt)
    passing = {m.creator_id for m in matcher_.recommend(BRIEF, k=1000, filters=flt)}
    assert passing < set(by_id)
    assert [m.creator_id for m in got] == [m.creator_id for m in everyone if m.creator_id in passing][:20]
    for m in got:
        assert m.score == pytest.approx(by_id[m.creator_id].score, abs=1e-9)
        assert m.signals["topic_fit"] == by_id[m.creator_id].signals["topic_fit"]
    top5 = matcher_.recommend(BRIEF, k=5)
    assert [(m.creator_id, m.score) for m in top5] == [(m.creator_id, m.score) for m in everyone[:5]]


def test_weak_matches_are_those_below_the_relevance_floor(matcher_, encoder):
    import dataclasses

    from matcher.config import Config

    off_topic = "industrial hydraulic pump seals for offshore drilling rigs"
    default_floor = matcher_.config.rank.relevance_floor
    assert all(m.weak == (m.components["topic"] < default_floor) for m in matcher_.recommend(off_topic, k=50))
    # A floor inside this brief's range of topical scores, so both kinds are present.
    topics = sorted(m.components["topic"] for m in matcher_.recommend(off_topic, k=50))
    i = len(topics) // 2
    floor = (topics[i] + topics[i + 1]) / 2  # between two scores, clear of their rounding
    cfg = Config()

    def with_rank(**changes):
        return Matcher(matcher_.store, config=dataclasses.replace(cfg, rank=dataclasses.replace(cfg.rank, relevance_floor=floor, **changes)), encoder=encoder).load()

    marking = with_rank()
    ms = marking.recommend(off_topic, k=50)
    assert 0 < sum(m.weak for m in ms) < len(ms)
    assert all(m.weak == (m.components["topic"] < floor) for m in ms)
    assert all(("weak match" in m.why) == m.weak for m in ms)
    assert [(m.creator_id, m.score) for m in ms] == [(m.creator_id, m.score) for m in matcher_.recommend(off_topic, k=50)]  # marking never reorders
    # "drop" leaves them out and keeps the order of the rest.
    kept = with_rank(weak_matches="drop").recommend(off_topic, k=50)
    marked = [m for m in marking.recommend(off_topic, k=1000) if not m.weak][:50]
    assert kept and not any(m.weak for m in kept)
    assert [(m.creator_id, m.score) for m in kept] == [(m.creator_id, m.score) for m in marked]


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
    # Topic alone: the score is the brief-calibrated topical fit, so the order is the topical order.
    assert all(m.score == pytest.approx(m.signals["topic_fit"], abs=1e-4) for m in topic_only if "penalty" not in m.contributions)
    assert [m.score for m in topic_only] == sorted((m.score for m in topic_only), reverse=True)
    clean = [m for m in topic_only if "penalty" not in m.contributions]
    assert [m.components["topic"] for m in clean] == sorted((m.components["topic"] for m in clean), reverse=True)
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


@pytest.mark.parametrize("diversity", [0.3, 0.7, 1.0])
def test_diversity_chooses_among_relevant_creators_only(matcher_, sample, diversity):
    import math

    labels = pd.read_csv(sample.labels, dtype=str, keep_default_na=False)
    niche = dict(zip(labels["creator_id"], labels["niche"]))
    everyone = matcher_.recommend(BRIEF, k=1000)
    k = 10
    depth = k + math.ceil(k * matcher_.config.rank.diversity_depth * diversity)
    relevant = [m for m in everyone if not m.weak][:depth]
    diverse = matcher_.recommend(BRIEF, k=k, diversity=diversity)
    assert diverse[0].creator_id == everyone[0].creator_id
    assert {m.creator_id for m in diverse} <= {m.creator_id for m in relevant}
    if diversity >= 0.7:
        assert {m.creator_id for m in diverse} != {m.creator_id for m in everyone[:k]}  # it does choose
    assert [niche[m.creator_id] for m in diverse] == ["trail running"] * k


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


def _reference_conflicts(snapshot, rows, competitors, days):
    """Competitor conflicts per creator on the pandas columns: the definition kept. A competitor
    conflicts when one of the creator's collaborations (found as the batch finds them) is with it,
    or a sponsored post names it in so many words, within ``days`` of the newest post."""
    import re

    from matcher.collaborations import brand_key, collection_collaborations

    posts = snapshot.posts
    when = pd.to_datetime(posts["posted_at"], utc=True)
    cutoff = when.max() - pd.Timedelta(days=days)
    collabs = collection_collaborations(snapshot.creators, posts, posts)
    collabs = collabs[(collabs["posted_at"] >= cutoff).fillna(False)]
    out = []
    for row in rows:
        lo, hi = int(snapshot.post_offsets[row]), int(snapshot.post_offsets[row + 1])
        part = posts.iloc[lo:hi]
        pick = part["is_sponsored"].to_numpy(dtype=bool) & (when.iloc[lo:hi] >= cutoff).fillna(False).to_numpy(dtype=bool)
        texts = part["text"].astype(str).to_numpy()[pick]
        keys = set(collabs.loc[collabs["creator_id"] == snapshot.creators["creator_id"].iloc[row], "brand_key"])
        out.append(tuple(
            c for c in competitors
            if brand_key(c) in keys or any(re.search(r"\b" + re.escape(c) + r"\b", t, re.IGNORECASE) for t in texts)
        ))
    return out


@pytest.mark.parametrize("days", [1, 30, 90, 3650])
def test_competitor_conflicts_equal_the_per_creator_definition(matcher_, days):
    from types import SimpleNamespace

    from matcher.config import FitConfig
    from matcher.rerank import Reranker

    snap = matcher_.snapshot_
    posts = snap.posts.copy()
    # Some undated posts: never recent, and they must not hide the newest date.
    posts.loc[posts.index[::7], "posted_at"] = None
    view = SimpleNamespace(snapshot_id=f"undated-{days}", creators=snap.creators, signals=snap.signals, posts=posts, post_offsets=snap.post_offsets)
    named = sorted({w for t in posts.loc[posts["is_sponsored"], "text"] for w in ("Halcyon Skin", "Bolt", "Ridgeline") if w.lower() in t.lower()})
    competitors = tuple(named) + ("Nobody Co",)
    rows = np.arange(len(snap.creators))
    got = Reranker(fit=FitConfig(competitor_days=days))._conflicts(view, rows, Brand(brand_id="z", description="x", competitors=competitors))
    want = _reference_conflicts(view, rows, competitors, days)
    assert [tuple(c.brand for c in row) for row in got] == want
    if days == 3650:
        assert sum(bool(c) for c in got) > 0, "the sample has sponsored posts naming these competitors"


# -- the filter mask ----------------------------------------------------------------------------
def _reference_mask(snapshot, filters, *, exclude_brand_accounts=True):
    """The mask as first written, straight on the pandas columns: the definition the fast path keeps."""
    c, sig = snapshot.creators, snapshot.signals
    drop_brands = exclude_brand_accounts and not (filters is not None and filters.include_brand_accounts) and "is_brand_account" in sig
    if (filters is None or not filters.active) and not (drop_brands and sig["is_brand_account"].any()):
        return None
    mask = np.ones(len(c), dtype=bool)
    if drop_brands:
        mask &= ~sig["is_brand_account"].to_numpy(dtype=bool)
    if filters is None:
        return mask
    if filters.min_trust is not None:
        mask &= sig["trust_score"].to_numpy(dtype="float64") >= filters.min_trust
    if filters.min_followers is not None or filters.max_followers is not None:
        f = c["followers"].astype("Float64")
        known = f.notna().to_numpy()
        ok = np.ones(len(c), dtype=bool)
        if filters.min_followers is not None:
            ok &= (f >= filters.min_followers).fillna(False).to_numpy(dtype=bool)
        if filters.max_followers is not None:
            ok &= (f <= filters.max_followers).fillna(False).to_numpy(dtype=bool)
        mask &= np.where(known, ok, filters.allow_unknown_followers)
    if filters.countries:
        mask &= c["country"].isin(filters.countries).fillna(False).to_numpy(dtype=bool)
    if filters.languages:
        mask &= c["language"].isin(filters.languages).fillna(False).to_numpy(dtype=bool)
    if filters.platforms:
        mask &= c["platform"].isin(filters.platforms).fillna(False).to_numpy(dtype=bool)
    if filters.exclude_creators:
        mask &= ~c["creator_id"].isin(filters.exclude_creators).to_numpy(dtype=bool)
    return mask


COUNTRIES = ["US", "GB", "DE", "FR", "IT", "ES", "BR", "NZ", "IE", "CA", "AU", "JP", "KR", "MX", "AR", "SE", "NO", "PL", "NL", "BE"]


def _synthetic_snapshot(n, seed, *, string_dtype=False, nullable_followers=False, brands=True, with_index=True):
    from matcher.index import VectorIndex
    from matcher.store import Snapshot

    rng = np.random.default_rng(seed)

    def col(values, p_missing):
        v = pd.Series(rng.choice(np.array(values, dtype=object), size=n), dtype=object)
        v[rng.random(n) < p_missing] = None
        v[rng.random(n) < p_missing / 2] = np.nan
        return v.astype("string") if string_dtype else v

    followers = np.round(rng.lognormal(9, 2.5, n)).astype(float)
    followers[rng.random(n) < 0.15] = np.nan  # unknown (YouTube-style exports)
    followers[:4] = [1_000, 100_000, 0, 999]  # on and next to the bounds
    ids = [f"c{i:05d}" for i in range(n)]
    creators = pd.DataFrame(
        {
            "creator_id": pd.Series(ids, dtype="string") if string_dtype else ids,
            "country": col(COUNTRIES, 0.1),
            "language": col(["en", "de", "fr", "es", "it", "pt"], 0.1),
            "platform": col(["instagram", "tiktok", "youtube"], 0.05),
            "followers": pd.array(followers, dtype="Int64") if nullable_followers else followers,
        }
    )
    trust = rng.random(n)
    trust[rng.random(n) < 0.05] = np.nan
    signals = pd.DataFrame({"creator_id": ids, "trust_score": trust, "is_brand_account": (rng.random(n) < 0.02) if brands else np.zeros(n, bool)})
    index = VectorIndex().build(rng.standard_normal((n, 8)).astype(np.float32), ids) if with_index else None
    empty = pd.DataFrame()
    return Snapshot(
        snapshot_id="synthetic", creators=creators, signals=signals, posts=empty, post_vectors=np.zeros((0, 8), np.float32),
        post_offsets=np.zeros(n + 1, np.int64), index=index, brands=empty, manifest={},
    )


def _random_filters(rng, ids):
    def some(values, upto):
        return tuple(rng.choice(values, size=int(rng.integers(1, upto + 1)), replace=False).tolist()) if rng.random() < 0.5 else ()

    lo = int(rng.choice([0, 999, 1_000, 5_000])) if rng.random() < 0.5 else None
    hi = int(rng.choice([1_000, 100_000, 10**12])) if rng.random() < 0.5 else None
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return Filters(
        min_followers=lo,
        max_followers=hi,
        countries=some(COUNTRIES + ["AQ"], 14),  # more than the few codes compared one by one, and one nobody has
        languages=some(["en", "de", "fr", "eo"], 3),
        platforms=some(["instagram", "tiktok", "youtube", "twitch"], 2),
        exclude_creators=some(ids[:50] + ["nobody", "c99999"], 6),
        allow_unknown_followers=bool(rng.random() < 0.5),
        include_brand_accounts=bool(rng.random() < 0.3),
        min_trust=float(rng.choice([0.0, 0.5, 0.9])) if rng.random() < 0.3 else None,
    )


@pytest.mark.parametrize(
    "variant",
    [{}, {"string_dtype": True, "nullable_followers": True}, {"brands": False}, {"with_index": False}],
    ids=["object-columns", "string-and-nullable-columns", "no-brand-accounts", "no-index"],
)
def test_filter_mask_equals_the_pandas_reference(variant):
    from matcher.engine import filter_mask

    snap = _synthetic_snapshot(3_000, seed=len(str(variant)), **variant)
    ids = [str(i) for i in snap.creators["creator_id"]]
    rng = np.random.default_rng(0)
    cases = [None, Filters(), Filters(include_brand_accounts=True)] + [_random_filters(rng, ids) for _ in range(300)]
    for flt in cases:
        for drop in (True, False):
            want = _reference_mask(snap, flt, exclude_brand_accounts=drop)
            got = filter_mask(snap, flt, exclude_brand_accounts=drop)
            if want is None:
                assert got is None, flt
            else:
                assert got is not None and got.dtype == bool and np.array_equal(got, want), flt
                got[:] = False  # the caller's own array: changing it changes no later mask
    assert np.array_equal(filter_mask(snap, cases[-1]), _reference_mask(snap, cases[-1]))


def test_filter_columns_are_built_once_per_snapshot_and_dropped_with_it():
    import gc
    import weakref

    from matcher.engine import filter_columns

    snap = _synthetic_snapshot(500, seed=1)
    cols = filter_columns(snap).warm()
    assert filter_columns(snap) is cols
    other = _synthetic_snapshot(500, seed=2)
    assert filter_columns(other) is not cols
    snap.creators = snap.creators.copy()  # replaced tables are converted again
    assert filter_columns(snap) is not cols
    kept = weakref.ref(filter_columns(other))
    del other
    gc.collect()
    assert kept() is None  # the cache let go of the columns with their snapshot


def test_leaving_out_only_brand_accounts_gives_the_exact_filtered_answer(monkeypatch):
    # Unfiltered queries leave out brand accounts by over-fetching from the index and dropping them;
    # on an exact index that must equal the exact scan over every other creator.
    import matcher.index as index_mod
    from matcher.engine import filter_mask, topical_candidates

    snap = _synthetic_snapshot(4_000, seed=3)
    assert snap.index.kind_ == "flat" and 0 < snap.signals["is_brand_account"].sum() < 200
    rng = np.random.default_rng(5)
    queries = rng.standard_normal((25, 8)).astype(np.float32)
    # Brand accounts crowding the top of a query force a larger fetch.
    near = np.argsort(-(snap.index.vectors_ @ (queries[0] / np.linalg.norm(queries[0]))))
    snap.signals.loc[near[:60], "is_brand_account"] = True
    for flt in (None, Filters(min_trust=0.01)):
        mask = filter_mask(snap, flt)
        assert mask is not None and mask.mean() > 0.8  # wide: the over-fetching path
        for k in (1, 10, 200):
            fast = [topical_candidates(snap, q, k, flt) for q in queries]
            monkeypatch.setattr(index_mod, "OVERFETCH_MIN_FRACTION", 2.0)  # the filtered exact scan
            exact = [topical_candidates(snap, q, k, flt) for q in queries]
            monkeypatch.undo()
            assert fast == exact
            assert all(len(h) == k and all(mask[x.row] for x in h) for h in fast)


def test_language_filter_matches_regional_tags_and_detected_languages():
    from matcher.engine import filter_mask

    snap = _synthetic_snapshot(8, seed=3)
    snap.creators = snap.creators.assign(language=["en", "en-us", "en-gb", "pt-br", "pt", None, "de", "es"])
    got = filter_mask(snap, Filters(languages=("English",)), exclude_brand_accounts=False)
    assert got.tolist() == [True, True, True, False, False, False, False, False]
    got = filter_mask(snap, Filters(languages=("pt-BR",)), exclude_brand_accounts=False)
    assert got.tolist() == [False, False, False, True, False, False, False, False]
    got = filter_mask(snap, Filters(languages=("pt", "de")), exclude_brand_accounts=False)
    assert got.tolist() == [False, False, False, True, True, False, True, False]


# -- look-alikes --------------------------------------------------------------------------------


def _niches(sample):
    labels = pd.read_csv(sample.labels, dtype=str, keep_default_na=False)
    return dict(zip(labels["creator_id"], labels["niche"]))


def _three_of(niche, niche_of, seed=0):
    ids = sorted(c for c, n in niche_of.items() if n == niche)
    return [str(c) for c in np.random.default_rng(seed).choice(ids, size=3, replace=False)]


@pytest.mark.parametrize("niche", ["trail running", "budget travel", "specialty coffee"])
def test_like_only_returns_creators_of_the_liked_niche(matcher_, sample, niche):
    niche_of = _niches(sample)
    if niche not in set(niche_of.values()):
        pytest.skip(f"the sample has no {niche!r} niche")
    liked = _three_of(niche, niche_of)
    ms = matcher_.recommend(like=liked, k=10)
    assert len(ms) == 10
    assert not {m.creator_id for m in ms} & set(liked)
    assert sum(niche_of[m.creator_id] == niche for m in ms) >= 8
    assert all(m.why.startswith("looks like " + ", ".join(liked) + "; ") for m in ms)


def test_liked_and_unliked_creators_are_never_returned(matcher_):
    everyone = [m.creator_id for m in matcher_.recommend(BRIEF, k=30)]
    liked, unliked = everyone[:5], everyone[5:8]
    got = {m.creator_id for m in matcher_.recommend(BRIEF, k=1000, like=liked, unlike=unliked)}
    assert got and not got & set(liked + unliked)
    # Everyone else who passes the default filters can still be returned.
    assert got == {m.creator_id for m in matcher_.recommend(BRIEF, k=1000)} - set(liked + unliked)


def test_unlike_pushes_the_unliked_niche_down(matcher_, sample):
    niche_of = _niches(sample)
    # A trail-running brief with three travel creators liked gives a query between the two niches;
    # unliking three other travel creators moves travel down.
    travel = _three_of("budget travel", niche_of)
    others = sorted(c for c, n in niche_of.items() if n == "budget travel" and c not in travel)[:3]
    base = matcher_.recommend(BRIEF, like=travel, k=20)
    pushed = matcher_.recommend(BRIEF, like=travel, unlike=others, k=20)
    share = lambda ms: sum(niche_of[m.creator_id] == "budget travel" for m in ms)  # noqa: E731
    assert share(base) >= 5
    assert share(pushed) < share(base) / 2
    assert sum(niche_of[m.creator_id] == "trail running" for m in pushed) > sum(niche_of[m.creator_id] == "trail running" for m in base)
    assert not {m.creator_id for m in pushed} & set(travel + others)


def test_lookalikes_combine_with_filters_and_a_brief(matcher_, sample):
    niche_of = _niches(sample)
    liked = _three_of("trail running", niche_of)
    for flt in (Filters(countries=("US", "GB")), Filters(platforms=("tiktok",)), Filters(min_trust=0.5)):
        passing = {m.creator_id for m in matcher_.recommend(BRIEF, k=1000, filters=flt)}
        got = matcher_.recommend(BRIEF, k=20, like=liked, filters=flt)
        assert got and {m.creator_id for m in got} <= passing - set(liked)
        alone = matcher_.recommend(like=liked, k=20, filters=flt)
        assert {m.creator_id for m in alone} <= passing - set(liked)


def test_lookalikes_keep_every_filter_setting(matcher_, sample):
    liked = _three_of("trail running", _niches(sample))
    flt = Filters(min_followers=1_000, max_followers=100_000, allow_unknown_followers=True, exclude_creators=("c000001",))
    q = matcher_.queries([None], filters=flt, like=liked)
    assert q.filters[0] == Filters(
        min_followers=1_000, max_followers=100_000, allow_unknown_followers=True, exclude_creators=("c000001", *liked),
    )


def test_lookalike_query_is_the_rocchio_vector(matcher_):
    from matcher.engine import lookalike_query

    snap = matcher_.snapshot_
    vecs, ids = snap.index.vectors_, list(snap.creators["creator_id"][:4])
    rows = [snap.index.row_of(c) for c in ids]
    q = lookalike_query(snap, None, ids[:2], ids[2:])
    want = vecs[rows[:2]].astype(np.float64).mean(0) - 0.5 * vecs[rows[2:]].astype(np.float64).mean(0)
    np.testing.assert_allclose(q, want / np.linalg.norm(want), atol=1e-6)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-6)


def test_lookalike_requests_fail_clearly(matcher_):
    from matcher.request import RequestError

    with pytest.raises(RequestError, match="like: creator 'nobody' is not in the served snapshot"):
        matcher_.recommend(like=["nobody"])
    with pytest.raises(RequestError, match="unlike: creator 'nobody'"):
        matcher_.recommend(BRIEF, unlike=["nobody"])
    with pytest.raises(RequestError, match="no brief and no creators to look like"):
        matcher_.recommend(unlike=["c000001"])
    with pytest.raises(RequestError, match="in both like and unlike"):
        matcher_.recommend(like=["c000001"], unlike=["c000001"])
    with pytest.raises(RequestError, match="give a list of creator ids"):
        matcher_.recommend(like="c000001")


@pytest.mark.slow
def test_shortlist_within_budget_explains_picks_and_beats_taking_by_rank(budgeted, encoder):
    from matcher.engine import Matcher, shortlist_matches

    m = Matcher(budgeted.store, encoder=encoder).load()
    brief = "Fragrance-free ceramide moisturizer for dry, sensitive, eczema-prone skin"
    sl = m.shortlist(brief, budget=2000, k=25)
    assert sl.picks and sl.spend <= 2000 and sl.spend_low <= sl.spend <= sl.spend_high
    assert sl.spend == pytest.approx(sum(p.cost for p in sl.picks))
    assert sl.value == pytest.approx(sum(p.value_added for p in sl.picks))
    assert all(p.why.startswith(f"rank {p.match.rank} for the brief") and "costs" in p.why for p in sl.picks)
    assert {p.match.creator_id for p in sl.picks}.isdisjoint({x.creator_id for x in sl.left_out})
    assert len(sl.picks) + len(sl.left_out) == sl.candidates == 25
    assert sl.currency == "USD" and sl.method in ("exact", "solver-limit", "greedy")
    # At least what taking the candidates in rank order while they fit is worth, valued the same way.
    ms = m.recommend(brief, 25)
    baseline = shortlist_matches(m.snapshot_, ms, budget=2000, method="rank")
    assert baseline.method == "rank" and baseline.spend <= 2000
    assert sl.value >= baseline.value - 1e-9
    # A shortlist with costs of our own: creators without one are left out and say so.
    costs = {x.creator_id: 400.0 for x in ms[:6]}
    own = m.shortlist(brief, budget=1000, k=25, costs=costs)
    assert {p.match.creator_id for p in own.picks} <= set(costs) and own.spend <= 1000 and len(own.picks) == 2
    assert sum(x.reason.startswith("price unknown") for x in own.left_out) == 25 - 6
    assert "left out for an unknown price" in own.why
    with pytest.raises(ValueError, match="budget"):
        m.shortlist(brief, budget=0)
    with pytest.raises(ValueError, match="max_overlap"):
        m.shortlist(brief, budget=10, max_overlap=1.5)


@pytest.mark.slow
def test_shortlist_respects_max_overlap_and_reports_the_audience(budgeted, encoder):
    from matcher.engine import Matcher

    m = Matcher(budgeted.store, encoder=encoder).load()
    brief = "Lightweight trail running shoe with a rock plate for technical singletrack"
    loose = m.shortlist(brief, budget=50_000, k=30)
    tight = m.shortlist(brief, budget=50_000, k=30, max_overlap=0.0)
    for q in tight.audience.pairs:
        assert q.jaccard is None or q.jaccard <= 0.0
    assert tight.max_overlap == 0.0
    rep = loose.audience
    assert set(rep.known) | set(rep.unknown) == {p.match.creator_id for p in loose.picks}
    if rep.known:
        assert 1 / len(rep.known) <= rep.distinct_share <= 1.0
    for x in tight.left_out:
        if "max_overlap" in x.reason:
            assert x.reason.startswith("audience overlaps ")


@pytest.mark.slow
def test_audience_overlap_of_any_creators_equals_exact_jaccard_within_the_bound(budgeted, sample, encoder):
    import math

    from matcher.audience import commenters_by_creator, exact_jaccard
    from matcher.request import RequestError

    m = Matcher(budgeted.store, encoder=encoder).load()
    comments = pd.read_csv(sample.comments, dtype=str, keep_default_na=False)
    posts = pd.read_csv(sample.posts, dtype=str, keep_default_na=False)
    sets = commenters_by_creator(comments, posts)
    known = sets[sets.map(len) >= m.config.audience.min_commenters]
    # The pair of creators sharing the most commenters, and one with too few to know.
    pairs = [(a, b) for a in known.index[:300] for b in known.index[:300] if a < b and set(known[a]) & set(known[b])]
    a, b = max(pairs, key=lambda p: exact_jaccard(known[p[0]], known[p[1]]))
    few = next(c for c in m.snapshot_.creators["creator_id"] if c not in set(known.index))
    rep = m.audience_overlap([a, b, few])
    pair = next(p for p in rep.pairs if {p.a, p.b} == {a, b})
    exact = exact_jaccard(known[a], known[b])
    assert exact > 0 and abs(pair.jaccard - exact) <= 4 * math.sqrt(exact * (1 - exact) / 128) + 1 / 128
    assert rep.unknown == (few,) and all(p.jaccard is None for p in rep.pairs if few in (p.a, p.b))
    with pytest.raises(RequestError, match="not in the served snapshot"):
        m.audience_overlap(["nobody"])

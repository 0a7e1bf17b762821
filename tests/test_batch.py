import pandas as pd
import pytest

from matcher.batch import run_batch
from matcher.store import Store

pytestmark = pytest.mark.slow


def test_every_row_is_accepted_or_quarantined(built):
    for name, c in built.counts.items():
        assert c["accepted"] + c["quarantined"] == c["read"], name
        assert c["quarantined"] >= 1, f"the sample plants bad {name} rows"
    q = pd.read_csv(built.quarantine_path, dtype=str, keep_default_na=False)
    assert list(q.columns) == ["file", "row", "id", "field", "reason"]
    assert len(q) == sum(c["quarantined"] for c in built.counts.values())
    assert (q["reason"].str.len() > 10).all()
    assert {"followers", "creator_id", "post_id", "posted_at", "description"} <= set(q["field"])


def test_every_brand_gets_matches_and_ranks_are_contiguous(built, sample):
    st = Store(built.store)
    m = st.read_matches()
    brands = pd.read_csv(sample.brands, dtype=str, keep_default_na=False)
    valid = set(Store(built.store).load().brands["brand_id"])
    assert set(m["brand_id"]) == valid
    assert len(valid) >= 25
    for _, g in m.groupby("brand_id"):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert g["score"].is_monotonic_decreasing
    assert len(brands) >= len(valid)


def test_brand_exclusions_and_ranges_are_respected(built):
    snap = Store(built.store).load()
    m = Store(built.store).read_matches()
    followers = dict(zip(snap.creators["creator_id"], snap.creators["followers"]))
    for b in snap.brands.itertuples():
        got = m[m["brand_id"] == b.brand_id]
        excl = set(b.exclude_creators) if b.exclude_creators is not None else set()
        assert not excl & set(got["creator_id"])
        if pd.notna(b.min_followers):
            assert all(pd.notna(followers[c]) and followers[c] >= b.min_followers for c in got["creator_id"])
        if pd.notna(b.max_followers):
            assert all(pd.notna(followers[c]) and followers[c] <= b.max_followers for c in got["creator_id"])


def test_known_answer_trail_running_brand_gets_trail_runners(built, sample):
    labels = pd.read_csv(sample.labels, dtype=str, keep_default_na=False)
    niche = dict(zip(labels["creator_id"], labels["niche"]))
    brand_niche = pd.read_csv(sample.brand_labels, dtype=str)
    m = Store(built.store).read_matches()
    trail = brand_niche[brand_niche["niche"] == "trail running"]["brand_id"].tolist()
    assert trail
    for b in trail:
        top = m[m["brand_id"] == b].head(10)["creator_id"]
        assert [niche.get(c) for c in top] == ["trail running"] * len(top), b
    # Every brand's top 5 come from its own niche: the topical search is doing its job.
    hits = total = 0
    for b, n in zip(brand_niche["brand_id"], brand_niche["niche"]):
        top = m[m["brand_id"] == b].head(5)["creator_id"]
        hits += sum(niche.get(c) == n for c in top)
        total += len(top)
    assert hits / total >= 0.9


def test_second_run_on_unchanged_inputs_encodes_nothing(built, sample, encoder):
    again = run_batch(sample.creators, sample.posts, sample.brands, built.store, comments=sample.comments, encoder=encoder, progress=False)
    assert again.encoded == 0
    assert again.snapshot_id != built.snapshot_id
    assert Store(built.store).current_id() == again.snapshot_id
    a = Store(built.store).read_matches(built.snapshot_id).drop(columns=["why"])
    b = Store(built.store).read_matches(again.snapshot_id).drop(columns=["why"])
    pd.testing.assert_frame_equal(a, b)


# -- trust signals on the labelled sample -----------------------------------------------------
def _labels(sample):
    return pd.read_csv(sample.labels, dtype=str, keep_default_na=False).set_index("creator_id")


def test_injected_fraud_is_flagged_and_clean_creators_are_not(built, sample):
    from matcher.signals import AUTHENTICITY_FLAGS

    sig = Store(built.store).load().signals.set_index("creator_id")
    lab = _labels(sample)
    flagged = sig["flags"].map(lambda f: any(x in AUTHENTICITY_FLAGS for x in f.split("|"))).reindex(lab.index)
    fake = lab["is_fake"] == "1"
    clean = ~fake & (lab["is_brand_account"] != "1") & (lab.get("in_pod", pd.Series("0", index=lab.index)) != "1")
    assert fake.sum() >= 20
    assert flagged[fake].mean() >= 0.90
    assert flagged[clean].mean() < 0.05
    # Flagged creators keep their place in the data: down-weighted, not deleted.
    assert sig.loc[lab.index[fake], "trust_score"].max() < 1.0


def test_keyword_stuffed_bios_never_reach_the_top_10_of_their_brief(built, sample):
    lab = _labels(sample)
    stuffed = lab[lab["stuffed_bio_niche"] != ""]
    assert len(stuffed) >= 5
    sig = Store(built.store).load().signals.set_index("creator_id")
    assert sig.loc[stuffed.index, "flags"].str.contains("BIO_NOT_SUPPORTED_BY_POSTS").all()
    m = Store(built.store).read_matches()
    brand_niche = pd.read_csv(sample.brand_labels, dtype=str)
    for cid, row in stuffed.iterrows():
        for b in brand_niche.loc[brand_niche["niche"] == row["stuffed_bio_niche"], "brand_id"]:
            top = m[(m["brand_id"] == b) & (m["rank"] <= 10)]["creator_id"]
            assert cid not in set(top), (cid, b)


def test_brand_accounts_are_recognised_and_never_matched_by_default(built, sample):
    lab = _labels(sample)
    sig = Store(built.store).load().signals.set_index("creator_id")
    is_brand = lab["is_brand_account"] == "1"
    assert is_brand.sum() >= 5
    assert sig.loc[lab.index[is_brand], "is_brand_account"].all()
    assert not sig.loc[lab.index[~is_brand], "is_brand_account"].any()
    m = Store(built.store).read_matches()
    assert not m["creator_id"].isin(lab.index[is_brand]).any()


def test_undisclosed_sponsorship_is_found(built, sample):
    lab = _labels(sample)
    sig = Store(built.store).load().signals.set_index("creator_id")
    hidden = lab["has_undisclosed_sponsorship"] == "1"
    flagged = sig["flags"].str.contains("UNDISCLOSED_SPONSORSHIP").reindex(lab.index)
    assert hidden.sum() >= 5 and flagged[hidden].mean() >= 0.9
    assert flagged[~hidden].mean() < 0.05


def test_conversation_signal_matches_the_labelled_behaviour(built, sample):
    lab = _labels(sample)
    sig = Store(built.store).load().signals.set_index("creator_id").reindex(lab.index)
    people = (lab["is_fake"] != "1") & (lab["is_brand_account"] != "1")
    high = sig.loc[people & (lab["answers_questions"] == "high"), "answer_rate"]
    low = sig.loc[people & (lab["answers_questions"] == "low"), "answer_rate"]
    assert high.median() > low.median() + 0.3
    assert sig.loc[people & (lab["answers_questions"] == "high"), "conversation_score"].median() > sig.loc[
        people & (lab["answers_questions"] == "low"), "conversation_score"
    ].median()
    pod = lab["in_pod"] == "1"
    assert pod.sum() >= 8
    pod_flag = sig["flags"].str.contains("ENGAGEMENT_POD")
    # A pod member with a handful of sampled comments leaves too little evidence to call.
    enough = sig["comments_seen"] >= 10
    assert pod_flag[pod & enough].mean() >= 0.9 and pod_flag[~pod].mean() < 0.01
    assert not sig["flags"].str.contains("NO_COMMENT_DATA").any()

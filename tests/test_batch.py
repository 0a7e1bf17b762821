from pathlib import Path

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
    assert list(q.columns) == ["file", "row", "id", "field", "action", "reason"]
    assert (q["action"] == "rejected").sum() == sum(c["quarantined"] for c in built.counts.values())
    assert (q["action"] == "blanked").sum() == sum(c["blanked"] for c in built.counts.values()) >= 1
    assert (q["reason"].str.len() > 10).all()
    # Bad optional values (a negative follower count, an unreadable date) cost the value, not the row.
    assert {"followers", "posted_at"} <= set(q.loc[q["action"] == "blanked", "field"])
    assert {"creator_id", "post_id", "description"} <= set(q.loc[q["action"] == "rejected", "field"])


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


# -- memory-lean internals: checkpoint bytes, block-wise vectors ---------------------------------
def _reference_creator_vectors(bio_vecs, has_bio, post_vecs, offsets, bio_weight):
    """The one-shot computation the block-wise one must reproduce bit for bit."""
    import numpy as np

    from matcher.index import normalize_rows

    n, d = bio_vecs.shape
    counts = np.diff(offsets)
    sums = np.zeros((n, d), dtype=np.float64)
    np.add.at(sums, np.repeat(np.arange(n), counts), post_vecs)
    means = normalize_rows(np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0))
    has_posts = counts > 0
    wb = np.where(has_bio & has_posts, bio_weight, np.where(has_bio, 1.0, 0.0))[:, None]
    return normalize_rows(wb * bio_vecs + (1.0 - wb) * np.where(has_posts[:, None], means, 0.0))


def _random_creators(n=200, d=16, seed=3):
    import numpy as np

    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 7, n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    bio = rng.standard_normal((n, d)).astype(np.float32)
    has_bio = rng.random(n) < 0.8
    bio[~has_bio] = 0.0
    posts = rng.standard_normal((int(offsets[-1]), d)).astype(np.float32)
    return bio, has_bio, posts, offsets


@pytest.mark.parametrize("block", [1, 7, 64, 10_000])
def test_blockwise_profile_vectors_and_focus_equal_the_one_shot_computation(monkeypatch, block):
    import numpy as np

    import matcher.batch as batch
    from matcher.signals import topical_focus

    bio, has_bio, posts, offsets = _random_creators()
    monkeypatch.setattr(batch, "ROW_BLOCK", block)
    got = batch.creator_vectors(bio, has_bio, posts, offsets, 0.3)
    assert got.dtype == np.float32
    assert np.array_equal(got, _reference_creator_vectors(bio, has_bio, posts, offsets, 0.3))
    focus, profiles = batch.focus_and_profiles(bio, has_bio, posts, offsets, bio_weight=0.3, min_bio_agreement=0.1)
    want = topical_focus(bio, has_bio, posts, offsets)
    pd.testing.assert_frame_equal(focus, want)
    # A bio its creator's posts do not support (3 posts or more) is left out of the profile vector.
    unsupported = (np.diff(offsets) >= 3) & (want["bio_agreement"].to_numpy() < 0.1)
    assert 0 < unsupported.sum() < (has_bio & (np.diff(offsets) >= 3)).sum()
    assert np.array_equal(profiles, _reference_creator_vectors(bio, has_bio & ~unsupported, posts, offsets, 0.3))
    # Filled into an array given (the batch's mapped file), the same bits.
    out = np.full(profiles.shape, np.nan, dtype=np.float32)
    focus2, filled = batch.focus_and_profiles(bio, has_bio, posts, offsets, bio_weight=0.3, min_bio_agreement=0.1, out=out)
    assert filled is out and np.array_equal(out, profiles)
    pd.testing.assert_frame_equal(focus2, focus)
    with pytest.raises(ValueError, match="float32 array of shape"):
        batch.focus_and_profiles(bio, has_bio, posts, offsets, bio_weight=0.3, min_bio_agreement=0.1, out=out.astype(np.float64))


def test_vectors_without_posts_or_creators():
    import numpy as np

    import matcher.batch as batch

    bio = np.eye(3, 4, dtype=np.float32)
    got = batch.creator_vectors(bio, np.array([True, True, False]), np.zeros((0, 4), np.float32), np.zeros(4, np.int64), 0.3)
    assert np.array_equal(got, bio[[0, 1, 2]] * np.array([[1], [1], [0]], dtype=np.float32))
    assert batch.creator_vectors(np.zeros((0, 4), np.float32), np.zeros(0, bool), np.zeros((0, 4), np.float32), np.zeros(1, np.int64), 0.3).shape == (0, 4)
    focus, profiles = batch.focus_and_profiles(np.zeros((0, 4), np.float32), np.zeros(0, bool), np.zeros((0, 4), np.float32), np.zeros(1, np.int64), bio_weight=0.3, min_bio_agreement=0.1)
    assert profiles.shape == (0, 4) and len(focus) == 0 and list(focus.columns) == ["focus", "bio_agreement"]


@pytest.mark.parametrize("shape,dtype", [((5, 3), "float32"), ((0, 384), "float32"), ((7,), "int64"), ((2, 2, 2), "float64")])
def test_npy_checkpoint_files_are_np_saves_and_read_back_without_a_copy(tmp_path, shape, dtype):
    import io

    import numpy as np

    from matcher.store import npy_map, read_npy

    arr = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    mapped, view = npy_map(tmp_path / "a.npy", shape, dtype)
    view[...] = arr
    mapped.flush()
    ref = io.BytesIO()
    np.save(ref, arr, allow_pickle=False)
    assert bytes(mapped) == ref.getvalue() == (tmp_path / "a.npy").read_bytes()
    for data in (mapped, ref.getvalue()):
        back = read_npy(data)
        assert back.shape == arr.shape and back.dtype == arr.dtype and np.array_equal(back, arr)
        assert not back.flags.writeable
        assert arr.size == 0 or np.shares_memory(back, np.frombuffer(data, dtype=np.uint8))


def test_the_embed_stage_fills_its_vector_files_in_place_and_its_checkpoint_moves_them_in(tmp_path, encoder, monkeypatch):
    """The vectors are never the process's memory: each .npy file is made in the stage's scratch
    directory and mapped, filled by embed_groups through its on-disk sort, and moved into the
    checkpoint rather than written again; the snapshot serves those very bytes."""
    import hashlib

    from matcher.files import MappedFile
    from matcher.sample import generate
    from matcher.store.checkpoints import Checkpoints

    s = generate(tmp_path / "data", seed=7, n_creators=40, n_brands=3, posts_per_creator=(2, 4), comments=False, outcomes=False)
    seen: dict[str, tuple[type, str, str]] = {}
    save = Checkpoints.save

    def recording(self, stage, files, info=None):
        if stage == "embed":
            for name, data in files.items():
                path = getattr(data, "path", None)
                seen[name] = (type(data), path.parent.name if path is not None else "", hashlib.sha256(data).hexdigest())
        return save(self, stage, files, info)

    monkeypatch.setattr(Checkpoints, "save", recording)
    result = run_batch(s.creators, s.posts, s.brands, tmp_path / "store", encoder=encoder, progress=False)
    vectors = ["bio_vectors.npy", "post_vectors.npy", "brand_vectors.npy", "niche_vectors.npy"]
    assert {name: seen[name][:2] for name in vectors} == {name: (MappedFile, "embed.scratch") for name in vectors}
    manifest = Store(tmp_path / "store").verify(result.snapshot_id)
    assert manifest["files"]["post_vectors.npy"]["sha256"] == seen["post_vectors.npy"][2]
    assert not list((tmp_path / "store").rglob("region-*.bin"))  # the sort's files are gone


def test_read_npy_refuses_object_arrays():
    import io

    import numpy as np

    from matcher.store import read_npy

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        read_npy(buf.getvalue())


def test_every_text_position_gets_its_own_texts_vector(built, encoder):
    """Bios, posts and briefs share the chunked cache look-up; each position must get its own text's vector."""
    import numpy as np

    snap = Store(built.store).load()
    posts = snap.posts["text"].fillna("").astype(str).tolist()
    pick = list(range(0, len(posts), max(1, len(posts) // 40)))
    want = encoder.encode([posts[i] for i in pick])
    assert np.allclose(snap.post_vectors[pick], want, atol=1e-5)
    # A text used several times has one vector everywhere.
    first: dict[str, int] = {}
    for i, t in enumerate(posts):
        j = first.setdefault(t, i)
        if j != i:
            assert np.array_equal(snap.post_vectors[i], snap.post_vectors[j])


def test_rerun_reuses_unchanged_posts_signals_and_equals_a_fresh_run(tmp_path, encoder, monkeypatch):
    import numpy as np

    import matcher.signals as signals
    from matcher.sample import generate
    from matcher.signals import post_signals

    s = generate(tmp_path / "data", seed=5, n_creators=60, n_brands=4, posts_per_creator=(2, 4), comments=False, outcomes=False)
    store = tmp_path / "store"
    run_batch(s.creators, s.posts, s.brands, store, encoder=encoder, progress=False)
    posts = pd.read_csv(s.posts, dtype=str, keep_default_na=False)
    ok = posts["post_id"].str.fullmatch(r"p\d+") & posts["post_id"].duplicated(keep=False).eq(False)
    rows = posts.index[ok]
    posts.loc[rows[:5], "text"] = posts.loc[rows[:5], "text"] + " use code SAVE20 for 15% off"  # now sponsored
    unflagged = [r for r in rows[5:] if posts.at[r, "sponsored"] != "true"][:5]
    posts.loc[unflagged, "sponsored"] = "true"  # the platform's flag set
    changed = set(posts.loc[list(rows[:5]) + unflagged, "post_id"])
    night = tmp_path / "posts2.csv"
    posts.to_csv(night, index=False)

    computed: list[int] = []

    def counting(frame, **kw):
        computed.append(len(frame))
        return post_signals(frame, **kw)

    monkeypatch.setattr(signals, "post_signals", counting)
    again = run_batch(s.creators, night, s.brands, store, encoder=encoder, progress=False)
    snap = Store(store).load(again.snapshot_id)
    want = post_signals(snap.posts)["is_sponsored"].to_numpy(dtype=bool)
    assert np.array_equal(snap.posts["is_sponsored"].to_numpy(dtype=bool), want)
    assert snap.posts.loc[snap.posts["post_id"].isin(changed), "is_sponsored"].all()
    assert computed == [len(changed)]  # only the changed posts went through the patterns again
    # Everything equals a run that computed every post's signals afresh.
    monkeypatch.undo()
    fresh = run_batch(s.creators, night, s.brands, tmp_path / "fresh", encoder=encoder, progress=False)
    ref = Store(tmp_path / "fresh").load(fresh.snapshot_id)
    pd.testing.assert_frame_equal(snap.posts, ref.posts)
    pd.testing.assert_frame_equal(snap.signals, ref.signals)
    pd.testing.assert_frame_equal(Store(store).read_matches(again.snapshot_id), Store(tmp_path / "fresh").read_matches(fresh.snapshot_id))
    assert {"is_sponsored", "disclosure", "is_promo", "unsafe"} <= set(snap.posts.columns)


def test_contact_prefilter_skips_only_texts_without_contact_details(sample):
    """move_contacts searches only texts may_hold_contacts lets through; the result must equal searching all."""
    from matcher.text import extract_contacts, may_hold_contacts, move_contacts

    tricky = [
        "mail me: jane.doe@example.com", "jane [at] example [dot] com", "JANE(AT)EXAMPLE(DOT)COM", "bob {at} mail {dot} org",
        "call +44 20 7946 0958", "0044 20 7946 0958", "020 7946 0958", "(020) 7946 0958", "555-123-4567", "1 (555) 123-4567",
        "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨", "12345678", "1234567 followers", "15% off with code SAVE20", "2026-10-03 at 14:22", "", None,
        "we met at (the) cafe", "ab@", "@handle", "no contacts here",
    ]
    texts = pd.Series(tricky + pd.read_csv(sample.posts, dtype=str, keep_default_na=False)["text"].tolist()[:3000], dtype="str")
    may = may_hold_contacts(texts)
    for t, m in zip(texts.tolist(), may):
        if not m and isinstance(t, str):
            assert extract_contacts(t) == (t, (), ()), t
    creators = pd.DataFrame({"creator_id": [f"c{i}" for i in range(len(texts))], "bio": texts})
    posts = pd.DataFrame({"creator_id": [f"c{i}" for i in range(len(texts))], "text": texts})
    cr, po = move_contacts(creators, posts)
    want = [extract_contacts(t)[0] if isinstance(t, str) else t for t in texts.tolist()]
    assert [None if pd.isna(x) else x for x in cr["bio"].tolist()] == [None if pd.isna(x) else x for x in want]
    assert [None if pd.isna(x) else x for x in po["text"].tolist()] == [None if pd.isna(x) else x for x in want]
    assert cr.loc[0, "contact_emails"] == "jane.doe@example.com" and "+44 20 7946 0958" in cr.loc[4, "contact_phones"]


def test_audit_counts_rejected_rows_only():
    from matcher.batch import audit

    def run(quarantined, blanked):
        counts = {
            "creators": {"read": 1000, "accepted": 1000 - quarantined, "quarantined": quarantined, "blanked": blanked},
            "posts": {"read": 9000, "accepted": 9000, "quarantined": 0, "blanked": blanked},
        }
        return audit(
            counts=counts, previous_counts=None, n_creators=1000 - quarantined, index_size=1000 - quarantined,
            brand_ids=["b1"], matches=pd.DataFrame({"brand_id": ["b1"]}), max_quarantine_rate=0.05, max_shrink=0.25,
        )

    # Every creator and post with a blanked value (12,559 such rows in one real export) publishes.
    report = run(0, 9000)
    assert report["passed"]
    assert "0 of 10000 rows quarantined" in report["checks"][-1]["detail"]
    assert "18000 unreadable optional values left blank, rows kept" in report["checks"][-1]["detail"]
    assert run(500, 0)["passed"]
    failed = run(501, 0)
    assert not failed["passed"] and "raise batch.max_quarantine_rate" in failed["checks"][-1]["detail"]


@pytest.mark.parametrize("index", [{}, {"exact_max": 10, "hnsw_m": 4, "ef_construction": 8, "ef_search": 16}], ids=["flat", "hnsw"])
def test_stored_matches_equal_recommend_for_every_brand_including_an_over_long_one(tmp_path, encoder, index):
    """The batch prepares a brand's brief as recommend(Brand) does (cut to max_text_chars), so its stored matches are that answer.

    The batch ranks with the index it built in memory, recommend() with the snapshot's index files:
    with a small HNSW graph (approximate at this size) the two must still agree.
    """
    import numpy as np

    from matcher.config import Config
    from matcher.engine import Matcher
    from matcher.sample import generate
    from matcher.schema import Brand

    s = generate(tmp_path / "data", seed=7, n_creators=80, n_brands=5, posts_per_creator=(2, 4), comments=False, outcomes=False)
    cfg = Config.from_dict({"index": index})
    brands = pd.read_csv(s.brands, dtype=str, keep_default_na=False)
    # Name and description pass max_text_chars together; the words past the cut are on another topic.
    head = "Lightweight trail running shoe with a grippy lugged outsole, a rock plate and a cushioned midsole for long mountain runs. "
    tail = " Also a mechanical gaming keyboard with hot-swappable switches, RGB lighting and a tournament mode for esports players."
    description = (head * 40)[: cfg.max_text_chars - len(tail) - 1].rsplit(" ", 1)[0] + tail
    long = {c: "" for c in brands.columns} | {"brand_id": "b_long", "name": "Ridgeline Trail Runner Pro " * 4, "description": description}
    brands = pd.concat([brands, pd.DataFrame([long])], ignore_index=True)
    brands.to_csv(tmp_path / "brands.csv", index=False)
    result = run_batch(s.creators, s.posts, tmp_path / "brands.csv", tmp_path / "store", encoder=encoder, config=cfg, progress=False)

    m = Matcher(result.store, config=cfg, encoder=encoder).load()
    assert m.snapshot_.index.kind_ == ("hnsw" if index else "flat")
    stored = Store(result.store).read_matches()
    # The snapshot's collaborations are those of its own posts, found again the same way.
    from matcher.collaborations import collection_collaborations

    snap = m.snapshot_
    assert "collaborations.parquet" in snap.manifest["files"] and len(snap.collaborations)
    again = collection_collaborations(snap.creators, snap.posts, snap.posts, snap.brands)
    pd.testing.assert_frame_equal(snap.collaborations.reset_index(drop=True), again.reset_index(drop=True), check_dtype=False)
    records = m.snapshot_.brands.to_dict("records")
    assert "b_long" in {r["brand_id"] for r in records}
    assert any(len(Brand.from_record(r).query_text) > cfg.max_text_chars for r in records)
    for r in records:
        brand = Brand.from_record(r)
        want = m.recommend(brand, k=cfg.top_k)
        got = stored[stored["brand_id"] == brand.brand_id].sort_values("rank")
        assert want, brand.brand_id
        assert got["creator_id"].tolist() == [x.creator_id for x in want], brand.brand_id
        assert got["rank"].tolist() == [x.rank for x in want], brand.brand_id
        # Scores are kept to 6 decimals; the batch encodes the brief among other texts, so the last digit may differ by one.
        gap = np.abs(got["score"].to_numpy(dtype=float) - np.array([x.score for x in want]))
        assert gap.max() <= 1e-6 + 1e-12, (brand.brand_id, gap.max())


def test_output_fingerprint_follows_config_and_model_not_unrelated_code(tmp_path):
    """Editing a module that decides no output (a docstring in cli.py) keeps checkpoints and reusable signals."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import matcher
    from matcher.batch import OUTPUT_VERSION, output_fingerprint
    from matcher.config import Config, IndexConfig

    src = Path(matcher.__file__).parent
    copy = tmp_path / "edited" / "matcher"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    cli = copy / "cli.py"
    cli.write_text(cli.read_text().replace('"""', '"""Edited: a docstring that decides nothing. ', 1))
    assert cli.read_text() != (src / "cli.py").read_text()
    script = "from matcher.batch import output_fingerprint; from matcher.config import Config; print(output_fingerprint(Config(), 'model-a'))"

    def fingerprint_under(root: Path) -> str:
        out = subprocess.run([sys.executable, "-c", script], env={"PYTHONPATH": str(root), "PATH": ""}, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    here = output_fingerprint(Config(), "model-a")
    assert fingerprint_under(src.parent) == here
    assert fingerprint_under(copy.parent) == here
    # What decides the outputs does change it: the config, the model, the declared version.
    assert output_fingerprint(Config(top_k=7), "model-a") != here
    assert output_fingerprint(Config(index=IndexConfig(candidates=150)), "model-a") != here
    assert output_fingerprint(Config(), "model-b") != here
    assert isinstance(OUTPUT_VERSION, int)


def test_stored_shortlists_equal_shortlist_for_every_brand_with_a_budget(budgeted, encoder):
    """A brand with a readable budget gets a stored shortlist, read back equal to shortlist(brand)."""
    import numpy as np

    from matcher.engine import Matcher
    from matcher.schema import Brand

    m = Matcher(budgeted.store, encoder=encoder).load()
    summary, picks = Store(budgeted.store).read_shortlists()
    records = m.snapshot_.brands.to_dict("records")
    with_budget = [r for r in records if not pd.isna(r.get("budget"))]
    assert with_budget and len(with_budget) < len(records)  # blank and unreadable budgets give none
    assert sorted(summary["brand_id"]) == sorted(r["brand_id"] for r in with_budget)
    assert budgeted.counts["brands"]["blanked"] >= 1
    for r in with_budget:
        brand = Brand.from_record(r)
        want = m.shortlist(brand, budget=brand.budget)
        row = summary[summary["brand_id"] == brand.brand_id].iloc[0]
        got = picks[picks["brand_id"] == brand.brand_id]
        assert got["creator_id"].tolist() == [p.match.creator_id for p in want.picks], brand.brand_id
        assert got["cost"].tolist() == pytest.approx([p.cost for p in want.picks])
        assert got["why"].tolist() == [p.why for p in want.picks]
        assert row["spend"] == pytest.approx(want.spend) and row["spend"] <= brand.budget
        assert (row["spend_low"], row["spend_high"]) == pytest.approx((want.spend_low, want.spend_high))
        # Scores agree to 1e-6 each (see the stored matches test), so a sum of up to 30 of them to 1e-4.
        assert row["value"] == pytest.approx(want.value, abs=1e-4) and row["method"] == want.method
        assert np.isnan(row["distinct_share"]) if want.audience.distinct_share is None else row["distinct_share"] == pytest.approx(want.audience.distinct_share)
    manifest = Store(budgeted.store).read_manifest(Store(budgeted.store).current_id())
    assert manifest["audience"]["num_perm"] == 128 and manifest["audience"]["known"] > 0
    assert manifest["shortlists"] == len(with_budget)


@pytest.mark.slow
def test_ranking_in_worker_processes_writes_the_files_one_process_writes(sample, built, budgeted, encoder, tmp_path, monkeypatch, caplog):
    """Signals and brands (in chunks of 3) worked out in forked workers give a byte-identical
    snapshot: every file but the config, which records the number of workers."""
    import logging
    import shutil

    import matcher.batch as batch
    from matcher.config import BatchConfig, Config
    from matcher.forked import can_fork

    if not can_fork():
        pytest.skip("worker processes need the fork start method")
    brands = tmp_path / "brands.csv"
    shutil.copy(Path(budgeted.store).parent / "brands.csv", brands)
    monkeypatch.setattr(batch, "RANK_CHUNK", 3)
    files = {}
    for workers in (1, 2, 3):
        store = tmp_path / f"w{workers}"
        shutil.copytree(built.store, store)  # its embedding cache: nothing is encoded again
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="matcher.batch"):
            result = run_batch(
                sample.creators, sample.posts, brands, store, comments=sample.comments, encoder=encoder, progress=False, config=Config(batch=BatchConfig(workers=workers)),
            )
        assert f"in {workers} process(es)" in caplog.text
        manifest = Store(store).read_manifest(result.snapshot_id)
        files[workers] = {name: meta for name, meta in manifest["files"].items() if name != "config.json"}
    summary, _ = Store(tmp_path / "w2").read_shortlists()
    matches = Store(tmp_path / "w2").read_matches()
    assert matches["brand_id"].nunique() > 2 * 3 and len(summary) > 3  # more chunks than workers, shortlists in several
    assert {"matches.parquet", "shortlists.parquet", "signals.parquet", "collaborations.parquet"} <= set(files[1])
    assert files[2] == files[1] and files[3] == files[1]

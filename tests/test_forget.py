"""Erasure: a forgotten creator leaves every retained snapshot, the index, the matches and the cache, and never comes back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tinystore
from tinystore import cli, temporaries

from matcher.batch import run_batch
from matcher.embed import EmbeddingCache
from matcher.engine import Matcher
from matcher.erasure import ForgetError, forget
from matcher.store import Store
from matcher.text import content_hash

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return tinystore.world(tmp_path_factory, encoder)


def _most_matched(store: Store) -> str:
    m = store.read_matches()
    return str(m["creator_id"].value_counts().index[0])


def test_forget_removes_the_creator_everywhere_and_for_good(world, tmp_path, encoder):
    store = world.copy(tmp_path / "store")
    run_batch(*world.b.values(), store, progress=False)
    st = Store(store)
    who = _most_matched(st)
    before = st.load()
    row = before.index.row_of(who)  # index rows are creator rows
    own_vector = before.index.vectors_[row].copy()
    lo, hi = int(before.post_offsets[row]), int(before.post_offsets[row + 1])
    texts = [before.creators["bio"].iloc[row], *before.posts["text"].iloc[lo:hi].tolist()]
    others = set(before.creators["bio"].drop(index=row).tolist()) | set(before.posts["text"].drop(index=range(lo, hi)).tolist())
    shared = {t for t in texts if t and t in others}  # identical texts of other creators are re-encoded later
    old_ids = st.snapshot_ids()
    assert len(old_ids) == 2
    m = Matcher(store, encoder=encoder).load()
    (st.work_dir / "leftover").mkdir(parents=True)  # checkpoints of some unfinished run

    res = forget(store, [who])

    assert res.found == 1 and set(res.rewritten) == set(old_ids) and res.missing == ()
    assert st.current_id() == res.current == res.rewritten[before.snapshot_id]
    assert not st.work_dir.exists() and not temporaries(store)
    assert sorted(st.published_ids()) == sorted(res.rewritten.values()) == st.snapshot_ids()
    for sid in st.snapshot_ids():
        st.verify(sid)  # rewritten files and manifests still verify
        snap = st.load(sid)
        assert who not in set(snap.creators["creator_id"]) and snap.index.row_of(who) is None
        assert not snap.posts["creator_id"].eq(who).any()
        assert snap.collaborations is not None and not snap.collaborations["creator_id"].eq(who).any()
        assert snap.index.size == len(snap.creators) and len(snap.post_offsets) == len(snap.creators) + 1
        hits = snap.index.search(own_vector, snap.index.size)[0]
        assert who not in {h.id for h in hits}, "the creator's own vector still finds them"
        matches = st.read_matches(sid)
        assert who not in set(matches["creator_id"])
        for _, g in matches.groupby("brand_id"):
            assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert snap.manifest["erased"] == 1 and snap.manifest["revision_of"] in old_ids
        for excl in snap.brands["exclude_creators"].tolist():
            assert excl is None or who not in list(excl)
        q = pd.read_csv(st.snapshots_dir / sid / "quarantine.csv", dtype=str, keep_default_na=False)
        assert who not in set(q["id"])
    with EmbeddingCache(st.cache_path) as cache:
        keys = [content_hash(t, namespace=encoder.model_id) for t in texts if t]
        assert not cache.get_many(keys, encoder.dim_), "the creator's vectors are still cached"

    # A long-lived process switches to the erased revision on its next call.
    brief = texts[0]
    assert who not in {x.creator_id for x in m.recommend(brief, k=50)}
    assert m.snapshot_id == res.current

    # Re-ingesting the very same files does not bring them back, and says so.
    again = run_batch(*world.b.values(), store, encoder=encoder, progress=False)
    assert again.counts["creators"]["suppressed"] == 1
    assert again.counts["posts"]["suppressed"] == hi - lo
    for table, c in again.counts.items():
        assert c["accepted"] + c["quarantined"] + c["suppressed"] == c["read"], table
    assert who not in set(Store(store).load().creators["creator_id"])
    assert again.encoded == len(shared), "only other creators' identical texts may be encoded again"

    # Rolling back reaches only erased snapshots.
    Store(store).rollback()
    assert who not in set(Store(store).load().creators["creator_id"])

    # A second forget finds nothing left to do, and says the id is no longer there.
    again = forget(store, [who])
    assert again.rewritten == {} and again.missing == (who,)


def test_forget_on_the_command_line(world, tmp_path):
    store = world.copy(tmp_path / "store")
    who = _most_matched(Store(store))
    p = cli("forget", "--store", str(store), who, "no-such-creator")
    assert p.returncode == 0, p.stderr
    assert "erased 1 of 2 creator(s)" in p.stdout and "suppression list" in p.stdout
    # The id that was not found is named, the one that was is not.
    missing = next(line for line in p.stdout.splitlines() if "no creator in any snapshot" in line)
    assert "no-such-creator" in missing and who not in missing
    assert who not in set(Store(store).read_matches()["creator_id"])
    p = cli("runs", "--store", str(store))
    assert p.returncode == 0 and "forget" in p.stdout
    with pytest.raises(ForgetError):
        forget(store, ["  "])
    assert np.all(Store(store).load().creators["creator_id"] != who)


def test_drop_creators_leaves_an_erased_creator_out_of_every_table():
    """The one function the batch (suppression list) and forget (snapshots) both drop creators with."""
    from matcher.erasure import drop_creators

    creators = pd.DataFrame({"creator_id": ["a", "b", "c"], "bio": ["x", "y", "z"]})
    posts = pd.DataFrame({"post_id": ["p1", "p2", "p3", "p4"], "creator_id": ["a", "b", "b", "c"]})
    comments = pd.DataFrame({"comment_id": ["k1", "k2", "k3"], "post_id": ["p2", "p1", "p3"]})
    brands = pd.DataFrame({"brand_id": ["B1", "B2"], "exclude_creators": [np.array(["b", "c"], dtype=object), None]})
    quarantine = pd.DataFrame({
        "id": ["b", "p9", "p8", None],
        "reason": ["bad followers", "creator 'b' is not in the creators file", "creator 'zz' is not in the creators file", "no id"],
    })
    d = drop_creators(lambda v: v == "b", creators=creators, posts=posts, brands=brands, quarantine=quarantine, comments=comments)
    assert d.creators["creator_id"].tolist() == ["a", "c"] and d.creators.index.tolist() == [0, 1]
    assert d.posts["post_id"].tolist() == ["p1", "p4"]
    assert d.comments["comment_id"].tolist() == ["k2"]
    assert [None if v is None else list(v) for v in d.brands["exclude_creators"]] == [["c"], None]
    assert d.quarantine["reason"].tolist() == ["creator 'zz' is not in the creators file", "no id"]
    assert d.creator_rows.tolist() == [False, True, False] and d.post_rows.tolist() == [False, True, True, False]
    assert d.comment_rows.tolist() == [True, False, True] and d.quarantine_rows.tolist() == [True, True, False, False]
    assert brands["exclude_creators"][0].tolist() == ["b", "c"]  # the inputs are left as they were


def test_forget_removes_the_creators_audience_signature_and_the_shortlists_naming_it(budgeted, tmp_path):
    import shutil

    store = tmp_path / "store"
    shutil.copytree(budgeted.store, store)
    st = Store(store)
    summary, picks = st.read_shortlists()
    who = str(picks.loc[picks["brand_id"] == "b001", "creator_id"].iloc[0])
    before = st.load()
    assert before.audience is not None and who in set(before.audience.creator_ids_)
    named = set(picks.loc[(picks["creator_id"] == who) | picks["why"].str.contains(who, regex=False), "brand_id"])
    named |= set(summary.loc[summary["left_out"].str.contains(who, regex=False) | summary["why"].str.contains(who, regex=False), "brand_id"])
    forget(store, [who])
    after = st.load()
    assert who not in set(after.audience.creator_ids_) and after.audience.commenters(who) == 0
    assert len(after.audience.creator_ids_) == len(before.audience.creator_ids_) - 1
    s2, p2 = st.read_shortlists()
    assert who not in set(p2["creator_id"]) and not p2["why"].str.contains(who, regex=False).any()
    assert set(s2["brand_id"]) == set(summary["brand_id"]) - named and "b001" not in set(s2["brand_id"])
    assert st.read_manifest(st.current_id())["audience"]["num_perm"] == 128


def test_forget_reaches_an_old_vector_left_dead_in_the_hnsw_graph(world, tmp_path, encoder):
    from matcher.config import Config

    store = world.copy(tmp_path / "store")
    cfg = Config.from_dict({"index": {"exact_max": 10, "max_dead_fraction": 0.5}})
    run_batch(*world.b.values(), store, config=cfg, encoder=encoder, progress=False)
    st = Store(store)
    who = str(st.load().creators["creator_id"].iloc[3])
    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    c[c["creator_id"] != who].to_csv(tmp_path / "creators.csv", index=False)  # the creator leaves the input
    res = run_batch(tmp_path / "creators.csv", world.b["posts"], world.b["brands"], store, config=cfg, encoder=encoder, progress=False)
    assert res.index_build == "updated"
    snap = st.load()
    assert snap.index.row_of(who) is None and who in snap.index.dead_ids_.tolist()  # not live, but its vector is still in the graph

    gone = forget(store, [who])

    assert res.snapshot_id in gone.rewritten
    for sid in st.snapshot_ids():
        index = st.load(sid).index
        assert who not in index.dead_ids_.tolist() and index.row_of(who) is None and index.dead == 0

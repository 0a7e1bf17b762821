"""The Ray engine (matcher.distributed): the same snapshot as the local engine, Ray never loaded by default."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher.errors import StoreError
from matcher.index import VectorIndex


def test_import_and_help_never_load_ray():
    code = (
        "import sys, contextlib, io, matcher, matcher.batch, matcher.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    matcher.cli.main(['--help'])\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    matcher.cli.main(['batch', '--help'])\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.') or m == 'matcher.distributed'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_engine_and_stray_address_are_refused(tmp_path):
    from matcher.batch import run_batch
    from matcher.errors import ConfigError

    for kwargs, words in (({"engine": "spark"}, "unknown engine 'spark'"), ({"ray_address": "auto"}, "only used with engine='ray'")):
        with pytest.raises(ConfigError, match=words):
            run_batch(tmp_path / "c.csv", tmp_path / "p.csv", tmp_path / "b.csv", tmp_path / "store", **kwargs)


def test_cli_refuses_address_without_ray_engine(capsys):
    from matcher.cli import main

    code = main(["batch", "--creators", "c.csv", "--posts", "p.csv", "--brands", "b.csv", "--store", "s", "--address", "auto"])
    assert code == 2
    assert "--address and --actors go with --engine ray" in capsys.readouterr().err


def test_joining_a_cluster_that_is_not_there_says_how_to_start_one(tmp_path):
    pytest.importorskip("ray")
    # A process of its own: this one may already run the session's Ray, which a run would reuse.
    code = (
        "from matcher.distributed import RayStages\n"
        "from matcher.errors import ConfigError\n"
        "try:\n"
        "    RayStages(address='auto').__enter__()\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120, env=env, cwd=tmp_path)
    assert "cannot join the Ray cluster at 'auto'" in out.stdout and "ray start --head" in out.stdout


def test_encoding_actors_ask_for_gpus_only_when_the_cluster_has_them(ray_session):
    """On this session's cluster (2 CPUs, no GPU) the actors ask for none and leave a CPU free; asking
    for GPUs where there are none is refused; a cluster with GPUs gets one actor per GPU, one GPU each."""
    from matcher.distributed import RayStages
    from matcher.errors import ConfigError

    with RayStages() as stages:
        assert (stages.gpus_, stages.actor_gpus(), stages.pool_size()) == (0, 0, 1)
    with pytest.raises(ConfigError, match="has none"):
        RayStages(gpus=True).__enter__()
    with pytest.raises(ConfigError, match="gpus must be"):
        RayStages(gpus=1)
    # The decision itself, for a cluster this machine cannot be: 16 CPUs and 2 GPUs.
    stages = RayStages()
    stages.cpus_, stages.gpus_ = 16, 2
    assert (stages.actor_gpus(), stages.pool_size()) == (1, 2)
    stages = RayStages(gpus=False)
    stages.cpus_, stages.gpus_ = 16, 2
    assert (stages.actor_gpus(), stages.pool_size()) == (0, 15)


def test_sharded_search_equals_one_exact_index(ray_session):
    from matcher.distributed import ShardedIndex

    rng = np.random.default_rng(3)
    n, d = 503, 16
    vecs = rng.normal(size=(n, d)).astype(np.float32)
    vecs[17] = vecs[400]  # a tie across shards: the lower row comes first, as in one index
    ids = [f"c{i:04d}" for i in range(n)]
    whole = VectorIndex().build(vecs, ids)
    sharded = ShardedIndex(whole.vectors_, ids, shards=4, actors=1, actor_cpus=1, params={"exact_max": 50_000, "hnsw_m": 32, "ef_construction": 200, "ef_search": 128})
    try:
        queries = rng.normal(size=(5, d)).astype(np.float32)
        queries[0] = vecs[400]
        masks = [None, rng.random(n) < 0.5, rng.random(n) < 0.02, np.zeros(n, dtype=bool)]
        for mask in masks:
            for k in (1, 10, 60):
                want = whole.search(queries, k, allowed=mask)
                got = sharded.search(queries, k, allowed=mask)
                assert [[h.id for h in hs] for hs in got] == [[h.id for h in hs] for hs in want]
                assert [[h.row for h in hs] for hs in got] == [[h.row for h in hs] for hs in want]
                np.testing.assert_allclose([h.score for hs in got for h in hs], [h.score for hs in want for h in hs], atol=1e-6)
        assert [h.id for h in sharded.search(queries[0], 2)[0]] == ["c0017", "c0400"]
        # Asked without waiting (two in flight here), each request's answer is that of one search.
        requests = [(queries[i % 5], k, mask) for i, (k, mask) in enumerate((k, m) for k in (1, 10, 60) for m in masks)]
        want = [whole.search(q, k, allowed=mask)[0] for q, k, mask in requests]
        for in_flight in (1, 2, 50):
            got = sharded.search_each(iter(requests), in_flight=in_flight)
            assert [[(h.id, h.row) for h in hs] for hs in got] == [[(h.id, h.row) for h in hs] for hs in want]
    finally:
        for actor in sharded.actors_:
            ray_session.kill(actor)


@pytest.mark.parametrize("shipped", ["saved by the index", "mapped from disk"])
def test_one_shard_takes_the_built_hnsw_index_and_answers_as_it_does(ray_session, tmp_path, shipped):
    """With one shard the actor searches the very graph the driver built (shipped as its verified
    files, not built again): every hit, row and score equals the index's own, with and without a mask.
    The files are those the index saves, or (the batch's way) its saved files mapped with their checksums."""
    from matcher.distributed import ShardedIndex
    from matcher.files import load_confined

    rng = np.random.default_rng(5)
    n, d = 900, 16
    vecs = rng.normal(size=(n, d)).astype(np.float32)
    ids = [f"c{i:04d}" for i in range(n)]
    params = {"exact_max": 100, "hnsw_m": 8, "ef_construction": 40, "ef_search": 32}
    whole = VectorIndex(**params).build(vecs, ids)
    assert whole.kind_ == "hnsw"
    # Built again from the vectors, the graph would differ: the shipped one must be the driver's.
    files = checksums = None
    if shipped == "mapped from disk":
        names = whole.save(tmp_path)
        files = {name: load_confined(tmp_path, name, size=None) for name in names}
        assert type(files["index.faiss"]).__name__ == "MappedFile"
        checksums = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in names}
    sharded = ShardedIndex(whole.vectors_, ids, shards=1, actors=1, actor_cpus=1, params=params, built=whole, files=files, checksums=checksums)
    try:
        queries = rng.normal(size=(6, d)).astype(np.float32)
        for mask in (None, rng.random(n) < 0.9, rng.random(n) < 0.3):
            for k in (1, 25, 200):
                assert sharded.search(queries, k, allowed=mask) == whole.search(queries, k, allowed=mask)
    finally:
        for actor in sharded.actors_:
            ray_session.kill(actor)


def test_one_shard_refuses_index_files_that_differ_from_their_checksums(ray_session, tmp_path):
    """The actor checks what it was given before loading it: a file changed after its checksum was
    taken is refused with the store's error, not searched."""
    from matcher.distributed import ShardedIndex
    from matcher.files import load_confined

    rng = np.random.default_rng(6)
    vecs = rng.normal(size=(300, 8)).astype(np.float32)
    ids = [f"c{i:03d}" for i in range(300)]
    params = {"exact_max": 100, "hnsw_m": 8, "ef_construction": 40, "ef_search": 32}
    whole = VectorIndex(**params).build(vecs, ids)
    names = whole.save(tmp_path)
    checksums = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in names}
    data = bytearray((tmp_path / "creator_ids.npy").read_bytes())
    data[-1] ^= 1  # one id altered after its checksum was taken
    (tmp_path / "creator_ids.npy").write_bytes(bytes(data))
    files = {name: load_confined(tmp_path, name, size=None) for name in names}
    with pytest.raises(StoreError, match="checksum differs"):
        ShardedIndex(whole.vectors_, ids, shards=1, actors=1, actor_cpus=1, params=params, built=whole, files=files, checksums=checksums)


def test_ray_post_signals_equal_local(ray_session, sample):
    from matcher.config import FitConfig
    from matcher.distributed import RayStages
    from matcher.ingest import load_posts, read_table
    from matcher.signals import post_signals

    creators = read_table(sample.creators)["creator_id"].astype(str)
    posts, _, _ = load_posts(sample.posts, creators)
    fit = FitConfig()
    settings = {"early_chars": 100, "unsafe_words": fit.unsafe_words, "safe_phrases": fit.safe_phrases}
    want = post_signals(posts, **settings)
    with RayStages() as stages:
        got = stages.post_signals(posts, **settings)
    assert got.index.equals(want.index)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
    assert want["is_sponsored"].any() and want["disclosure"].notna().any()  # the sample exercises the patterns


@pytest.mark.slow
def test_two_encoding_actors_encode_two_parts_at_the_same_time(ray_session, encoder, tmp_path, monkeypatch):
    """Two parts given to a pool of two actors are encoded side by side, one by each actor: Ray Data
    must not queue the second part behind the first actor while the other waits. Each actor records
    the wall-clock interval of every part it encodes; the two intervals must overlap. The parts are
    long texts, so each takes seconds to encode, far more than the gap between the two actors' start-ups."""
    import json
    import time

    from matcher import distributed
    from matcher.config import EmbedConfig

    log = tmp_path / "intervals"
    log.mkdir()

    class TimedEncodeActor(distributed.EncodeActor):
        def __call__(self, batch):
            started = time.time()
            out = super().__call__(batch)
            record = {"pid": os.getpid(), "start": started, "end": time.time()}
            (log / f"{int(batch['part'][0])}.json").write_text(json.dumps(record))
            return out

    monkeypatch.setattr(distributed, "EncodeActor", TimedEncodeActor)
    rng = np.random.default_rng(11)
    words = [f"topic{i}" for i in range(300)]
    parts = [[" ".join(rng.choice(words, size=90)) for _ in range(40)] for _ in range(2)]
    # The session's two CPUs hold both 1-CPU actors; nothing else of the run needs a CPU here.
    with distributed.RayStages(actors=2) as stages:
        got = dict(stages.encode_parts(EmbedConfig())(parts))

    assert sorted(got) == [0, 1]
    for j, texts in enumerate(parts):
        np.testing.assert_allclose(got[j], encoder.encode(texts), atol=1e-5)
    spans = [json.loads((log / f"{j}.json").read_text()) for j in (0, 1)]
    assert spans[0]["pid"] != spans[1]["pid"], "both parts were encoded by one actor"
    overlap = min(s["end"] for s in spans) - max(s["start"] for s in spans)
    assert overlap > 0, f"the two actors encoded one after the other: {spans}"


#: The Ray run's calls of fork_map: (what, tasks, workers).
RAY_FORKS: list[tuple[str, int, int]] = []


@pytest.fixture(scope="module")
def engines(ray_session, encoder, tmp_path_factory):
    """A small sample (bad rows, comments) through both engines, each into its own store."""
    from matcher.batch import run_batch
    from matcher.distributed import RayStages
    from matcher.sample import generate

    import matcher.batch as batch
    from matcher.config import BatchConfig, Config

    info = generate(tmp_path_factory.mktemp("ray-sample"), seed=23, n_creators=240, n_brands=12, posts_per_creator=(3, 7))
    args = (info.creators, info.posts, info.brands)
    with pytest.MonkeyPatch.context() as mp:
        # Chunks of 2 brands, the driver's searches in blocks of 2 chunks: the Ray run forks workers
        # three times, each ranking searches the driver made through the shard actors.
        mp.setattr(batch, "RANK_CHUNK", 2)
        mp.setattr(batch, "RAY_SEARCH_BLOCK", 2)
        fork_map = batch.fork_map

        def counted(task, tasks, *, workers, **kw):
            RAY_FORKS.append((kw.get("what"), tasks, workers))
            return fork_map(task, tasks, workers=workers, **kw)

        local = run_batch(*args, tmp_path_factory.mktemp("local-store"), comments=info.comments, encoder=encoder, progress=False)
        # Three shards on one actor: the candidate search merges shards even on two CPUs.
        ray_store = tmp_path_factory.mktemp("ray-store")
        mp.setattr(batch, "fork_map", counted)
        distributed = run_batch(
            *args, ray_store, comments=info.comments, progress=False, engine=RayStages(shards=3), config=Config(batch=BatchConfig(workers=2)),
        )
    return info, local, distributed


def _snapshot(result):
    from matcher.store import Store

    return Store(result.store).load(result.snapshot_id)


@pytest.mark.slow
def test_ray_snapshot_equals_local(engines):
    from matcher.store import Store

    _, local, distributed = engines
    a, b = _snapshot(local), _snapshot(distributed)
    assert distributed.counts == local.counts
    assert local.counts["creators"]["quarantined"] > 0 and local.counts["comments"]["accepted"] > 0
    # The same quarantine report, byte for byte.
    assert (local.store / "snapshots" / local.snapshot_id / "quarantine.csv").read_bytes() == (
        distributed.store / "snapshots" / distributed.snapshot_id / "quarantine.csv"
    ).read_bytes()
    assert distributed.encoded == local.encoded > 0
    # The same rankings per brand, scores within 1e-6.
    ma, mb = Store(local.store).read_matches(local.snapshot_id), Store(distributed.store).read_matches(distributed.snapshot_id)
    assert len(ma) > 0 and set(ma["brand_id"]) == set(a.brands["brand_id"].astype(str))
    for brand, got in mb.groupby("brand_id"):
        want = ma[ma["brand_id"] == brand]
        assert got["creator_id"].tolist() == want["creator_id"].tolist(), brand
        assert got["rank"].tolist() == want["rank"].tolist()
        np.testing.assert_allclose(got["score"].to_numpy(float), want["score"].to_numpy(float), atol=1e-6)
    assert set(mb["brand_id"]) == set(ma["brand_id"])
    # The vectors, signals and post signals the snapshot serves.
    np.testing.assert_allclose(b.post_vectors, a.post_vectors, atol=1e-6)
    np.testing.assert_allclose(b.index.vectors_, a.index.vectors_, atol=1e-6)
    pd.testing.assert_frame_equal(b.posts, a.posts, check_exact=False, atol=1e-6)
    pd.testing.assert_frame_equal(b.signals, a.signals, check_exact=False, atol=1e-6)
    assert b.manifest["counts"] == a.manifest["counts"] and b.manifest["audit"] == a.manifest["audit"]
    assert set(b.manifest["files"]) == set(a.manifest["files"])
    # The Ray run's workers ranked all but the first chunk of 2 brands, in blocks of 2 chunks.
    assert [(tasks, workers) for what, tasks, workers in RAY_FORKS if what == "brand chunk"] == [(2, 2), (2, 2), (1, 2)]


@pytest.mark.slow
def test_ray_run_recorded_and_rerun_encodes_nothing(engines):
    from matcher.batch import run_batch
    from matcher.distributed import RayStages
    from matcher.store import Store

    info, _, distributed = engines
    runs = Store(distributed.store).runs()
    assert runs[0]["status"] == "published" and runs[0]["details"]["engine"] == "ray"
    again = run_batch(info.creators, info.posts, info.brands, distributed.store, comments=info.comments, progress=False, engine=RayStages())
    assert again.encoded == 0  # every text is in the embedding cache under its content hash
    cols = ["brand_id", "creator_id", "rank"]
    st = Store(distributed.store)
    assert st.read_matches(again.snapshot_id)[cols].equals(st.read_matches(distributed.snapshot_id)[cols])


@pytest.mark.slow
def test_ray_run_reads_its_inputs_from_object_storage(engines, s3):
    """The Ray engine fetches inputs given as URLs as the local engine does: the same matches."""
    import uuid

    from matcher.batch import run_batch
    from matcher.distributed import RayStages
    from matcher.store import Store

    info, _, distributed = engines
    prefix = f"matcher-test/ray-inputs-{uuid.uuid4().hex[:8]}"
    urls = {}
    for name in ("creators", "posts", "brands", "comments"):
        path = getattr(info, name)
        s3.put_file(str(path), f"{prefix}/{path.name}")
        urls[name] = f"s3://{prefix}/{path.name}"
    again = run_batch(urls["creators"], urls["posts"], urls["brands"], distributed.store, comments=urls["comments"], progress=False, engine=RayStages())
    st = Store(distributed.store)
    assert st.load(again.snapshot_id).manifest["inputs"] == urls and again.encoded == 0
    cols = ["brand_id", "creator_id", "rank"]
    assert st.read_matches(again.snapshot_id)[cols].equals(st.read_matches(distributed.snapshot_id)[cols])
    quarantine = pd.read_csv(distributed.store / "snapshots" / again.snapshot_id / "quarantine.csv", dtype=str)
    assert len(quarantine) and set(quarantine["file"]) <= set(urls.values())


def _split(path, folder, parts):
    """The CSV file's records in ``parts`` part files, each with the header."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    folder.mkdir(parents=True)
    size = -(-len(frame) // parts)
    for k in range(parts):
        frame.iloc[k * size : (k + 1) * size].to_csv(folder / f"part-{k:05d}.csv", index=False)
    return folder


def test_map_parts_runs_each_part_in_a_ray_task_and_one_file_on_the_driver(ray_session):
    from matcher.distributed import RayStages

    with RayStages() as stages:
        # A lambda travels by value, so the workers need not import this test module.
        done = stages.map_parts(lambda part, shared: (part + shared, os.getpid()), [1, 2, 3], 10)
        assert [value for value, _ in done] == [11, 12, 13]  # in the parts' order
        assert os.getpid() not in {pid for _, pid in done}
        assert stages.map_parts(lambda part, shared: os.getpid(), ["one file"], None) == [os.getpid()]


def test_a_part_that_cannot_be_read_on_ray_raises_the_readers_error(ray_session, sample, tmp_path):
    from matcher.distributed import RayStages
    from matcher.errors import InputFileError
    from matcher.ingest import load_posts

    folder = _split(sample.posts, tmp_path / "posts", 3)
    (folder / "part-00001.csv").write_bytes(b"post_id,creator_id\n\xff\xfe,c\n")
    with RayStages() as stages, pytest.raises(InputFileError, match=r"part-00001\.csv.*UTF-8") as caught:
        load_posts(folder, ["c"], map_parts=stages.map_parts)
    assert type(caught.value) is InputFileError  # the reader's own error, not Ray's wrapper of it


@pytest.mark.slow
def test_ray_reads_folders_of_parts_in_tasks_and_publishes_what_the_local_engine_does(engines, tmp_path):
    from matcher.batch import run_batch
    from matcher.distributed import RayStages
    from matcher.store import Store

    info, local, distributed = engines
    posts = _split(info.posts, tmp_path / "posts", 3)
    comments = _split(info.comments, tmp_path / "comments", 3)
    stages = RayStages()
    parts_seen = []
    real = stages.map_parts

    def counted(fn, parts, shared):
        parts_seen.append(len(parts))
        return real(fn, parts, shared)

    stages.map_parts = counted
    on_ray = run_batch(info.creators, posts, info.brands, distributed.store, comments=comments, progress=False, engine=stages)
    assert parts_seen == [1, 3, 1, 3]  # creators, posts, brands, comments
    at_home = run_batch(info.creators, posts, info.brands, local.store, comments=comments, progress=False)
    assert on_ray.counts == at_home.counts == local.counts
    quarantine = [Path(r.store) / "snapshots" / r.snapshot_id / "quarantine.csv" for r in (on_ray, at_home)]
    assert quarantine[0].read_bytes() == quarantine[1].read_bytes()
    assert str(posts / "part-00002.csv") in set(pd.read_csv(quarantine[0], dtype=str)["file"])
    a, b = Store(at_home.store).read_matches(at_home.snapshot_id), Store(on_ray.store).read_matches(on_ray.snapshot_id)
    assert len(a) and b[["brand_id", "creator_id", "rank"]].equals(a[["brand_id", "creator_id", "rank"]])
    np.testing.assert_allclose(b["score"].to_numpy(float), a["score"].to_numpy(float), atol=1e-6)
    assert on_ray.encoded == 0  # the same texts as the single files: all in the embedding cache

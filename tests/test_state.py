"""Run state: the same history and suppression list in the store's SQLite file and in a real
PostgreSQL server shared by several stores and processes; served matches copied into PostgreSQL
equal the snapshot's own file; an erasure there reaches a running service on its next request."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from matcher.errors import StoreError
from matcher.store import DB_FILE, PostgresState, SqliteState, StateError, Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty store with each kind of run state."""
    if request.param == "sqlite":
        return Store(tmp_path / "store")
    url = request.getfixturevalue("pg_url")
    return Store(tmp_path / "store", db=url)


def test_run_history_and_suppression_round_trip(store):
    kind = "postgresql" if store.db else "sqlite"
    assert store.state.kind == kind
    assert store.runs() == [] and store.suppressed_keys() == frozenset() and store.suppression_version() == 0
    store.record_run("20260101T000000Z", status="running", started_at="2026-01-01T00:00:00+00:00", details={"counts": {"creators": {"read": 3}}})
    store.record_run("20260102T000000Z", status="running", started_at="2026-01-02T00:00:00+00:00", snapshot_id="s2")
    # An update of the same run replaces its row, as the batch does when it finishes.
    store.record_run(
        "20260101T000000Z", status="published", started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:05:00+00:00",
        snapshot_id="s1", details={"encoded": 7},
    )
    with store.lock("matcher batch"):  # held: a 'running' row is a live run, shown as such
        rows = store.runs()
    assert [(r["run_id"], r["status"], r["snapshot_id"]) for r in rows] == [
        ("20260102T000000Z", "running", "s2"),
        ("20260101T000000Z", "published", "s1"),
    ]
    assert rows[1]["details"] == {"encoded": 7} and rows[1]["finished_at"] == "2026-01-01T00:05:00+00:00"
    assert [r["run_id"] for r in store.runs(limit=1)] == ["20260102T000000Z"]
    # Not held: the 'running' run died; the next run closes its row for good.
    assert store.runs()[0]["status"] == "interrupted"
    assert store.mark_interrupted() == 1
    assert store.mark_interrupted() == 0

    assert store.suppress(["c1", "c2"]) == 2
    v1 = store.suppression_version()
    assert v1 > 0
    assert store.suppress(["c2"]) == 0
    assert store.suppression_version() == v1  # nothing new: readers keep what they worked out
    assert store.suppress(["c3", "c2"]) == 1
    assert store.suppression_version() > v1
    assert store.suppressed_keys() == frozenset(Store.suppression_key(c) for c in ("c1", "c2", "c3"))
    assert not any(c in k for k in store.suppressed_keys() for c in ("c1", "c2", "c3"))  # hashes, never the ids
    # A new Store on the same state sees all of it.
    again = Store(store.root, db=store.db)
    assert again.suppressed_keys() == store.suppressed_keys()
    assert [r["status"] for r in again.runs()] == ["interrupted", "published"]


def test_sqlite_state_stays_in_the_store_file(tmp_path):
    st = Store(tmp_path / "store")
    st.suppress(["c1"])
    assert isinstance(st.state, SqliteState) and (tmp_path / "store" / DB_FILE).exists()
    with st.connect() as db:
        assert db.execute("SELECT COUNT(*) FROM suppressed").fetchone()[0] == 1


def test_postgres_state_writes_nothing_into_the_store(pg_url, tmp_path):
    st = Store(tmp_path / "store", db=pg_url)
    st.suppress(["c1"])
    st.record_run("r", status="forget", started_at="2026-01-01T00:00:00+00:00")
    assert isinstance(st.state, PostgresState)
    assert not (tmp_path / "store" / DB_FILE).exists()


def test_a_url_that_is_not_postgresql_is_refused_with_the_fix(tmp_path):
    with pytest.raises(StateError, match="not a PostgreSQL URL; give postgresql://") as info:
        Store(tmp_path, db="mysql://u:secret@h/db").state
    assert "secret" not in str(info.value)
    assert isinstance(info.value, StoreError)


def test_an_unreachable_server_names_the_url_without_its_password(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pytest.importorskip("psycopg", reason="install the test dependencies: pip install -e '.[test]'")
    st = Store(tmp_path, db=f"postgresql://matcher:hunter2@127.0.0.1:{port}/matcher")
    with pytest.raises(StateError, match="check that the server is up") as info:
        st.runs()
    assert "hunter2" not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


def test_stores_in_their_own_schemas_of_one_database_keep_apart(pg_url, tmp_path):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE SCHEMA eu")
    eu = Store(tmp_path / "eu", db=pg_url + "?options=-csearch_path%3Deu")
    default = Store(tmp_path / "default", db=pg_url)
    eu.suppress(["c1"])
    eu.record_run("r-eu", status="forget", started_at="2026-01-01T00:00:00+00:00")
    assert default.suppressed_keys() == frozenset() and default.runs() == []
    assert [r["run_id"] for r in eu.runs()] == ["r-eu"] and len(eu.suppressed_keys()) == 1


def test_a_replica_reconnects_when_the_server_drops_its_connection(pg_url, tmp_path):
    import psycopg

    st = Store(tmp_path / "store", db=pg_url)
    st.suppress(["c1"])
    version = st.suppression_version()
    with psycopg.connect(pg_url, autocommit=True) as admin:  # what a server restart or failover does to it
        dropped = admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()) t"
        ).fetchone()[0]
    assert dropped >= 1
    assert st.suppression_version() == version  # read again on a new connection, no error
    assert st.suppress(["c2"]) == 1


def test_matcher_db_is_not_read_as_a_setting(monkeypatch):
    from matcher.config import Config

    monkeypatch.setenv("MATCHER_DB", "postgresql://u@h/db")
    assert Config.load() == Config()


_WRITER = textwrap.dedent(
    """
    import sys
    from matcher.store import Store
    st = Store(sys.argv[1], db=sys.argv[2])
    st.suppress([sys.argv[3]])
    st.record_run("run-" + sys.argv[3], status="forget", started_at="2026-01-0" + sys.argv[4] + "T00:00:00+00:00")
    print(st.suppression_version())
    """
)


def test_two_stores_in_two_processes_share_one_database(pg_url, tmp_path):
    """A store on one machine and a store on another (here: two directories, two processes) given the
    same database see one history and one suppression list."""
    a, b = Store(tmp_path / "a", db=pg_url), Store(tmp_path / "b", db=pg_url)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    for store, who, day in ((a, "c-a", "1"), (b, "c-b", "2")):
        p = subprocess.run([sys.executable, "-c", _WRITER, str(store.root), pg_url, who, day], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
    both = frozenset(Store.suppression_key(c) for c in ("c-a", "c-b"))
    assert a.suppressed_keys() == b.suppressed_keys() == both
    assert a.suppression_version() == b.suppression_version() == 2
    assert [r["run_id"] for r in a.runs()] == [r["run_id"] for r in b.runs()] == ["run-c-b", "run-c-a"]
    # Concurrent writers: the same creators from two processes at once are one entry each.
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(s.root), pg_url, "c-both", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for s in (a, b)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert len(a.suppressed_keys()) == 3
    assert a.suppression_version() == 3


# -- served matches and erasure (the pipeline: slow) ------------------------------------------------


@pytest.fixture
def pg_store(tmp_path_factory, encoder, pg_url):
    """The tiny world's night B published into a copy of the base store with a PostgreSQL state."""
    import tinystore
    from matcher.batch import run_batch

    w = tinystore.world(tmp_path_factory, encoder)
    root = w.copy(tmp_path_factory.mktemp("pg") / "store")
    res = run_batch(w.b["creators"], w.b["posts"], w.b["brands"], root, encoder=encoder, progress=False, db=pg_url)
    return Store(root, db=pg_url), res


@pytest.mark.slow
def test_published_matches_in_postgres_equal_the_snapshot_file(pg_store):
    st, res = pg_store
    sid = res.snapshot_id
    assert st.state.has_matches(sid)
    from_pg = st.read_matches()
    from_file = st.snapshot_matches(sid)
    assert len(from_pg) == res.matches > 0
    pd.testing.assert_frame_equal(from_pg, from_file)
    brand = from_file["brand_id"].iloc[0]
    pd.testing.assert_frame_equal(st.read_matches(sid, brand_id=brand), from_file[from_file["brand_id"] == brand].reset_index(drop=True))
    # The history went to PostgreSQL too, with the run's counts.
    last = st.runs(1)[0]
    assert (last["run_id"], last["status"], last["snapshot_id"]) == (res.run_id, "published", sid)
    assert last["details"]["matches"] == res.matches


@pytest.mark.slow
def test_old_snapshots_rows_are_pruned_with_the_snapshots(pg_store, encoder):
    import tinystore
    from matcher.batch import run_batch
    from matcher.config import Config

    st, first = pg_store
    w = next(iter(tinystore._cache.values()))
    cfg = Config().replace(batch=Config().batch.__class__(keep_snapshots=1))
    second = run_batch(w.a["creators"], w.a["posts"], w.a["brands"], st.root, encoder=encoder, progress=False, db=st.db, config=cfg)
    assert st.snapshot_ids() == [second.snapshot_id]
    import psycopg

    with psycopg.connect(st.db) as db:
        kept = [r[0] for r in db.execute("SELECT snapshot_id FROM served_snapshots").fetchall()]
        orphans = db.execute("SELECT count(*) FROM served_matches WHERE snapshot_id <> %s", (second.snapshot_id,)).fetchone()[0]
    assert kept == [second.snapshot_id] and orphans == 0
    pd.testing.assert_frame_equal(st.read_matches(), st.snapshot_matches(second.snapshot_id))


@pytest.mark.slow
def test_forget_reaches_a_running_service_on_its_next_request(pg_store, encoder):
    from fastapi.testclient import TestClient

    from matcher.serve import create_app
    from tinystore import cli, cli_env

    st, res = pg_store
    frame = st.read_matches()
    top = frame.sort_values(["rank", "brand_id"]).iloc[0]
    brand, who = str(top["brand_id"]), str(top["creator_id"])
    second = str(frame[(frame["brand_id"] == brand) & (frame["rank"] == 2)]["creator_id"].iloc[0])
    brief = st.load().brands.set_index("brand_id").loc[brand, "description"]
    with TestClient(create_app(st.root, encoder=encoder, db=st.db)) as client:
        def state() -> tuple[list[str], list[str], int]:
            rec = client.post("/recommend", json={"brief": brief, "k": 10})
            stored = client.get(f"/brands/{brand}/matches", params={"k": 50})
            assert rec.status_code == 200 and stored.status_code == 200, (rec.text, stored.text)
            return [m["creator_id"] for m in rec.json()["matches"]], [m["creator_id"] for m in stored.json()["matches"]], client.get(f"/creators/{who}").status_code

        recommended, stored, profile = state()
        assert who in recommended and stored[0] == who and profile == 200

        # Another machine's 'matcher forget' puts the creator on the shared list first: before any
        # snapshot is rewritten, the service's next request already leaves them out.
        Store(st.root, db=st.db).suppress([who])
        recommended, stored, profile = state()
        assert who not in recommended and who not in stored and profile == 404
        assert stored[0] == second  # ranks closed up over the erased row
        assert client.get("/healthz").json()["snapshot_id"] == res.snapshot_id  # still the same snapshot

        # The whole command, in another process: the rewritten snapshot is served next, still without them.
        p = cli("forget", "--store", str(st.root), "--db", st.db, who, env=cli_env())
        assert p.returncode == 0, p.stderr
        recommended, stored, profile = state()
        assert who not in recommended and who not in stored and profile == 404
        assert client.get("/healthz").json()["snapshot_id"] == Store(st.root).current_id() != res.snapshot_id
    pd.testing.assert_frame_equal(st.read_matches(), st.snapshot_matches(st.current_id()))
    assert [r["status"] for r in st.runs(2)] == ["forget", "published"]
    # The replaced snapshot's rows stay for replicas still on it, until the next pruning, without the creator.
    assert res.snapshot_id not in st.snapshot_ids()
    old = st.read_matches(res.snapshot_id)
    assert len(old) and who not in set(old["creator_id"])


def test_creators_erased_before_the_move_to_postgres_stay_suppressed(pg_url, tmp_path):
    local = Store(tmp_path / "store")
    local.suppress(["c-old"])  # erased while the store kept its own SQLite file
    shared = Store(tmp_path / "store", db=pg_url)
    assert shared.suppressed_keys() == frozenset()
    assert shared.carry_over_suppressed() == 1  # what batch and forget do first, under the lock
    assert shared.carry_over_suppressed() == 0
    assert shared.suppressed_keys() == frozenset({Store.suppression_key("c-old")})


@pytest.mark.slow
def test_the_commands_read_the_state_named_by_db_or_matcher_db(pg_store, monkeypatch, capsys):
    from matcher.cli import main

    st, res = pg_store
    local = [r["run_id"] for r in Store(st.root).runs(50)]
    assert res.run_id not in local  # the PostgreSQL run went only there
    monkeypatch.setenv("MATCHER_DB", st.db)
    assert main(["-q", "runs", "--store", str(st.root), "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [res.run_id]
    brand = str(st.read_matches()["brand_id"].iloc[0])
    assert main(["-q", "matches", "--store", str(st.root), "--brand", brand, "--k", "3"]) == 0
    assert "score" in capsys.readouterr().out
    monkeypatch.delenv("MATCHER_DB")
    assert main(["-q", "runs", "--store", str(st.root), "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == local[:20]
    assert main(["-q", "runs", "--store", str(st.root), "--db", st.db, "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [res.run_id]


@pytest.mark.slow
def test_rollback_serves_the_earlier_snapshots_matches_from_postgres(pg_store):
    st, res = pg_store
    earlier = [i for i in st.published_ids() if i != res.snapshot_id][-1]  # published before the store used PostgreSQL
    assert not st.state.has_matches(earlier)
    previous, now = st.rollback(earlier)
    assert (previous, now) == (res.snapshot_id, earlier)
    assert st.state.has_matches(earlier)  # copied before the pointer moved
    pd.testing.assert_frame_equal(st.read_matches(), st.snapshot_matches(earlier))
    assert st.runs(1)[0]["status"] == "rollback"


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from matcher.store import Store
    st = Store(sys.argv[1], db=sys.argv[2])
    with st.lock("matcher batch"):
        st.record_run("held", status="running", started_at="2999-01-01T00:00:00+00:00")
        print("locked", flush=True)
        sys.stdin.readline()
    """
)


def test_the_run_lock_in_postgres_holds_across_machines(pg_url, tmp_path):
    """Two machines share the store and the database but not a lock file (here: two directories):
    a run on one is seen as running, and keeps the other's runs out, until it ends."""
    from matcher.store import StoreBusyError

    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "machine-a"), pg_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert holder.stdout.readline().strip() == "locked", holder.stderr.read()
        other = Store(tmp_path / "machine-b", db=pg_url)
        assert other.runs(1)[0]["status"] == "running"
        with pytest.raises(StoreBusyError, match="another process holds the store's run lock"):
            with other.lock("matcher forget"):
                pass
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    assert other.runs(1)[0]["status"] == "interrupted"  # its lock is gone, its row still says running
    with other.lock("matcher forget"):
        assert other.mark_interrupted() == 1

"""What the PostgreSQL run state costs a serving replica, against the store's own SQLite file, in one run.

Usage::

    .venv/bin/python benchmarks/pg_state.py                    # starts its own PostgreSQL (as the tests do)
    .venv/bin/python benchmarks/pg_state.py --db postgresql://USER@127.0.0.1:5432/bench --rounds 500

Measured, cases interleaved round by round so the machine's noise falls on all of them alike:

- the per-request erasure check: one read of the suppression list's version (a round trip on the
  replica's open connection), and ``Matcher.erased()`` as a request calls it (check + cached ids);
- whole requests through the app (in process, ASGI): ``GET /brands/{id}/matches`` (rows read from
  PostgreSQL vs the snapshot's Parquet file) and ``POST /recommend``, with the PostgreSQL state vs
  the SQLite one, on the same store;
- the one-off costs: hashing the creator ids of a newly loaded snapshot (timed over 1M ids), finding
  the erased rows among them after an erasure, and copying a snapshot's matches into PostgreSQL at
  publish (rows per second).

PostgreSQL runs on loopback on the same machine; a server across a network adds its round trip to
the per-request check.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hostinfo import cpu_model, ram_gib  # noqa: E402
from matcher.batch import run_batch  # noqa: E402
from matcher.embed import Encoder  # noqa: E402
from matcher.sample import generate  # noqa: E402
from matcher.store import MATCH_COLUMNS, Store, matches_frame  # noqa: E402


def _stats(ms: list[float]) -> tuple[float, float, float]:
    a = np.asarray(ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="PostgreSQL URL to use (default: start a server in a temporary directory)")
    ap.add_argument("--creators", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--copy-rows", type=int, default=200_000, help="rows of the synthetic matches copied at publish")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "matcher-bench-pg-state")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pg_state.md")
    args = ap.parse_args()

    server = None
    url = args.db
    if url is None:
        from pgserver import start_server

        server = start_server()
        url = server.new_database()
    try:
        return _run(args, url)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace, url: str) -> int:
    from fastapi.testclient import TestClient

    from matcher.serve import create_app

    load = os.getloadavg()[0]
    work = args.workdir
    sample = generate(work / f"sample-{args.creators}", seed=3, n_creators=args.creators)
    store = work / f"store-{args.creators}"
    encoder = Encoder().load()
    res = run_batch(sample.creators, sample.posts, sample.brands, store, comments=sample.comments, encoder=encoder, progress=False, db=url)
    st = Store(store, db=url)
    frame = st.read_matches()
    brand = str(frame["brand_id"].iloc[0])
    brief = str(st.load().brands.set_index("brand_id").loc[brand, "description"])
    st.suppress(["not-a-creator-of-this-store"])  # a non-empty list, as a store that ever erased anyone has

    times: dict[str, list[float]] = {}

    def timed(name: str, fn) -> None:
        t = time.perf_counter()
        fn()
        times.setdefault(name, []).append(1000 * (time.perf_counter() - t))

    with TestClient(create_app(store, encoder=encoder, db=url)) as pg, TestClient(create_app(store, encoder=encoder)) as lite:
        m = pg.app.state.service.matcher
        for c in (pg, lite):  # warm: the snapshot's columns, the brief cache, the connection
            assert c.get(f"/brands/{brand}/matches", params={"k": 50}).status_code == 200
            assert c.post("/recommend", json={"brief": brief, "k": 10}).status_code == 200
        for i in range(args.rounds):
            timed("suppression version (one round trip)", m.store_.suppression_version)
            timed("Matcher.erased() per request (check + cached ids)", m.erased)
            order = [("postgresql", pg), ("sqlite", lite)] if i % 2 == 0 else [("sqlite", lite), ("postgresql", pg)]
            for kind, c in order:
                timed(f"GET /brands/{{id}}/matches?k=50, {kind} state", lambda c=c: c.get(f"/brands/{brand}/matches", params={"k": 50}).raise_for_status())
            for kind, c in order:
                # The same brief each time: the brief cache answers, so the difference is the state's.
                timed(f"POST /recommend k=10 (cached brief), {kind} state", lambda c=c: c.post("/recommend", json={"brief": brief, "k": 10}).raise_for_status())

    ids = [f"c{i:07d}" for i in range(1_000_000)]
    t = time.perf_counter()
    prefixes = np.fromiter((int(Store.suppression_key(c)[:16], 16) for c in ids), dtype=np.uint64, count=len(ids))
    hash_s = time.perf_counter() - t
    erased_keys = [Store.suppression_key(c) for c in ids[::100_000]]  # 10 erased creators
    t = time.perf_counter()
    rows = np.flatnonzero(np.isin(prefixes, np.array([int(k[:16], 16) for k in erased_keys], dtype=np.uint64)))
    isin_ms = 1000 * (time.perf_counter() - t)
    assert len(rows) == len(erased_keys)

    rng = np.random.default_rng(0)
    n = args.copy_rows
    synthetic = matches_frame(
        (f"b{i // 50:06d}", i % 50 + 1, f"c{int(rng.integers(0, 1_000_000)):07d}", *rng.random(7).tolist(), False, "topic 0.61; engagement 0.40 (tier median)")
        for i in range(n)
    )
    assert list(synthetic.columns) == list(MATCH_COLUMNS)
    t = time.perf_counter()
    st.state.publish_matches("bench-copy", synthetic)
    copy_s = time.perf_counter() - t
    t = time.perf_counter()
    back = st.state.read_matches("bench-copy")
    read_s = time.perf_counter() - t
    assert back is not None and len(back) == n
    st.state.prune_matches(st.snapshot_ids())

    cores = os.cpu_count()
    ram = ram_gib()
    lines = [
        "# PostgreSQL run state: the cost per request and per publish",
        "",
        f"Generated by `benchmarks/pg_state.py` on {cpu_model()}, {cores} cores, {ram:.0f} GiB RAM, Python {platform.python_version()}, "
        f"load average {load:.1f} at start; PostgreSQL on loopback on the same machine. Store: {res.matches} stored matches of "
        f"{args.creators} sample creators; {args.rounds} rounds, cases interleaved round by round; requests in process through the "
        "ASGI app (no network), each app on the same store, one with the PostgreSQL state and one with the store's SQLite file.",
        "",
        "| case | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|",
    ]
    for name, ms in times.items():
        p50, p99, mean = _stats(ms)
        lines.append(f"| {name} | {p50:.3f} | {p99:.3f} | {mean:.3f} |")
    lines += [
        "",
        "One-off costs:",
        "",
        f"- each replica hashes its creators' ids once per snapshot it loads (Matcher.erased, the 8-byte prefixes of their "
        f"suppression keys): {hash_s:.2f} s for 1,000,000 creator ids; after an erasure, finding the erased rows among them "
        f"takes {isin_ms:.1f} ms (10 erased creators);",
        f"- copying a snapshot's matches into PostgreSQL at publish (one transaction, COPY): {n:,} rows in {copy_s:.2f} s "
        f"({n / copy_s:,.0f} rows/s); reading them all back: {read_s:.2f} s.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

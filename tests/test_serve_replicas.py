"""Serving replicas: several real `matcher serve` processes on one shared store and one PostgreSQL
run state switch to a newly published snapshot on their own, without a failed request."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

httpx = pytest.importorskip("httpx", reason="install the test dependencies: pip install -e '.[test]'")

import tinystore  # noqa: E402
from matcher.store import Store  # noqa: E402

REPLICAS = 2
#: Each replica's request loop stops after this many requests whatever happens (bounded).
MAX_REQUESTS = 4000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_replica(store: Path, db: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "matcher.cli", "-q", "serve", "--store", str(store), "--db", db, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=tinystore.cli_env(),
    )
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"replica exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"replica at {url} did not answer within {timeout} s: {log.read_text(errors='replace')[-3000:]}")


def test_replicas_switch_to_a_new_snapshot_without_a_failed_request(tmp_path_factory, encoder, pg_url):
    from matcher.batch import run_batch

    w = tinystore.world(tmp_path_factory, encoder)
    work = tmp_path_factory.mktemp("replicas")
    root = w.copy(work / "store")
    st = Store(root, db=pg_url)
    # Night A was published before the store had a PostgreSQL state: copy its matches over, as a
    # batch with --db does on publishing.
    st.serve_matches(w.snapshot_a)
    snap_a = st.load()
    brand = str(snap_a.brands["brand_id"].iloc[0])
    brief = str(snap_a.brands["description"].iloc[0])

    replicas = []
    try:
        for i in range(REPLICAS):
            log = work / f"replica-{i}.log"
            proc, url = _start_replica(root, pg_url, log)
            replicas.append((proc, url, log))
        for proc, url, log in replicas:
            _wait_ready(proc, url, log)

        failures: list[str] = []
        served: dict[str, list[str]] = {url: [] for _, url, _ in replicas}
        stop = threading.Event()

        def hammer(url: str) -> None:
            calls = [
                lambda c: c.get("/healthz"),
                lambda c: c.get(f"/brands/{brand}/matches", params={"k": 10}),
                lambda c: c.post("/recommend", json={"brief": brief, "k": 5}),
            ]
            with httpx.Client(base_url=url, timeout=30) as client:
                for i in range(MAX_REQUESTS):
                    if stop.is_set():
                        return
                    try:
                        r = calls[i % len(calls)](client)
                    except httpx.HTTPError as exc:
                        failures.append(f"{url}: {type(exc).__name__}: {exc}")
                        continue
                    if r.status_code != 200:
                        failures.append(f"{url}: {r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}")
                        continue
                    served[url].append(r.json()["snapshot_id"])

        threads = [threading.Thread(target=hammer, args=(url,), daemon=True) for _, url, _ in replicas]
        for t in threads:
            t.start()
        while min(len(v) for v in served.values()) < 10 and all(t.is_alive() for t in threads):
            time.sleep(0.05)
        assert all(v and set(v) == {w.snapshot_a} for v in served.values()), served

        # The nightly batch publishes night B into the shared store while both replicas serve.
        before = {url: len(v) for url, v in served.items()}
        res = run_batch(w.b["creators"], w.b["posts"], w.b["brands"], root, encoder=encoder, progress=False, db=pg_url)
        during = {url: len(v) - before[url] for url, v in served.items()}
        assert res.snapshot_id != w.snapshot_a
        assert min(during.values()) > 0, f"no request ran while the batch did: {during}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            if all(v and v[-1] == res.snapshot_id for v in served.values()):
                break
            time.sleep(0.05)
        # A few more requests on each after the switch, then stop.
        marks = {url: len(v) for url, v in served.items()}
        while any(len(served[url]) < marks[url] + 6 for url in served) and any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=60)

        assert failures == [], failures[:5]
        print(f"requests answered per replica: {[len(v) for v in served.values()]}, while the batch ran: {list(during.values())}")
        for url, ids in served.items():
            assert ids[0] == w.snapshot_a and ids[-1] == res.snapshot_id, (url, ids[:3], ids[-3:])
            switched = ids.index(res.snapshot_id)
            assert set(ids[switched:]) == {res.snapshot_id}, f"{url} went back to an older snapshot after switching"
        expected = st.read_matches(res.snapshot_id, brand_id=brand).head(10)
        for _, url, _ in replicas:
            assert httpx.get(url + "/healthz", timeout=30).json()["snapshot_id"] == res.snapshot_id
            body = httpx.get(url + f"/brands/{brand}/matches", params={"k": 10}, timeout=30).json()
            assert body["snapshot_id"] == res.snapshot_id
            assert [m["creator_id"] for m in body["matches"]] == expected["creator_id"].tolist()
    finally:
        for proc, _, _ in replicas:
            proc.terminate()
        for proc, _, _ in replicas:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

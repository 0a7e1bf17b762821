"""Load run of the HTTP service on loopback: a 100k-creator store, a fixed request rate, p50/p95 against in-process calls.

Usage::

    .venv/bin/python benchmarks/serve_load.py                       # 100k creators, 30 requests/s for 20 s
    .venv/bin/python benchmarks/serve_load.py --creators 20000 --duration 10 --out /tmp/x.md
    .venv/bin/python benchmarks/serve_load.py --compare-threads 2  # then the same load with 2 encoder threads per request

The store is built once in ``--workdir`` (default: a folder under the system temp dir) and reused:
the embedding cache there means a rebuild encodes nothing new. Encoding is what makes a 100k build
slow on 2 cores (roughly 100-200 short texts/s), so by default (``--post-text bio``) each post's caption is
replaced by its creator's bio: only the ~75k distinct bios are encoded instead of ~220k bios and captions,
while the store keeps 100k creators, ~150k posts with their real engagement counts, and topically
consistent post vectors. Serving latency depends on the number of creators and candidate posts, not
on the captions' wording. ``--post-text sample`` keeps the generated captions.

Every request carries a brief no other request of the run (reference, warm-up, light or load
run) sends: the sample's brand descriptions with their sentences reordered and a campaign lead-in
(see ``distinct_briefs``), so the service's brief cache cannot make the run look faster than real
traffic; its hit rate is reported. The in-process reference runs twice, with one ONNX Runtime thread
per call (as the service encodes) and with one per core (the batch default, and what the service
used before), so the effect of the thread setting is measured in the same run.

Traffic goes only to 127.0.0.1, and the run is bounded in both request count (rate x duration) and time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.batch import run_batch  # noqa: E402
from matcher.config import Config, EmbedConfig  # noqa: E402
from matcher.embed import Encoder  # noqa: E402
from matcher.engine import Matcher  # noqa: E402
from matcher.errors import StoreError  # noqa: E402
from matcher.sample import generate  # noqa: E402
from matcher.schema import Filters  # noqa: E402
from matcher.store import Store  # noqa: E402

logger = logging.getLogger("serve_load")

HOST = "127.0.0.1"  # loopback only: this benchmark never sends traffic anywhere else
TARGET_P95_MS = 60.0


@dataclass
class Sample:
    """One request's outcome."""

    latency_ms: float
    status: int
    server_ms: float | None = None
    lag_ms: float = 0.0  # how late the request left against its schedule
    error: str = ""


@dataclass
class Run:
    """All outcomes of one timed run."""

    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0

    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 200]

    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status != 200]


# The scripts run as files, not as a package: make their shared helper importable either way.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import cpu_model, ram_gib  # noqa: E402

def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def machine() -> dict[str, str]:
    """CPU model, cores and RAM of this machine, from /proc."""
    gib = ram_gib()
    model, ram = cpu_model(), "unknown" if gib is None else f"{gib:.1f} GiB"
    return {"cpu": model, "cores": str(os.cpu_count()), "ram": ram, "python": platform.python_version(), "os": platform.platform()}


# How marketers open a brief; with the sentence orders they make each description many distinct briefs.
LEADS = (
    "",
    "Campaign brief: ",
    "Looking for creators for a paid collaboration. ",
    "Product seeding for our spring launch. ",
    "Holiday campaign. ",
    "New in our range. ",
    "Ambassador programme, six months. ",
    "We want honest reviews from creators whose audience buys this. ",
)


def distinct_briefs(descriptions: list[str], n: int, seed: int) -> list[str]:
    """``n`` different briefs, in random order: each is a description with its sentences in one of
    their orders (up to 24) behind one of the ``LEADS``. As long as the originals or longer, so
    encoding costs no less than for the descriptions themselves.

    Raises:
        ValueError: fewer than ``n`` distinct briefs can be made.
    """
    combos = []
    for d, text in enumerate(descriptions):
        sentences = [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]
        orders = list(itertools.islice(itertools.permutations(range(len(sentences))), 24))
        combos += [(d, o, lead) for o in orders for lead in LEADS]
    rng = np.random.default_rng(seed)
    out: list[str] = []
    seen: set[str] = set()
    for i in rng.permutation(len(combos)):
        d, order, lead = combos[i]
        sentences = [x for x in re.split(r"(?<=[.!?])\s+", descriptions[d].strip()) if x]
        brief = lead + " ".join(sentences[j] for j in order)
        if brief not in seen:
            seen.add(brief)
            out.append(brief)
            if len(out) == n:
                return out
    raise ValueError(f"only {len(out)} distinct briefs can be made from {len(descriptions)} descriptions; ask for fewer requests")


def requests_mix(brands: pd.DataFrame, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` request bodies, each with a brief no other body has, under four filter variants in turn."""
    texts = [str(t) for t in brands["description"].dropna().tolist()]
    variants: list[dict[str, Any]] = [
        {},
        {"min_followers": 1000, "max_followers": 100_000},
        {"countries": ["US", "GB", "CA"], "platforms": ["instagram"]},
        {"min_followers": 1000, "max_followers": 100_000, "min_trust": 0.6},
    ]
    return [{"brief": b, "k": 10, "filters": variants[i % len(variants)]} for i, b in enumerate(distinct_briefs(texts, n, seed))]


def build_store(work: Path, *, creators: int, posts: tuple[int, int], seed: int, post_text: str, rebuild: bool) -> dict[str, Any]:
    """Generate the sample (once) and make sure the store has a snapshot this code can load."""
    data = work / "data"
    params = {"creators": creators, "posts": list(posts), "seed": seed, "post_text": post_text}
    marker = data / "params.json"
    if not (data / "creators.csv").exists() or not marker.exists() or json.loads(marker.read_text()) != params:
        t = time.perf_counter()
        generate(data, seed=seed, n_creators=creators, posts_per_creator=posts)
        if post_text == "bio":
            c = pd.read_csv(data / "creators.csv", dtype=str, keep_default_na=False)
            p = pd.read_csv(data / "posts.csv", dtype=str, keep_default_na=False)
            bio = c.drop_duplicates("creator_id").set_index("creator_id")["bio"]
            mapped = p["creator_id"].map(bio)
            p["text"] = mapped.where(mapped.notna(), p["text"])
            p.to_csv(data / "posts.csv", index=False)
        marker.write_text(json.dumps(params))
        logger.info("generated the sample in %.1f s", time.perf_counter() - t)
    store = work / "store"
    info: dict[str, Any] = {"store": str(store), "rebuilt": False}
    if not rebuild:
        try:
            snap = Store(store).load()
            info.update(snapshot_id=snap.snapshot_id, creators=len(snap.creators), posts=len(snap.posts), index=snap.manifest.get("index", {}))
            return info
        except StoreError as exc:
            logger.info("building the store: %s", exc)
    t = time.perf_counter()
    res = run_batch(data / "creators.csv", data / "posts.csv", data / "brands.csv", store, progress=sys.stderr.isatty())
    snap = Store(store).load()
    info.update(
        rebuilt=True,
        build_s=time.perf_counter() - t,
        encoded=res.encoded,
        snapshot_id=snap.snapshot_id,
        creators=len(snap.creators),
        posts=len(snap.posts),
        index=snap.manifest.get("index", {}),
    )
    return info


def reference(store: Path, bodies: list[dict[str, Any]], *, threads: int) -> tuple[list[float], list[float]]:
    """In-process ``Matcher.recommend`` latency (ms) for ``bodies``, one after another, with
    ``embed.threads = threads`` (0: one per core), and the time of encoding each brief alone (ms)."""
    m = Matcher(store, encoder=Encoder(EmbedConfig(threads=threads)).load()).load()

    def call(body: dict[str, Any]) -> None:
        m.recommend(body["brief"], body["k"], filters=Filters(**body["filters"]))

    for b in bodies[-5:]:  # warm-up; the timed calls below still see each brief for the first time
        call(b)
    out, enc = [], []
    for b in bodies[:-5]:
        t = time.perf_counter()
        call(b)
        out.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        m.encoder.encode([b["brief"]])
        enc.append(1000 * (time.perf_counter() - t))
    return out, enc


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(store: Path, port: int, log: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, float]:
    """``matcher serve`` in a child process (with ``env`` added to its environment); returns it and
    its time to a healthy /healthz."""
    import httpx

    t = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "-q", "serve", "--store", str(store), "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=5).status_code == 200:
                return proc, time.perf_counter() - t
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the server did not answer /healthz within 600 s; see {log}")


def load(base: str, bodies: list[dict[str, Any]], rate: float, *, timeout_s: float) -> Run:
    """Send ``bodies`` at ``rate`` per second on a fixed schedule (open loop), bounded by ``timeout_s``.

    Each request is its own task, so a slow answer never holds back the next send; latency is
    measured from the request's scheduled time, so queueing in the server is counted in full.
    """
    import asyncio

    import httpx

    run = Run()

    async def send(client: httpx.AsyncClient, body: dict[str, Any], due: float) -> None:
        start = time.perf_counter()
        try:
            r = await client.post("/recommend", json=body)
            ms = 1000 * (time.perf_counter() - due)
            server_ms = r.json().get("took_ms") if r.status_code == 200 else None
            run.samples.append(Sample(ms, r.status_code, server_ms, 1000 * (start - due), "" if r.status_code == 200 else r.text[:200]))
        except httpx.HTTPError as exc:
            run.samples.append(Sample(1000 * (time.perf_counter() - due), 0, None, 1000 * (start - due), repr(exc)))

    async def main() -> None:
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        async with httpx.AsyncClient(base_url=base, timeout=15.0, limits=limits) as client:
            t0 = time.perf_counter()
            tasks = []
            for i, body in enumerate(bodies):
                due = t0 + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                tasks.append(asyncio.create_task(send(client, body, due)))
            _, pending = await asyncio.wait(tasks, timeout=max(0.1, t0 + timeout_s - time.perf_counter()))
            for t in pending:
                t.cancel()
            run.wall_s = time.perf_counter() - t0

    asyncio.run(main())
    missing = len(bodies) - len(run.samples)
    run.samples.extend(Sample(float("nan"), 0, error="not finished within the run's time bound") for _ in range(missing))
    return run


def loadavg() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _row(name: str, values: list[float], n: int | None = None, errors: int | None = None, bold: bool = False) -> str:
    cells = [pct(values, 50), pct(values, 95), pct(values, 99), max(values) if values else float("nan")]
    fmt = [f"{c:.1f}" for c in cells]
    if bold:
        fmt[0], fmt[1] = f"**{fmt[0]}**", f"**{fmt[1]}**"
    return f"| {name} | {' | '.join(fmt)} | {len(values) if n is None else n} | {'' if errors is None else (f'**{errors}**' if bold else errors)} |"


def report(
    args: argparse.Namespace,
    info: dict[str, Any],
    refs: dict[int, tuple[list[float], list[float]]],
    light: Run,
    run: Run,
    startup_s: float,
    loads: list[str],
    health: dict[str, Any],
    compare: Run | None = None,
) -> str:
    m = machine()
    ref, enc = refs[1]
    ref_all, enc_all = refs[0]
    load = health.get("load", {})
    threads = Config.load().embed.threads or 1  # the server reads the same environment; 0 means 1 there

    def lat(r: Run) -> list[float]:
        return [s.latency_ms for s in r.ok()]

    def srv(r: Run) -> list[float]:
        return [s.server_ms for s in r.ok() if s.server_ms is not None]

    errors = run.errors()
    p95 = pct(lat(run), 95)
    verdict = "met" if not errors and p95 <= TARGET_P95_MS else "not met"
    n = len(run.samples)
    lines = [
        "# HTTP service under load (loopback)",
        "",
        f"`benchmarks/serve_load.py --creators {args.creators} --posts {args.posts[0]} {args.posts[1]} --rate {args.rate:g} --duration {args.duration:g}`, "
        f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; Python {m['python']}; {m['os']}. "
        f"The machine is shared with other work: load average (1/5/15 min) {loads[0]} before the reference, "
        f"{loads[1]} before the {args.rate:g}/s run, {loads[2]} after it.",
        "",
        f"**Store:** {info['creators']:,} creators, {info['posts']:,} posts (sample generator, seed {args.seed}, "
        f"{args.posts[0]}-{args.posts[1]} posts per creator"
        + (", each caption replaced by its creator's bio so the one-off build encodes only the distinct bios; serving cost "
           "depends on creators and candidate posts, not on the captions' wording)" if args.post_text == "bio" else ")")
        + f", index {info.get('index', {}).get('kind', '?')} over {info.get('index', {}).get('size', 0):,} vectors. "
        + (f"Built in {info['build_s']:.0f} s ({info['encoded']:,} texts encoded). " if info.get("rebuilt") else "Reused a store built earlier by this script. ")
        + f"`matcher serve` took {startup_s:.1f} s from start to a healthy `/healthz` (model + snapshot load).",
        "",
        f"**Requests:** `POST /recommend`, k=10, four filter variants in turn (none; 1k-100k followers; US/GB/CA on Instagram; "
        f"1k-100k followers with `min_trust` 0.6). Every request of the run has a brief no other request sends "
        f"({len(run.samples) + len(light.samples) + 10:,} distinct briefs: the sample's brand descriptions with their sentences "
        f"reordered behind a campaign lead-in, as long as the originals or longer), so every brief is encoded: the service's "
        f"brief cache answered {load.get('brief_cache_hits', '?')} of "
        f"{(load.get('brief_cache_hits') or 0) + (load.get('brief_cache_misses') or 0):,} look-ups. "
        "Open loop from a separate process: every request is sent at its scheduled time whatever the earlier ones are doing, "
        "and its latency is counted from that time, so queueing in the server is included.",
        "",
        f"**Service:** {load.get('workers', '?')} worker threads (`serve.workers`, 0 = one per core), {threads} ONNX Runtime "
        f"thread{'s' if threads > 1 else ''} per request (`embed.threads`, 0 = one in a server); {load.get('shed', '?')} requests shed "
        "(503 at once because the queue ahead could not finish before the deadline).",
        "",
        "| measure | p50 ms | p95 ms | p99 ms | max ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _row("in-process `Matcher.recommend`, one at a time, 1 encoder thread (as served)", ref, errors=0),
        _row("of which: encoding the brief alone, 1 thread", enc),
        _row("in-process `Matcher.recommend`, one encoder thread per core (the batch default; served so before)", ref_all, errors=0),
        _row("of which: encoding the brief alone, one thread per core", enc_all),
        _row(f"HTTP at {args.light_rate:g}/s for {args.light_duration:g} s: server time (`took_ms`)", srv(light)),
        _row(f"HTTP at {args.light_rate:g}/s for {args.light_duration:g} s: round trip", lat(light), len(light.samples), len(light.errors())),
        _row(f"HTTP at {args.rate:g}/s for {args.duration:g} s: server time (`took_ms`)", srv(run)),
        _row(f"**HTTP at {args.rate:g}/s for {args.duration:g} s: round trip**", lat(run), n, len(errors), bold=True),
        *(
            [
                _row(f"the same load, server with `embed.threads = {args.compare_threads}`: server time (`took_ms`)", srv(compare)),
                _row(f"the same load, server with `embed.threads = {args.compare_threads}`: round trip", lat(compare), len(compare.samples), len(compare.errors())),
            ]
            if compare is not None
            else []
        ),
        "",
        f"HTTP overhead over the in-process call, at the light rate where nothing queues: {pct(lat(light), 50) - pct(ref, 50):+.1f} ms at p50, "
        f"{pct(lat(light), 95) - pct(ref, 95):+.1f} ms at p95. "
        f"Encoding the brief is {100 * pct(enc, 50) / pct(ref, 50):.0f}% of an in-process call at the median; the rest is the search and "
        f"the reranker. One at a time, one encoder thread per core instead of one gives p50 {pct(ref_all, 50):.1f} against "
        f"{pct(ref, 50):.1f} ms and p95 {pct(ref_all, 95):.1f} against {pct(ref, 95):.1f} ms (see the load averages above: the "
        "second thread needs the other core free). Achieved "
        f"{len(run.ok()) / run.wall_s:.1f} answered requests/s at the {args.rate:g}/s schedule.",
        "",
        f"**Target** (p95 <= {TARGET_P95_MS:.0f} ms with zero errors at {args.rate:g} requests/s): **{verdict}**.",
    ]
    if errors:
        kinds: dict[str, int] = {}
        for e in errors:
            key = f"{e.status} {e.error[:120]}"
            kinds[key] = kinds.get(key, 0) + 1
        lines += ["", "Errors:", ""] + [f"- {c} x {k}" for k, c in sorted(kinds.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines) + "\n"


def serve_runs(
    args: argparse.Namespace,
    store: Path,
    warm: list[dict[str, Any]],
    light_bodies: list[dict[str, Any]],
    load_bodies: list[dict[str, Any]],
    loads: list[str],
    env: dict[str, str] | None = None,
) -> tuple[Run, Run, float, dict[str, Any]]:
    """Start a server, warm it up, run the light load (if any bodies) then the load; stop it.

    Returns the light and the load run, the server's start-up time and its /healthz after the load.
    """
    import httpx

    port = free_port()
    proc, startup_s = start_server(store, port, args.workdir / "server.log", env)
    try:
        base = f"http://{HOST}:{port}"
        for b in warm:  # warm-up, not measured
            httpx.post(base + "/recommend", json=b, timeout=30)
        light = Run()
        if light_bodies:
            logger.info("light load: %d requests at %g/s", len(light_bodies), args.light_rate)
            light = load(base, light_bodies, args.light_rate, timeout_s=args.light_duration + 30)
            loads.append(loadavg())
        logger.info("load: %d requests at %g/s", len(load_bodies), args.rate)
        run = load(base, load_bodies, args.rate, timeout_s=args.duration + 30)
        loads.append(loadavg())
        health = httpx.get(base + "/healthz", timeout=30).json()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return light, run, startup_s, health


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "matcher-serve-load")
    p.add_argument("--creators", type=int, default=100_000)
    p.add_argument("--posts", type=int, nargs=2, default=(1, 2), metavar=("MIN", "MAX"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--post-text", choices=("bio", "sample"), default="bio", help="bio: captions replaced by the creator's bio (see above)")
    p.add_argument("--rate", type=float, default=30.0, help="requests per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    p.add_argument("--light-rate", type=float, default=5.0, help="requests per second of the light run that shows the HTTP overhead")
    p.add_argument("--light-duration", type=float, default=10.0)
    p.add_argument("--reference", type=int, default=200, help="in-process calls for the reference latency")
    p.add_argument("--rebuild", action="store_true", help="run the batch again even if the store loads")
    p.add_argument(
        "--compare-threads", type=int, default=0, metavar="N",
        help="then run the same load on a second server with embed.threads = N (0: skip), to compare with one encoder thread per request",
    )
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "serve_load.md")
    args = p.parse_args(argv)
    for rate, duration in ((args.rate, args.duration), (args.light_rate, args.light_duration)):
        if not (0 < rate <= 200 and 0 < duration <= 120):
            p.error("keep the run bounded: rates in (0, 200] requests/s and durations in (0, 120] seconds")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    args.workdir.mkdir(parents=True, exist_ok=True)
    info = build_store(args.workdir, creators=args.creators, posts=tuple(args.posts), seed=args.seed, post_text=args.post_text, rebuild=args.rebuild)
    store = Path(info["store"])
    n_light, n = int(args.light_rate * args.light_duration), int(args.rate * args.duration)
    # One slice per phase, so no request of the server's runs repeats a brief it has seen; the
    # in-process reference reuses the load run's briefs (it has no cache).
    bodies = requests_mix(pd.read_csv(args.workdir / "data" / "brands.csv"), max(n, args.reference + 5) + n_light + 10, args.seed)
    load_bodies, light_bodies, warm_bodies = bodies[:n], bodies[-(n_light + 10) : -10], bodies[-10:]

    loads = [loadavg()]
    refs: dict[int, tuple[list[float], list[float]]] = {}
    for threads in (0, 1):
        logger.info("reference: %d in-process calls, embed.threads = %d", args.reference, threads)
        refs[threads] = reference(store, bodies[: args.reference + 5], threads=threads)
        logger.info("reference p50 %.1f ms, p95 %.1f ms", pct(refs[threads][0], 50), pct(refs[threads][0], 95))

    light, run, startup_s, health = serve_runs(args, store, warm_bodies, light_bodies, load_bodies, loads)
    compare = None
    if args.compare_threads:
        # Fresh briefs again, so the second server's cache starts as cold as the first one's.
        extra = requests_mix(pd.read_csv(args.workdir / "data" / "brands.csv"), len(bodies) + n + 10, args.seed)[len(bodies) :]
        logger.info("the same load on a server with embed.threads = %d", args.compare_threads)
        _, compare, _, _ = serve_runs(args, store, extra[-10:], [], extra[:n], [], env={"MATCHER_EMBED__THREADS": str(args.compare_threads)})
    text = report(args, info, refs, light, run, startup_s, loads, health, compare)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    ok = run.ok()
    return 0 if not run.errors() and ok and pct([s.latency_ms for s in ok], 95) <= TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())

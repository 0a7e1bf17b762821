"""Encoding throughput of the Ray engine with 1 and 2 actors, against the local encoder, and a cost model.

Texts: distinct real YouTube titles and descriptions from ``../shared/data`` (normalised as ingest
does; the seeded sample's captions when the data is absent), cut into parts of ``--part`` texts as
``embed_groups`` hands them to ``RayStages.encode_parts``. Variants, all on the same texts in the same
run, interleaved round by round because the machine is shared:

* ``local, 1 thread`` and ``local, 2 threads``: :class:`matcher.embed.Encoder` in this process;
* ``ray, 1 actor`` and ``ray, 2 actors``: ``RayStages(actors=n).encode_parts`` (one thread per actor),
  Ray started with 3 logical CPUs so two 1-CPU actors still leave one for Ray Data's other tasks.

A Ray figure is the whole call: actor start (the model loaded once per actor), the data moved through
the object store, and encoding. The start-up alone is measured by the same call on a single short text
and reported beside it, so the steady per-actor rate is ``texts / (wall - start-up)``.

CPU time is recorded beside wall time: this process's own (``time.process_time``) plus every
descendant process's (Ray's raylet, workers and actors, sampled with psutil every 0.2 s during the
run, since Ray Data ends an idle actor before the run's last result). On a
machine shared with other jobs the wall figures move with the load; texts per CPU-second is the work
itself, and what a cost model can scale.

    .venv/bin/python benchmarks/ray_scaling.py [--texts 3000] [--rounds 2] [--out benchmarks/results]

Writes ``ray_scaling.json``; the Markdown report ``ray_scaling.md`` keeps any hand-written text below
its ``<!-- notes -->`` line (the cost model).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from encode_speed import pick, sample_texts, youtube_parts  # noqa: E402
from eval_dev import data_dir, machine  # noqa: E402

from matcher.config import EmbedConfig  # noqa: E402
from matcher.embed import Encoder  # noqa: E402


def texts_for(n: int) -> tuple[list[str], str]:
    d = data_dir()
    if d is None:
        return sample_texts(n), "seeded sample captions (../shared/data absent)"
    parts = youtube_parts(d)
    titles, descs = parts["YouTube titles"], parts["YouTube descriptions"]
    # Posts are mostly short: three titles to one description.
    a, b = pick(titles, n * 3 // 4, seed=1), pick(descs, n - n * 3 // 4, seed=2)
    return a + b, f"real YouTube text from ../shared/data: {len(a)} titles and {len(b)} descriptions"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=int, default=3000)
    p.add_argument("--part", type=int, default=256, help="texts per encode_parts part")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args()

    import ray

    from matcher.distributed import RayStages

    texts, source = texts_for(args.texts)
    parts = [texts[i : i + args.part] for i in range(0, len(texts), args.part)]
    enc1 = Encoder(replace(EmbedConfig(), threads=1)).load()
    enc2 = Encoder(replace(EmbedConfig(), threads=2)).load()
    tokens = int(sum(len(w) for w in enc1.windows(texts)[0]))
    started = datetime.now(timezone.utc)
    host = machine()
    load_start = os.getloadavg()
    ray.init(num_cpus=3, include_dashboard=False, object_store_memory=256 * 1024 * 1024, configure_logging=False, log_to_driver=False)
    times: dict[str, list[float]] = {}
    startup: dict[str, list[float]] = {}

    import psutil

    me = psutil.Process()

    class CpuMeter:
        """CPU-seconds of this process and of every descendant (Ray's raylet, workers and actors),
        sampled every 0.2 s while a run is going: Ray Data ends an idle actor as soon as no part is
        left for it, before the run's last result, so a single reading at the end would miss its CPU."""

        def __init__(self) -> None:
            self.first: dict[tuple[int, float], float] = {}
            self.last: dict[tuple[int, float], float] = {}
            self.stop = threading.Event()

        def sample(self) -> None:
            for p in me.children(recursive=True):
                try:
                    key, t = (p.pid, p.create_time()), p.cpu_times()
                except psutil.Error:
                    continue
                self.last[key] = t.user + t.system

        def __enter__(self) -> CpuMeter:
            self.sample()  # processes alive at the start count from here; later ones from zero
            self.first = dict(self.last)
            self.own = time.process_time()

            def loop() -> None:
                while not self.stop.wait(0.2):
                    self.sample()

            self.thread = threading.Thread(target=loop, daemon=True)
            self.thread.start()
            return self

        def __exit__(self, *exc: object) -> None:
            self.stop.set()
            self.thread.join()
            self.sample()
            self.own = time.process_time() - self.own
            self.total = self.own + sum(t - self.first.get(k, 0.0) for k, t in self.last.items())

    cpu: dict[str, list[float]] = {}

    def ray_run(n: int, job: list[list[str]], record: str | None = None) -> float:
        with RayStages(actors=n) as stages:
            run = stages.encode_parts(EmbedConfig())
            t = time.perf_counter()
            got = 0
            with CpuMeter() as meter:
                for _, v in run(job):
                    got += len(v)
            dt = time.perf_counter() - t
            if record:
                cpu.setdefault(record, []).append(meter.total)
        assert got == sum(len(x) for x in job)
        return dt

    for r in range(args.rounds):
        for name, fn in (
            ("local, 1 thread", lambda: enc1.encode(texts)),
            ("ray, 1 actor", lambda: ray_run(1, parts, "ray, 1 actor")),
            ("local, 2 threads", lambda: enc2.encode(texts)),
            ("ray, 2 actors", lambda: ray_run(2, parts, "ray, 2 actors")),
        ):
            t, c0 = time.perf_counter(), time.process_time()
            out = fn()
            dt = out if isinstance(out, float) else time.perf_counter() - t
            if not isinstance(out, float):
                cpu.setdefault(name, []).append(time.process_time() - c0)
            times.setdefault(name, []).append(dt)
            print(f"round {r + 1}: {name}: {dt:.1f} s ({len(texts) / dt:.0f} texts/s)", flush=True)
        for n in (1, 2):
            # Start-up alone: the same pool on one short text per actor.
            startup.setdefault(f"ray, {n} actor{'s' if n > 1 else ''}", []).append(ray_run(n, [["a"]] * n))
    ray.shutdown()
    load_end = os.getloadavg()
    rows = {}
    for name, ts in times.items():
        wall = statistics.median(ts)
        up = statistics.median(startup[name]) if name in startup else 0.0
        rows[name] = {
            "wall_s": round(wall, 2), "spread_s": [round(min(ts), 2), round(max(ts), 2)], "startup_s": round(up, 2),
            "texts_per_s": round(len(texts) / wall, 1), "steady_texts_per_s": round(len(texts) / max(wall - up, 1e-9), 1),
            "cpu_s": round(statistics.median(cpu[name]), 2), "texts_per_cpu_s": round(len(texts) / statistics.median(cpu[name]), 1),
        }
    result = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": host, "texts": len(texts), "tokens": tokens, "source": source,
        "parts": len(parts), "part_size": args.part, "rounds": args.rounds, "ray": ray.__version__,
        "load_start": [round(x, 2) for x in load_start], "load_end": [round(x, 2) for x in load_end], "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ray_scaling.json").write_text(json.dumps(result, indent=2) + "\n")
    render(result, args.out / "ray_scaling.md")
    return 0


def render(r: dict, path: Path) -> None:
    notes = ""
    if path.exists() and "<!-- notes -->" in (old := path.read_text()):
        notes = old[old.index("<!-- notes -->") :]
    rows = r["rows"]
    lines = [
        "# Ray engine: encoding throughput with 1 and 2 actors",
        "",
        f"`benchmarks/ray_scaling.py`. Run {r['started']} on {r['machine']} — a machine **shared with other engineers' jobs** "
        f"(load average {' / '.join(str(x) for x in r['load_start'])} at start, {' / '.join(str(x) for x in r['load_end'])} at end). "
        f"Ray {r['ray']}, ONNX backend. Texts: {r['texts']:,} distinct texts, {r['tokens']:,} tokens in the model's windows ({r['source']}), "
        f"in {r['parts']} parts of {r['part_size']}. Median of {r['rounds']} interleaved rounds (min–max in brackets).",
        "",
        "| variant | wall (s) | texts/s | actor start-up (s) | texts/s without start-up | CPU (s) | texts per CPU-second |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, x in rows.items():
        up = f"{x['startup_s']:.1f}" if name.startswith("ray") else "–"
        steady = f"{x['steady_texts_per_s']:.1f}" if name.startswith("ray") else f"{x['texts_per_s']:.1f}"
        lines.append(
            f"| {name} | {x['wall_s']:.1f} ({x['spread_s'][0]:.1f}–{x['spread_s'][1]:.1f}) | {x['texts_per_s']:.1f} | {up} | {steady} | {x['cpu_s']:.1f} | {x['texts_per_cpu_s']:.1f} |"
        )
    lines.append("")
    path.write_text("\n".join(lines) + ("\n" + notes if notes else ""))


if __name__ == "__main__":
    sys.exit(main())

"""A tiny two-night world for the batch resilience tests, built once per test session.

Night A is published in a base store; night B (a few bios changed, two creators gone, some likes
changed) is the next run's input. The base store's embedding cache already holds every text of both
nights, so no run in these tests loads the model (a subprocess then starts in about a second), and
the reference export of an uninterrupted B run is known.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

N_CREATORS = 60
POSTS = (2, 4)
N_BRANDS = 8
_cache: dict[int, World] = {}


@dataclass(frozen=True)
class World:
    root: Path
    a: dict[str, Path]  # night A's input files
    b: dict[str, Path]  # night B's input files
    base: Path  # store with A published and a cache warm for A and B
    snapshot_a: str
    export_a: bytes  # 'matcher export' of A
    export_b: bytes  # 'matcher export' after an uninterrupted B run on top of `base`

    def copy(self, dst: Path) -> Path:
        """A private copy of the base store."""
        shutil.copytree(self.base, dst)
        return dst

    def batch_args(self, store: Path, night: str = "b") -> list[str]:
        files = self.b if night == "b" else self.a
        return ["batch", "--creators", str(files["creators"]), "--posts", str(files["posts"]), "--brands", str(files["brands"]), "--store", str(store)]


def export_bytes(store: Path, out: Path) -> bytes:
    """What 'matcher export' writes for the served snapshot, run in this process."""
    from matcher.cli import main

    assert main(["-q", "export", "--store", str(store), "--out", str(out)]) == 0
    return out.read_bytes()


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHER_", "MATCHERTEST_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``matcher`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "matcher.cli", "-q", *args], capture_output=True, text=True, env=env or cli_env(), timeout=timeout)


def _night_b(a: dict[str, Path], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    creators = pd.read_csv(a["creators"], dtype=str, keep_default_na=False)
    posts = pd.read_csv(a["posts"], dtype=str, keep_default_na=False)
    ids = [c for c in creators["creator_id"].tolist() if c.startswith("c")]
    gone = set(ids[-2:])
    creators = creators[~creators["creator_id"].isin(gone)].copy()
    posts = posts[~posts["creator_id"].isin(gone)].copy()
    changed = creators["creator_id"].isin(ids[:3])
    creators.loc[changed, "bio"] = creators.loc[changed, "bio"] + " Weekend trail runner, always testing new shoes."
    likes = posts["likes"].str.fullmatch(r"\d+")
    idx = posts.index[likes][:10]
    posts.loc[idx, "likes"] = (posts.loc[idx, "likes"].astype(int) * 2).astype(str)
    files = {"creators": out / "creators.csv", "posts": out / "posts.csv", "brands": out / "brands.csv"}
    creators.to_csv(files["creators"], index=False)
    posts.to_csv(files["posts"], index=False)
    shutil.copy(a["brands"], files["brands"])
    return files


def world(tmp_path_factory, encoder) -> World:
    """Build (once per session) the tiny world; every run uses the session's loaded encoder."""
    key = id(tmp_path_factory)
    if key in _cache:
        return _cache[key]
    from matcher.batch import run_batch
    from matcher.sample import generate
    from matcher.store import Store

    root = tmp_path_factory.mktemp("tiny")
    info = generate(root / "a", seed=5, n_creators=N_CREATORS, posts_per_creator=POSTS, n_brands=N_BRANDS)
    a = {"creators": info.creators, "posts": info.posts, "brands": info.brands}
    b = _night_b(a, root / "b")
    ref = root / "ref"
    run_batch(a["creators"], a["posts"], a["brands"], ref, encoder=encoder, progress=False)
    snapshot_a = Store(ref).current_id()
    export_a = export_bytes(ref, root / "export-a.csv")
    base = root / "base"
    shutil.copytree(ref, base)
    run_batch(b["creators"], b["posts"], b["brands"], ref, encoder=encoder, progress=False)
    export_b = export_bytes(ref, root / "export-b.csv")
    assert export_a != export_b, "night B must change the matches, or the crash tests prove nothing"
    shutil.rmtree(base / "cache")
    shutil.copytree(ref / "cache", base / "cache")
    w = World(root=root, a=a, b=b, base=base, snapshot_a=snapshot_a, export_a=export_a, export_b=export_b)
    _cache[key] = w
    return w


def temporaries(store: Path) -> list[Path]:
    """Every temporary file or directory left anywhere in the store."""
    return [p for p in store.rglob("*") if p.name.startswith(".tmp-")]

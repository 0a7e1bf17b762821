"""What detecting creators' languages costs the nightly batch, on the seeded sample.

Generates the sample (2,000 creators by default), then in one run:

1. a batch on the sample as generated (every creator has a language: nothing to detect), cold
   embedding cache: the reference a user sees;
2. the same batch again into a fresh store with the embedding cache of (1): the warm reference;
3. the batch with every creator's language blanked, same warm cache: all creators detected;
4. :func:`matcher.language.detect_creator_languages` alone on those creators, timed three times;
5. in a fresh interpreter, the resident memory before and after the detector is built and has
   classified the sample's texts (Lingua loads its models on first use and keeps them).

The difference of (3) and (2) is what detection adds to a batch; (1) says how much that is of a
whole run. Writes a Markdown table naming the machine. Run from the repository root:

    .venv/bin/python benchmarks/language_detect.py [--creators 2000] [--out benchmarks/results/language_detect.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pandas as pd  # noqa: E402

from matcher.batch import run_batch  # noqa: E402
from matcher.config import Config  # noqa: E402
from matcher.ingest import load_dataset  # noqa: E402
from matcher.language import LanguageDetector, detect_creator_languages  # noqa: E402
from matcher.sample import generate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import cpu_model, ram_gib  # noqa: E402


_MEMORY_PROBE = """
import sys, pandas as pd, psutil
from matcher.language import LanguageDetector, creator_texts
rss = lambda: psutil.Process().memory_info().rss / 2**20
creators = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
posts = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
texts = creator_texts(creators, posts, sample_chars=300, min_letters=25).tolist()
before = rss()
LanguageDetector(low_accuracy=sys.argv[3] == "1").build().detect(texts)
print(f"{before:.0f} {rss():.0f}")
"""


def detector_memory(creators: Path, posts: Path, low_accuracy: bool) -> tuple[float, float]:
    """Resident MiB of a fresh interpreter before and after building the detector and classifying."""
    args = [sys.executable, "-c", _MEMORY_PROBE, str(creators), str(posts), "1" if low_accuracy else "0"]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    return float(before), float(after)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--creators", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/language_detect.md"))
    args = ap.parse_args()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    cfg = Config()
    with tempfile.TemporaryDirectory(prefix="matcher-lang-") as tmp:
        root = Path(tmp)
        info = generate(root / "sample", seed=args.seed, n_creators=args.creators)
        blank = root / "creators_blank.csv"
        creators = pd.read_csv(info.creators, dtype=str, keep_default_na=False)
        creators.assign(language="").to_csv(blank, index=False)

        cold = run_batch(info.creators, info.posts, info.brands, root / "cold", comments=info.comments, progress=False)
        runs = {}
        for name, creators_file in (("given", info.creators), ("blank", blank)):
            store = root / name
            shutil.copytree(root / "cold" / "cache", store / "cache")
            runs[name] = run_batch(creators_file, info.posts, info.brands, store, comments=info.comments, progress=False)

        ds = load_dataset(blank, info.posts)
        memory = {low: detector_memory(info.creators, info.posts, low) for low in (True, False)}
        detector = LanguageDetector(
            languages=cfg.language.languages, min_letters=cfg.language.min_letters, low_accuracy=cfg.language.low_accuracy
        ).build()
        times = []
        for _ in range(3):
            t = time.perf_counter()
            out = detect_creator_languages(ds.creators, ds.posts, config=cfg.language, detector=detector)
            times.append(time.perf_counter() - t)
    found = out["language_source"].value_counts(dropna=False)
    detected = int(found.get("detected", 0))
    best = min(times)
    g, b = runs["given"].timings, runs["blank"].timings
    lines = [
        "# Language detection in the nightly batch",
        "",
        f"`benchmarks/language_detect.py --creators {args.creators}`: the seeded sample ({len(ds.creators)} accepted creators, "
        f"{len(ds.posts)} posts), Lingua over {len(cfg.language.languages)} languages, {cfg.language.sample_chars} characters "
        "of each creator's posts.",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, {ram_gib() or 0:.1f} GiB RAM, Python {platform.python_version()}; "
        f"load average at start {load} (a shared machine: compare rows of this run, not across runs).",
        "",
        "| run | ingest stage s | batch total s |",
        "|---|---:|---:|",
        f"| sample as generated, cold cache (reference) | {cold.timings['ingest_s']:.2f} | {cold.timings['total_s']:.2f} |",
        f"| sample as generated, warm cache (nothing to detect) | {g['ingest_s']:.2f} | {g['total_s']:.2f} |",
        f"| every language blank, warm cache (all detected) | {b['ingest_s']:.2f} | {b['total_s']:.2f} |",
        "",
        f"- Detection adds {b['ingest_s'] - g['ingest_s']:.2f} s to the ingest stage when every one of the "
        f"{len(ds.creators)} creators lacks a language: {100 * (b['ingest_s'] - g['ingest_s']) / cold.timings['total_s']:.1f}% "
        "of a cold batch on the sample. With languages given, as in the sample, it adds nothing.",
        f"- `detect_creator_languages` alone: best of 3 {best:.2f} s ({1000 * best / len(ds.creators):.2f} ms per creator; "
        f"runs {', '.join(f'{t:.2f}' for t in times)} s); {detected} of {len(ds.creators)} detected, the rest left blank.",
        f"- Detected: {', '.join(f'{k} {v}' for k, v in out['language'].value_counts(dropna=False).head(5).items())}.",
        *(
            f"- Resident memory of a fresh interpreter, {'low-accuracy (the default)' if low else 'high-accuracy'} mode: "
            f"{before:.0f} MiB before the detector, {after:.0f} MiB after it classified the sample "
            f"(+{after - before:.0f} MiB for Lingua's models of these languages)."
            for low, (before, after) in memory.items()
        ),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

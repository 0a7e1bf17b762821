"""Start-up time of the ``matcher`` command and of ``import matcher``, against references timed in the same run.

Every case runs in a fresh interpreter (a new subprocess each round, nothing imported beforehand),
the cases interleaved round by round because the machine is shared and noisy. The references:

- ``python -c pass``: the interpreter alone, the floor nothing can go under;
- ``python -c "import matcher.engine, matcher.batch"``: the whole pipeline (pandas, pyarrow, FAISS,
  the encoder's module), which is what ``import matcher`` and so ``matcher --help`` loaded while the
  package imported its public names eagerly.

Each figure is the median of the rounds, with the fastest and slowest; the table also says which of
the heavy libraries each case leaves unloaded (checked in a separate run of the same command).

    .venv/bin/python benchmarks/cli_startup.py [--rounds 15] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from hostinfo import cpu_model, ram_gib  # noqa: E402

# Startup must stay under this for `matcher --help` (seconds, median on this machine).
HELP_TARGET_S = 0.3
HEAVY = ("pandas", "pyarrow", "faiss", "torch", "sentence_transformers")


def machine() -> str:
    """CPU model, cores, memory and load of this machine (as the other benchmarks name it)."""
    gib = ram_gib()
    mem = "" if gib is None else f", {gib:.0f} GiB RAM"
    load = f", load average {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    return f"{cpu_model()}, {os.cpu_count()} cores{mem}{load}"


def cases(python: str) -> list[tuple[str, list[str], bool]]:
    """(label, command, is a reference) for every timed case."""
    script = Path(python).parent / "matcher"
    cli = [str(script)] if script.exists() else [python, "-m", "matcher.cli"]
    shown = "matcher" if script.exists() else "python -m matcher.cli"
    return [
        ("python -c pass (reference: the interpreter alone)", [python, "-c", "pass"], True),
        ('python -c "import matcher.engine, matcher.batch" (reference: the eager import)', [python, "-c", "import matcher.engine, matcher.batch"], True),
        ('python -c "import matcher"', [python, "-c", "import matcher"], False),
        (f"{shown} --help", [*cli, "--help"], False),
        (f"{shown} recommend --help", [*cli, "recommend", "--help"], False),
    ]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


def run_once(cmd: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return took


def heavy_loaded(cmd: Sequence[str], python: str, env: dict[str, str]) -> list[str]:
    """Which of HEAVY the command imports: re-run it under ``-X importtime`` and read the log."""
    if Path(cmd[0]).name == "matcher":  # the console script: run its entry point under the same flag
        cmd = [python, "-X", "importtime", "-c", "import sys; from matcher.cli import main; sys.argv[0] = 'matcher'; sys.exit(main())", *cmd[1:]]
    else:
        cmd = [cmd[0], "-X", "importtime", *cmd[1:]]
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, text=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return [h for h in HEAVY if h in names]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    host = machine()
    python = sys.executable
    env = environment()
    todo = cases(python)
    for _, cmd, _ in todo:  # warm the page cache and the bytecode caches; not timed
        run_once(cmd, env)
    times: dict[str, list[float]] = {label: [] for label, _, _ in todo}
    for _ in range(args.rounds):
        for label, cmd, _ in todo:
            times[label].append(run_once(cmd, env))
    floor = statistics.median(times[todo[0][0]])
    eager = statistics.median(times[todo[1][0]])
    rows = []
    for label, cmd, _ in todo:
        t = times[label]
        med = statistics.median(t)
        loaded = heavy_loaded(cmd, python, env)
        rows.append(
            f"| {label} | {med * 1000:.0f} | {min(t) * 1000:.0f} | {max(t) * 1000:.0f} | {(med - floor) * 1000:+.0f} "
            f"| {med / eager:.2f} | {', '.join(loaded) or 'none of them'} |"
        )
    help_label = todo[3][0]
    help_med = statistics.median(times[help_label])
    verdict = "meets" if help_med < HELP_TARGET_S else "misses"
    lines = [
        "# CLI start-up",
        "",
        f"Generated by `benchmarks/cli_startup.py` on {host}; the machine is shared with other work. "
        f"{args.rounds} rounds, each case a fresh process (wall time of the whole subprocess, exit included), "
        "the cases interleaved round by round after one untimed warm-up run each.",
        "",
        f"| case | median ms | min ms | max ms | over `python -c pass` ms | share of the eager import | of {', '.join(HEAVY)} it loads |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"`{help_label}`: median {help_med * 1000:.0f} ms, which {verdict} the {HELP_TARGET_S * 1000:.0f} ms target; "
        f"the eager import of the pipeline it used to pay for takes {eager * 1000:.0f} ms in the same run.",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "cli_startup.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

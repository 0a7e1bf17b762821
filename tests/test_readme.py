"""Figures the README quotes come from the committed benchmark results, verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_relevance_table_is_the_committed_held_out_table():
    readme = (ROOT / "README.md").read_text()
    results = (ROOT / "benchmarks" / "results" / "relevance.md").read_text()
    held_out = results.split("## Held-out halves\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert held_out[0].startswith("| system | nDCG@10")
    quoted = [line for line in readme.splitlines() if line.startswith("| ") and "nDCG@10 (95% interval)" in line]
    assert len(quoted) == 1, "the README quotes the held-out table once"
    start = readme.splitlines().index(quoted[0])
    assert readme.splitlines()[start : start + len(held_out)] == held_out

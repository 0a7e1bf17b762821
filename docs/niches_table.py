"""Write docs/niches.md from the taxonomy shipped in the package (matcher/niches.json).

Run from the repository root: ``python docs/niches_table.py``. A test checks the page matches.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matcher.config import NicheConfig  # noqa: E402
from matcher.niches import load_taxonomy  # noqa: E402


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The page's Markdown."""
    tax = load_taxonomy()
    defaults = NicheConfig()
    lines = [
        "# Niches",
        "",
        "matcher assigns every creator and every brief to niches of a content taxonomy. The taxonomy below",
        f"(**{tax.name} {tax.version}**, {len(tax.niches)} niches) is modelled on the {tax.based_on}.",
        "It ships with the package as `matcher/niches.json`; `matcher niches` and `GET /niches` list it.",
        "",
        "## How a niche is assigned",
        "",
        "- Each niche's *description* is embedded with the same encoder as the posts. A creator is compared",
        "  through the **mean of its own post vectors**, never its bio, so a bio stuffed with keywords cannot",
        "  buy a niche. A brief is compared through its own vector.",
        "- Confidence is a softmax over all niches of `cosine / temperature`: confidences sum to 1 across the",
        "  taxonomy, so 0.9 means the posts are far closer to that niche than to any other, and a creator",
        "  between two niches splits its confidence between them.",
        f"- A creator (or brief) gets the niches with confidence at least `niches.min_confidence`"
        f" ({defaults.min_confidence}), at most `niches.max_niches` ({defaults.max_niches}), best first. A creator without posts gets none.",
        "- Labelled examples (`matcher batch --niche-labels FILE`, a table of `creator_id, niche`) refine it:",
        "  the temperature is calibrated on them (least log loss), and a logistic regression learns every",
        f"  niche with at least `niches.min_label_examples` ({defaults.min_label_examples}) examples, taking the"
        f" `niches.label_weight` ({defaults.label_weight}) share of the confidence among the labelled niches.",
        "- Niches never change the ranking score. They are a filter (`Filters(niches=...)`, `--niche`,",
        "  `filters.niches`), a field of every match (`Match.niches`) and of every brand's brief, and",
        "  `matcher.niches.niche_agreement` scores how far a creator's niches agree with a brief's.",
        "",
        "## Settings",
        "",
        "| key | default |",
        "|---|---|",
    ]
    for f in fields(NicheConfig):
        value = getattr(defaults, f.name)
        lines.append(f"| `niches.{f.name}` | `{value!r}` |")
    lines += [
        "",
        "## The taxonomy",
        "",
        "| id | name | IAB tier-1 parent | description (embedded) |",
        "|---|---|---|---|",
    ]
    for n in tax.niches:
        lines.append(f"| `{n.id}` | {_cell(n.name)} | {_cell(n.iab_parent)} | {_cell(n.description)} |")
    lines += [
        "",
        "`tests/test_niches.py` pins how the 15 niches of the generated sample land in this taxonomy (each",
        "sample niche's creators get it as their top niche in the large majority of cases). Agreement with",
        "the YouTube categories of the real dev data is recorded in `benchmarks/results/niches_dev.md`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    out = ROOT / "docs" / "niches.md"
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")

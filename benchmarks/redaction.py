"""Recall and false positives of contact redaction on the labelled strings in tests/data/contacts.tsv.

Each row is a real-looking bio or caption line: a contact detail of one of many shapes (emails
plain, spaced, spelled out or bracketed; phone numbers North American, international, national with
a trunk 0; WhatsApp/Telegram/Messenger links) or a hard negative (prices, dates, years, follower
counts, discount codes, order numbers, ISBNs, times, scores, version numbers, ...).

- recall: share of contact rows whose secret is gone from the redacted text (for a phone number,
  its digit string is gone from the text's digits);
- false-positive rate: share of negative rows the redaction changed at all.

The shipped settings are compared, in the same run, with the alternatives they were chosen over:
libphonenumber's VALID leniency, no id-label check, no trunk regions.

    python benchmarks/redaction.py            # writes benchmarks/results/redaction.md
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostinfo import cpu_model, ram_gib  # noqa: E402

from matcher.text import MIN_NATIONAL_DIGITS, PHONE_LENIENCY, PHONE_REGION, TRUNK_REGIONS, contact_details  # noqa: E402

DATA = ROOT / "tests" / "data" / "contacts.tsv"

VARIANTS: dict[str, dict] = {
    "shipped": {},
    "leniency VALID": {"leniency": "VALID"},
    "no id-label check": {"id_labels": False},
    "no trunk regions": {"trunk_regions": ()},
}


def load(path: Path = DATA) -> list[dict[str, str]]:
    """The labelled rows: contact (1/0), kind, text, secret."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def caught(row: dict[str, str], redacted: str) -> bool:
    """True when the row's secret no longer appears in ``redacted``."""
    secret = row["secret"]
    if secret.isdigit():
        return secret not in re.sub(r"\D", "", redacted)
    return secret.lower() not in redacted.lower()


def measure(rows: list[dict[str, str]], **options) -> dict:
    """Recall, false-positive rate, the rows each missed or wrongly changed, and per-kind counts."""
    hits = fps = npos = nneg = 0
    missed, wrong = [], []
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    t0 = time.perf_counter()
    for row in rows:
        out = contact_details(row["text"], **options).text
        if row["contact"] == "1":
            npos += 1
            ok = caught(row, out)
            hits += ok
            by_kind[row["kind"]][0] += ok
            by_kind[row["kind"]][1] += 1
            if not ok:
                missed.append(row["text"])
        else:
            nneg += 1
            changed = out != row["text"]
            fps += changed
            if changed:
                wrong.append(f"{row['text']} -> {out}")
    took = time.perf_counter() - t0
    return {
        "recall": hits / npos, "fp_rate": fps / nneg, "positives": npos, "negatives": nneg, "hits": hits, "fps": fps,
        "missed": missed, "wrong": wrong, "by_kind": dict(by_kind), "ms_per_text": 1000 * took / len(rows),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "redaction.md")
    args = p.parse_args(argv)
    rows = load()
    results = {name: measure(rows, **opts) for name, opts in VARIANTS.items()}
    ship = results["shipped"]
    ram = ram_gib()
    lines = [
        "# Contact redaction: recall and false positives",
        "",
        f"Data: `tests/data/contacts.tsv`, {ship['positives']} strings holding a contact detail and "
        f"{ship['negatives']} hard negatives. Machine: {cpu_model()}"
        + (f", {ram:.0f} GiB RAM" if ram else "") + ". Rerun with `python benchmarks/redaction.py`.",
        "",
        f"Shipped settings: phone region `{PHONE_REGION}`, trunk regions `{', '.join(TRUNK_REGIONS)}`, libphonenumber leniency "
        f"`{PHONE_LENIENCY}`, national numbers of at least {MIN_NATIONAL_DIGITS} digits, numbers after an id label "
        "(`#`, order, ISBN, SKU, ...) skipped.",
        "",
        "| settings | recall | contacts caught | false-positive rate | negatives changed | ms per text |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['recall']:.3f} | {r['hits']}/{r['positives']} | {r['fp_rate']:.3f} | {r['fps']}/{r['negatives']} | {r['ms_per_text']:.2f} |"
        )
    lines += ["", "Recall of the shipped settings by kind of contact:", "", "| kind | caught |", "|---|---:|"]
    for kind, (h, n) in sorted(ship["by_kind"].items()):
        lines.append(f"| {kind} | {h}/{n} |")
    lines += ["", "Contacts the shipped settings miss:", ""]
    lines += [f"- `{t}`" for t in ship["missed"]] or ["- none"]
    lines += ["", "Negatives the shipped settings change:", ""]
    lines += [f"- `{t}`" for t in ship["wrong"]] or ["- none"]
    for name in ("leniency VALID", "no id-label check", "no trunk regions"):
        r = results[name]
        extra_missed = sorted(set(r["missed"]) - set(ship["missed"]))
        extra_wrong = sorted(set(r["wrong"]) - set(ship["wrong"]))
        lines += ["", f"`{name}` instead: {len(extra_missed)} more contacts missed, {len(extra_wrong)} more negatives changed"]
        lines += [f"- missed `{t}`" for t in extra_missed[:8]] + [f"- changed `{t}`" for t in extra_wrong[:8]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

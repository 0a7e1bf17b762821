"""Command line: matcher batch | recommend | matches | export | sample."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.errors import MatcherError

__all__ = ["main"]

logger = logging.getLogger("matcher")


def _config(args: argparse.Namespace):
    from matcher.config import Config

    return Config.load(args.config)


def _cmd_batch(args: argparse.Namespace) -> int:
    from matcher.batch import run_batch

    res = run_batch(args.creators, args.posts, args.brands, args.store, config=_config(args), progress=not args.quiet)
    for name, c in res.counts.items():
        print(f"{name}: read {c['read']}, accepted {c['accepted']}, quarantined {c['quarantined']} ({c['duplicates']} duplicate ids)")
    print(f"encoded {res.encoded} new texts; stored {res.matches} matches")
    print(f"published snapshot {res.snapshot_id} in {res.store}")
    if res.quarantine_path is not None and any(c["quarantined"] for c in res.counts.values()):
        print(f"quarantined rows and reasons: {res.quarantine_path}")
    return 0


def _filters(args: argparse.Namespace):
    from matcher.schema import Filters

    return Filters(
        min_followers=args.min_followers,
        max_followers=args.max_followers,
        countries=tuple(args.country or ()),
        languages=tuple(args.language or ()),
        platforms=tuple(args.platform or ()),
        exclude_creators=tuple(args.exclude or ()),
        allow_unknown_followers=args.allow_unknown_followers,
    )


def _cmd_recommend(args: argparse.Namespace) -> int:
    from matcher.engine import Matcher

    try:
        flt = _filters(args)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    m = Matcher(args.store, config=_config(args)).load()
    try:
        matches = m.recommend(args.brief, args.k, filters=flt)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    if args.json:
        json.dump({"snapshot_id": m.snapshot_id, "matches": [x.to_dict() for x in matches]}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    if not matches:
        print("no creator passes these filters")
    for x in matches:
        followers = f"{x.followers:,}" if x.followers is not None else "n/a"
        print(f"{x.rank:>3}. {x.handle or x.creator_id} ({x.platform}, {followers} followers)  score {x.score:.3f}")
        print(f"     {x.why}")
    return 0


def _cmd_matches(args: argparse.Namespace) -> int:
    from matcher.store import Store

    st = Store(args.store)
    frame = st.read_matches()
    snap = st.load()
    handles = dict(zip(snap.creators["creator_id"].astype(str), snap.creators["handle"].astype(str)))
    names = dict(zip(snap.brands["brand_id"].astype(str), snap.brands["name"].astype(str))) if len(snap.brands) else {}
    brands = args.brand or sorted(frame["brand_id"].unique().tolist())[: args.brands]
    for b in brands:
        rows = frame[frame["brand_id"] == b].head(args.k)
        if rows.empty:
            raise MatcherError(f"brand '{b}' has no stored matches in {args.store}; check the brand id ('matcher matches' lists them)")
        print(f"\n{b}  {names.get(b, '')}")
        for r in rows.itertuples():
            print(f"{r.rank:>3}. {handles.get(r.creator_id, r.creator_id)}  score {r.score:.3f}")
            print(f"     {r.why}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from matcher.store import Store

    frame = Store(args.store).read_matches().drop(columns=["why"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, float_format="%.6f")
    print(f"wrote {len(frame)} rows to {out}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from matcher.sample import generate

    info = generate(args.out, seed=args.seed, n_creators=args.creators, n_brands=args.brands, fmt=args.format)
    print(f"wrote {info.n_creators} creators, {info.n_posts} posts, {info.n_brands} brands to {info.directory}")
    return 0


class _UsageError(MatcherError, ValueError):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``matcher`` command."""
    p = argparse.ArgumentParser(prog="matcher", description="Find the creators whose own content fits a brand, ranked by engagement and trust.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("--config", type=Path, help="TOML file of settings (MATCHER_* variables override it)")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("batch", help="ingest, embed, index and store the top matches for every brand")
    b.add_argument("--creators", required=True, type=Path)
    b.add_argument("--posts", required=True, type=Path)
    b.add_argument("--brands", required=True, type=Path)
    b.add_argument("--store", required=True, type=Path)
    b.set_defaults(func=_cmd_batch)

    r = sub.add_parser("recommend", help="rank creators for a brief from the published snapshot")
    r.add_argument("brief", help="product description or brief")
    r.add_argument("--store", required=True, type=Path)
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--json", action="store_true", help="print matches as JSON")
    r.add_argument("--min-followers", type=int)
    r.add_argument("--max-followers", type=int)
    r.add_argument("--allow-unknown-followers", action="store_true", help="let creators with no follower count pass a follower range")
    r.add_argument("--country", action="append", help="ISO country code (repeatable)")
    r.add_argument("--language", action="append", help="ISO language code (repeatable)")
    r.add_argument("--platform", action="append", help="instagram, tiktok, youtube, ... (repeatable)")
    r.add_argument("--exclude", action="append", help="creator id to leave out (repeatable)")
    r.set_defaults(func=_cmd_recommend)

    m = sub.add_parser("matches", help="show the batch's stored matches for brands")
    m.add_argument("--store", required=True, type=Path)
    m.add_argument("--brand", action="append", help="brand id (repeatable); default: the first --brands brands")
    m.add_argument("--brands", type=int, default=3)
    m.add_argument("--k", type=int, default=5)
    m.set_defaults(func=_cmd_matches)

    e = sub.add_parser("export", help="write the stored matches as CSV")
    e.add_argument("--store", required=True, type=Path)
    e.add_argument("--out", required=True, type=Path)
    e.set_defaults(func=_cmd_export)

    s = sub.add_parser("sample", help="generate the seeded sample dataset")
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--creators", type=int, default=2000)
    s.add_argument("--brands", type=int, default=30)
    s.add_argument("--format", choices=("csv", "jsonl", "parquet"), default="csv")
    s.set_defaults(func=_cmd_sample)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``matcher`` command; returns the exit code (0 ok, 2 bad input or usage, 1 other failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except MatcherError as exc:
        print(f"matcher: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("matcher: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Command line: matcher batch | recommend | shortlist | matches | export | sample | serve | runs | rollback | forget | eval | niches."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.errors import ConfigError, MatcherError

if TYPE_CHECKING:
    from matcher.config import Config

__all__ = ["main"]

logger = logging.getLogger("matcher")


def _path_or_url(value: str) -> Path | str:
    """A ``--store`` or input file value: a URL (``s3://bucket/prefix``) as given, else a path."""
    from matcher.fetch import is_url

    return value if is_url(value) else Path(value)


def _open_store(args: argparse.Namespace) -> None:
    """Replace ``args.store`` (a path or URL) by the :class:`~matcher.store.Store` it names, with its
    ``--work-dir`` and its run-state database (``--db`` or ``$MATCHER_DB``)."""
    if getattr(args, "store", None) is not None:
        from matcher.store import Store

        args.store = Store(args.store, work_dir=getattr(args, "work_dir", None), db=_db(args))


def _config(args: argparse.Namespace):
    from matcher.config import Config

    return Config.load(args.config)


def _db(args: argparse.Namespace) -> str | None:
    """The run-state database: --db, else $MATCHER_DB, else None (the store's own SQLite file)."""
    from matcher.store import DB_ENV

    return getattr(args, "db", None) or os.environ.get(DB_ENV) or None


def _engine(args: argparse.Namespace) -> dict[str, object]:
    """run_batch's engine arguments from --engine, --address and --actors."""
    if args.engine == "local":
        if args.address is not None or args.actors is not None:
            raise _UsageError("--address and --actors go with --engine ray")
        return {}
    if args.actors is None:
        return {"engine": "ray", "ray_address": args.address}
    from matcher.distributed import RayStages

    return {"engine": RayStages(address=args.address, actors=args.actors)}


def _cmd_batch(args: argparse.Namespace) -> int:
    from matcher.batch import run_batch
    from matcher.store import StoreWriteError

    try:
        res = run_batch(
            args.creators, args.posts, args.brands, args.store, comments=args.comments, niche_labels=args.niche_labels,
            config=_config(args), progress=not args.quiet, db=_db(args), **_engine(args),
        )
    except StoreWriteError as exc:  # not bad input: the machine (disk, permissions) failed
        print(f"matcher: error: {exc}", file=sys.stderr)
        return 1
    for name, c in res.counts.items():
        erased = f", left out {c['suppressed']} of erased creators" if c.get("suppressed") else ""
        blanked = f", left {c['blanked']} unreadable optional values blank" if c.get("blanked") else ""
        print(f"{name}: read {c['read']}, accepted {c['accepted']}, quarantined {c['quarantined']} ({c['duplicates']} duplicate ids){blanked}{erased}")
    if res.resumed:
        print(f"resumed an interrupted run: took {', '.join(res.resumed)} from its checkpoints")
    print(f"encoded {res.encoded} new texts; index {res.index_build}; stored {res.matches} matches")
    if res.niches:
        n = res.niches
        learned = f"; learned {len(n['learned'])} niches from {n['labels']} labelled creators" if n.get("learned") else ""
        print(f"niches ({n['taxonomy']}): {n['creators_with_niche']} of {res.counts['creators']['accepted']} creators assigned{learned}")
    print("audit passed: " + "; ".join(c["detail"] for c in res.audit.get("checks", [])))
    print(f"published snapshot {res.snapshot_id} in {res.store}")
    if res.quarantine_path is not None and any(c["quarantined"] or c.get("blanked") for c in res.counts.values()):
        print(f"quarantined rows, blanked values and reasons: {res.quarantine_path}")
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
        include_brand_accounts=args.include_brand_accounts,
        min_trust=args.min_trust,
        niches=tuple(args.niche or ()),
        mentions=tuple(args.mention or ()),
    )


def _cmd_recommend(args: argparse.Namespace) -> int:
    from matcher.engine import Matcher
    from matcher.rerank import worked_with
    from matcher.request import validate_request

    try:
        flt = _filters(args)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    # The rules of recommend() and the HTTP API, checked before the model is loaded.
    req = validate_request(args.brief, k=args.k, filters=flt, diversity=args.diversity, like=args.like, unlike=args.unlike)
    m = Matcher(args.store, config=_config(args)).load()
    try:
        matches = m.recommend(req.brief, req.k, like=req.like, unlike=req.unlike, filters=req.filters, diversity=req.diversity)
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
        print(f"{x.rank:>3}. {x.handle or x.creator_id} ({x.platform}, {followers} followers)  score {x.score:.3f}" + ("  (weak match)" if x.weak else ""))
        if x.niches:
            print("     niches: " + ", ".join(f"{n.niche_id} {n.confidence:.2f}" for n in x.niches))
        print(f"     {x.why}")
        if x.collaborations:
            print(f"     worked with: {worked_with(x.collaborations)}")
        print(f"     {_plan_line(x.price, x.trust_confidence)}")
    return 0


def _filter_options(p: argparse.ArgumentParser) -> None:
    """The filter options of 'matcher recommend' and 'matcher shortlist' (read by :func:`_filters`)."""
    p.add_argument("--min-followers", type=int, help="leave out creators with fewer followers")
    p.add_argument("--max-followers", type=int, help="leave out creators with more followers")
    p.add_argument("--allow-unknown-followers", action="store_true", help="let creators with no follower count pass a follower range")
    p.add_argument("--country", action="append", help="country code or name: US, usa, \"United States\" (repeatable)")
    p.add_argument("--language", action="append", help="language code or name: en, English; matches detected languages too (repeatable)")
    p.add_argument("--platform", action="append", help="instagram, tiktok, youtube, ... (repeatable)")
    p.add_argument("--exclude", action="append", help="creator id to leave out (repeatable)")
    p.add_argument("--include-brand-accounts", action="store_true", help="let accounts recognised as brands be returned")
    p.add_argument("--min-trust", type=float, help="only creators with a trust score at least this (0..1)")
    p.add_argument("--niche", action="append", help="only creators assigned this niche id (repeatable: any of them; 'matcher niches' lists the ids)")
    p.add_argument("--mention", action="append", metavar="NAME", help="only creators with a post naming this brand or category, in any case, spacing, @handle or #hashtag (repeatable: any of them)")


def _cmd_shortlist(args: argparse.Namespace) -> int:
    from matcher.engine import Matcher
    from matcher.request import check_budget, check_max_overlap, validate_request

    try:
        flt = _filters(args)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    if (args.brief is None) == (args.brand is None):
        raise _UsageError("give either a brief or --brand BRAND_ID")
    if args.brief is not None:
        validate_request(args.brief, k=args.k or 1, filters=flt)
    if args.budget is not None:
        check_budget(args.budget)
    check_max_overlap(args.max_overlap)
    m = Matcher(args.store, config=_config(args)).load()
    brief = m.brand(args.brand) if args.brand is not None else args.brief
    budget = args.budget if args.budget is not None else getattr(brief, "budget", None)
    if budget is None:
        raise _UsageError(f"brand {args.brand} has no budget in the brands file; give --budget")
    try:
        result = m.shortlist(brief, budget=budget, max_overlap=args.max_overlap, k=args.k, filters=flt)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    if args.json:
        json.dump({"snapshot_id": m.snapshot_id, "shortlist": result.to_dict()}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    print(result.why + f" ({result.method})")
    for i, p in enumerate(result.picks, 1):
        x = p.match
        followers = f"{x.followers:,}" if x.followers is not None else "n/a"
        print(f"{i:>3}. {x.handle or x.creator_id} ({x.platform}, {followers} followers)")
        print(f"     {p.why}")
    a = result.audience
    if len(result.picks) > 1:
        shared = [f"{q.a}–{q.b} {q.jaccard:.2f}" for q in a.pairs if q.jaccard]
        measured = sum(q.jaccard is not None for q in a.pairs)
        print(
            f"audience overlap: {measured} of {len(a.pairs)} pairs measured, "
            + (f"shared by {', '.join(shared)}" if shared else "none shares a commenter")
            + (f"; unknown for {', '.join(a.unknown)} (too few commenters)" if a.unknown else "")
        )
    for x in result.left_out:
        print(f"  left out {x.creator_id} (rank {x.rank}): {x.reason}")
    return 0


def _plan_line(price: Any, confidence: Any) -> str:
    """The price range with its basis and how sure the trust figure is, as one line."""
    from matcher.prices import price_text

    money = f"price {price_text(price.low, price.high)} ({price.basis})" if price is not None else "price unknown (no follower count)"
    if confidence is None:
        return money
    comments = "no comments table" if confidence.comments is None else f"{confidence.comments} comments"
    days = "undated" if confidence.days is None else f"{confidence.days} days"
    return f"{money}; trust confidence {confidence.level} ({confidence.posts} posts, {comments}, {days})"


def _cmd_niches(args: argparse.Namespace) -> int:
    from matcher.niches import load_taxonomy

    if args.store is not None:
        model = args.store.load().niche_model
        if model is None:
            raise MatcherError(f"the snapshot served from {args.store} has no niches; run 'matcher batch' again")
        taxonomy = model.taxonomy_
    else:
        taxonomy = load_taxonomy(_config(args).niches.taxonomy)
    if args.json:
        json.dump(taxonomy.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    print(f"{taxonomy.name} {taxonomy.version}: {len(taxonomy.niches)} niches")
    width = max(len(n.id) for n in taxonomy.niches)
    for n in taxonomy.niches:
        print(f"{n.id:<{width}}  {n.name} ({n.iab_parent})")
        if args.verbose_descriptions:
            print(f"{'':<{width}}  {n.description}")
    return 0


def _cmd_matches(args: argparse.Namespace) -> int:
    from matcher.prices import creator_plan, price_text

    st = args.store
    snap = st.served()
    frame = st.read_matches(snap.snapshot_id)
    handles = dict(zip(snap.creators["creator_id"].astype(str), snap.creators["handle"].astype(str)))
    names = dict(zip(snap.brands["brand_id"].astype(str), snap.brands["name"].astype(str))) if len(snap.brands) else {}
    brands = args.brand or sorted(frame["brand_id"].unique().tolist())[: args.brands]
    brief_niches = snap.brand_niches
    for b in brands:
        rows = frame[frame["brand_id"] == b].head(args.k)
        if rows.empty:
            raise MatcherError(_no_matches_message(b, args.store, names, frame["brand_id"].astype(str).unique().tolist()))
        print(f"\n{b}  {names.get(b, '')}")
        if brief_niches is not None:
            mine = brief_niches[brief_niches["brand_id"] == b].sort_values("rank")
            if len(mine):
                print("     brief niches: " + ", ".join(f"{n} {c:.2f}" for n, c in zip(mine["niche_id"], mine["confidence"])))
        plan = creator_plan(snap.signals)
        for r in rows.itertuples():
            print(f"{r.rank:>3}. {handles.get(r.creator_id, r.creator_id)}  score {r.score:.3f}" + ("  (weak match)" if r.weak else ""))
            print(f"     {r.why}")
            if r.creator_id in plan.index:
                p = plan.loc[r.creator_id]
                print(f"     price {price_text(p['price_low'], p['price_high'])}" + (f" ({p['price_basis']})" if isinstance(p["price_basis"], str) else "")
                      + (f"; trust confidence {p['trust_confidence']}" if isinstance(p["trust_confidence"], str) else ""))
    return 0


def _no_matches_message(brand: str, store: Path, names: dict[str, str], with_matches: list[str]) -> str:
    """Why ``brand`` shows nothing, and how to see the brand ids that do have matches."""
    ids = sorted(with_matches)
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    see = f"'matcher matches --store {store} --brands {len(ids)}' shows them all, 'matcher export' writes them to CSV"
    if brand in names:
        return f"brand '{brand}' is in the published snapshot but has no stored matches (no creator passed its filters); {see}"
    return f"brand '{brand}' is not in the published snapshot of {store}; {len(ids)} brand(s) have matches ({shown}): {see}"


def _cmd_export(args: argparse.Namespace) -> int:
    from matcher.rerank import worked_with_column
    from matcher.text import spreadsheet_safe_frame

    st = args.store
    sid = st.resolve()
    frame = st.read_matches(sid).drop(columns=["why"])
    frame.insert(frame.columns.get_loc("weak") + 1, "worked_with", worked_with_column(st.read_collaborations(sid), frame["creator_id"]))
    # Each creator's price range and how sure its trust figure is, from the snapshot's per-creator table.
    frame = frame.merge(st.creator_plan(sid), how="left", left_on="creator_id", right_index=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Ids come from the input files: a creator id such as "=HYPERLINK(...)" must stay text in a spreadsheet.
    spreadsheet_safe_frame(frame).to_csv(out, index=False, float_format="%.6f")
    print(f"wrote {len(frame)} rows to {out}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from matcher.sample import generate

    info = generate(
        args.out, seed=args.seed, n_creators=args.creators, n_brands=args.brands, fmt=args.format,
        comments=not args.no_comments, outcomes=not args.no_outcomes,
    )
    print(
        f"wrote {info.n_creators} creators, {info.n_posts} posts, {info.n_brands} brands, {info.n_comments} comments "
        f"and {info.n_outcomes} campaign outcomes to {info.directory}"
    )
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from matcher.serve import serve

    if not 0 <= args.port <= 65535:
        raise _UsageError(f"--port is {args.port}; give a TCP port between 0 and 65535")
    if not args.timeout > 0:
        raise _UsageError(f"--timeout is {args.timeout}; give the request deadline in seconds, > 0")
    serve(args.store, host=args.host, port=args.port, config=_config(args), timeout_s=args.timeout, log_level="warning" if args.quiet else "info", db=_db(args))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from matcher.ingest import load_outcomes

    cfg = _config(args)
    frame, rejections, report = load_outcomes(args.outcomes)
    if rejections:
        blanked = f", left {report.blanked} unreadable dates or prices blank" if report.blanked else ""
        print(f"outcomes: read {report.read}, accepted {report.accepted}, quarantined {report.quarantined}{blanked}")
        for r in rejections[:10]:
            print(f"  {r.file}: row {r.row}: {r.action}: {r.reason}")
    store = args.store
    snap = store.load()
    has_prices = bool(frame["price"].gt(0).any())
    if args.prices_only and not has_prices:
        raise MatcherError(f"{args.outcomes}: no row has a price above 0; add a 'price' column (USD paid per post) to calibrate the price estimates")
    trained = None if args.prices_only else _train_weights(args, cfg, snap, frame)
    calibration = _train_prices(args, cfg, snap, frame) if has_prices else None
    if args.dry_run:
        return 0
    # Under the store's lock: a batch run reads the weights and the calibration into its checkpoint key.
    with store.lock("matcher train"):
        if trained is not None:
            from matcher.rerank import WEIGHTS_FILE, save_weights

            path = save_weights(store.root / WEIGHTS_FILE, trained)
            print(f"wrote {path}; recommend() and the next batch use these weights (delete the file to return to the defaults)")
        if calibration is not None:
            path = calibration.save(store.root)
            print(f"wrote {path}; recommend() and the next batch price creators with it (delete it and its manifest to return to the published rates)")
    return 0


def _train_weights(args: argparse.Namespace, cfg: Config, snap: Any, frame: Any) -> dict[str, Any]:
    from matcher.embed import Encoder
    from matcher.rerank import Reranker, train_weights

    trained = train_weights(
        snap,
        Encoder(cfg.embed).load(),
        frame,
        reranker=Reranker.from_config(cfg),
        test_size=args.test_size,
        seed=args.seed,
        max_text_chars=cfg.max_text_chars,
    )
    v = trained["validation"]
    print(f"trained on {trained['rows']['train']} outcomes ({trained['brands']['train']} brands), validated on {trained['rows']['test']} ({trained['brands']['test']} held-out brands)")
    print("learned weights: " + ", ".join(f"{k} {w:.3f}" for k, w in trained["weights"].items()))
    print(f"held-out nDCG@10: learned {v['ndcg@10_learned']:.4f} vs default {v['ndcg@10_default']:.4f}; "
          f"Spearman: learned {v['spearman_learned']:.4f} vs default {v['spearman_default']:.4f}")
    return trained


def _train_prices(args: argparse.Namespace, cfg: Config, snap: Any, frame: Any) -> Any:
    """Calibrate the price estimates on the outcomes' prices, reporting held-out prices first."""
    from matcher.prices import PriceCalibration, price_inputs, validate_calibration

    table = price_inputs(snap.creators, snap.signals)
    try:
        v = validate_calibration(table, frame, config=cfg.prices, test_size=args.test_size, seed=args.seed)
    except ConfigError as exc:
        print(f"prices: not validated ({exc})")
    else:
        p, c = v["prior"], v["calibrated"]
        print(f"prices: calibrated on {v['train']}, checked on {v['test']} held-out prices of other creators "
              f"(target: {100 * v['interval']:.0f}% inside the range)")
        print(f"  inside the range: published rates {100 * p['coverage']:.1f}%, calibrated {100 * c['coverage']:.1f}%; "
              f"median |log error|: {p['median_abs_log_error']:.3f} vs {c['median_abs_log_error']:.3f}")
    calibration = PriceCalibration(config=cfg.prices).fit(table, frame)
    print(f"price calibration: {calibration.n_prices_} prices over {', '.join(f'{k} {f.n}' for k, f in calibration.platforms_.items()) or 'no platform'}"
          + (f" ({calibration.skipped_} skipped: creator not in the store, no follower count or a price of 0)" if calibration.skipped_ else ""))
    return calibration


def _cmd_runs(args: argparse.Namespace) -> int:
    st = args.store
    rows = st.runs(args.limit)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    try:
        current = st.current_id()
    except MatcherError:
        current = None
    if not rows:
        print(f"no runs recorded in {args.store}")
    for r in rows:
        d = r["details"]
        counts = d.get("counts") or {}
        seen = ", ".join(f"{t} {c.get('accepted')}/{c.get('read')}" for t, c in counts.items())
        took = (d.get("timings") or {}).get("total_s")
        mark = " (current)" if r["snapshot_id"] and r["snapshot_id"] == current else ""
        line = f"{r['run_id']}  {r['status']:<12} {r['started_at']} -> {r['finished_at'] or '…'}  snapshot {r['snapshot_id'] or '-'}{mark}"
        print(line)
        if seen:
            print(f"    accepted/read: {seen}; encoded {d.get('encoded', 0)}; matches {d.get('matches', 0)}; index {d.get('index_build', '?')}"
                  + (f"; {took:.1f} s" if isinstance(took, (int, float)) else "")
                  + (f"; resumed {', '.join(d['resumed'])}" if d.get("resumed") else ""))
        if d.get("error"):
            print(f"    error: {d['error']}")
        if r["status"] == "rollback":
            print(f"    rolled back from {d.get('from')} to {d.get('to')}")
        if r["status"] == "forget":
            print(f"    erased {d.get('found')} of {d.get('requested')} creator(s); rewrote {len(d.get('rewritten') or {})} snapshot(s)")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    if args.list:
        st = args.store
        current = st.current_id()
        for sid in reversed(st.published_ids()):
            m = st.read_manifest(sid)
            counts = m.get("counts", {})
            print(f"{sid}{' (current)' if sid == current else ''}  created {m.get('created_at')}  "
                  f"{counts.get('creators')} creators, {counts.get('matches')} matches")
        return 0
    previous, now = args.store.rollback(args.to)
    if previous == now:
        print(f"snapshot {now} is already the published one")
    else:
        print(f"rolled back from snapshot {previous} to {now}")
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    from matcher.erasure import forget

    res = forget(args.store, args.creator_ids, db=_db(args))
    print(f"erased {res.found} of {res.requested} creator(s): rewrote {len(res.rewritten)} snapshot(s), "
          f"deleted {len(res.removed)} unpublished one(s) and {res.cache_entries} cached vector(s)")
    if res.missing:
        print(f"no creator in any snapshot has the id(s) {', '.join(res.missing)} (already erased, or mistyped: check the id)")
    if res.current:
        print(f"published snapshot is now {res.current}")
    print("they stay on the suppression list: later batch runs leave them out even if the input files still hold them")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from matcher.evaluate import LABELS, evaluate, evaluate_store, read_qrels, read_run, results_table

    if args.store is None and not args.run:
        raise _UsageError("give --store (score the batch's stored matches) and/or --run FILE")
    qrels = read_qrels(args.qrels)
    results = {}
    universe = None
    if args.store is not None:
        snap = args.store.load(args.snapshot)  # without --snapshot: the served one
        sid = snap.snapshot_id
        results[f"stored matches ({sid})"] = evaluate_store(args.store, qrels, snapshot_id=sid, rel=args.rel)
        universe = snap.creators["creator_id"].astype(str).tolist()
    for path in args.run or ():
        results[str(path)] = evaluate(read_run(path), qrels, universe=universe, rel=args.rel)
    if args.json:
        # Named as in the table: the mean of RR over brands is MRR.
        out = {name: {"queries": r.n_queries, **{LABELS.get(m, m): v for m, v in r.aggregate.items()}} for name, r in results.items()}
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    n = next(iter(results.values())).n_queries
    print(f"{n} brands with at least one creator of grade >= {args.rel}")
    print(results_table(results))
    return 0


class _UsageError(MatcherError, ValueError):
    pass


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to an option's help unless it has no default (None, False) or its help says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS or "default" in text:
            return text
        return super()._get_help_string(action)


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # The subcommands take these too ("matcher batch ... -q"); their copies default to SUPPRESS so
    # that, when not given after the command, they leave the value given before it alone.
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("-v", "--verbose", action="count", default=default(0), help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", default=default(False), help="no progress bars")
    parser.add_argument(
        "--config", type=Path, default=default(None),
        help="TOML file of settings (MATCHER_* environment variables override it; without it, the built-in defaults)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``matcher`` command."""
    p = argparse.ArgumentParser(
        prog="matcher", description="Find the creators whose own content fits a brand, ranked by engagement and trust.",
        formatter_class=_HelpFormatter,
    )
    _global_options(p, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text[:1].upper() + text[1:] + ".", parents=[common], formatter_class=_HelpFormatter)

    store_read = "store directory (or URL, e.g. s3://bucket/prefix) written by 'matcher batch' (its published snapshot is read)"

    def db_option(parser: argparse.ArgumentParser, what: str) -> None:
        parser.add_argument(
            "--db", metavar="URL",
            help=f"PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE) of the run state shared by several machines: {what} "
            "(default: $MATCHER_DB; without either, the store's own SQLite file)",
        )

    b = command("batch", "ingest, embed, index and store the top matches for every brand")
    b.add_argument("--creators", required=True, type=_path_or_url, help="creators table, a path or URL (s3://bucket/creators.csv; .csv, .csv.gz, .jsonl, .ndjson or .parquet; or a folder of part files, a URL ending in /): creator_id, handle, platform, bio, followers, ...")
    b.add_argument("--posts", required=True, type=_path_or_url, help="posts table: post_id, creator_id, text, posted_at, likes, comments, views, shares, sponsored")
    b.add_argument("--brands", required=True, type=_path_or_url, help="brands table: brand_id, name, description and optional filters (countries, languages, follower band, ...)")
    b.add_argument("--comments", type=_path_or_url, help="optional comments table (enables the conversation signal)")
    b.add_argument("--niche-labels", type=_path_or_url, help="optional table of creator_id, niche examples that refine the niche assignment")
    b.add_argument("--store", required=True, type=_path_or_url, help="store directory to publish the new snapshot in (created if missing; its embedding cache is reused), or a URL such as s3://bucket/prefix")
    db_option(b, "the run history and suppression list are read and written there, and the published matches copied there")
    b.add_argument("--engine", choices=("local", "ray"), default="local", help="where the heavy steps run: this process (default) or a Ray cluster (pip install 'matcher[ray]'); the snapshot is the same")
    b.add_argument("--address", help="with --engine ray: the Ray cluster to join ('auto': the one 'ray start' runs here); default: start Ray on this machine for the run")
    b.add_argument("--actors", type=int, help="with --engine ray: encoding actors (default: the cluster's CPUs less one)")
    b.set_defaults(func=_cmd_batch)

    r = command("recommend", "rank creators for a brief, or creators like given ones, from the published snapshot")
    r.add_argument("brief", nargs="?", default=None, help="product description or brief (optional with --like)")
    r.add_argument("--like", action="append", metavar="CREATOR_ID", help="creator id whose content the matches should resemble (repeatable; never returned)")
    r.add_argument("--unlike", action="append", metavar="CREATOR_ID", help="creator id whose content the matches should not resemble (repeatable; never returned)")
    r.add_argument("--store", required=True, type=_path_or_url, help=store_read)
    r.add_argument("--k", type=int, default=10, help="number of creators to return")
    r.add_argument("--json", action="store_true", help="print matches as JSON")
    _filter_options(r)
    r.add_argument("--diversity", type=float, default=0.0, help="0 (off) to 1: variety among the top k (MMR)")
    r.set_defaults(func=_cmd_recommend)

    sl = command("shortlist", "pick the creators worth most for a brand or brief within a budget")
    sl.add_argument("brief", nargs="?", default=None, help="product description or brief (or give --brand)")
    sl.add_argument("--brand", help="brand id of the served snapshot: its description and filters are the brief (and its budget the default)")
    sl.add_argument("--budget", type=float, help="the most the set may cost, in the price estimates' currency (default: the brand's budget)")
    sl.add_argument("--max-overlap", type=float, help="no two picks whose audience overlap (Jaccard of commenters, 0..1) is known to be above this")
    sl.add_argument("--store", required=True, type=Path, help=store_read)
    sl.add_argument("--k", type=int, help="best matches to pick from (default: shortlist.candidates)")
    sl.add_argument("--json", action="store_true", help="print the shortlist as JSON")
    _filter_options(sl)
    sl.set_defaults(func=_cmd_shortlist)

    m = command("matches", "show the batch's stored matches for brands")
    m.add_argument("--store", required=True, type=_path_or_url, help=store_read)
    m.add_argument("--brand", action="append", help="brand id (repeatable); without it, the first --brands brands by id")
    m.add_argument("--brands", type=int, default=3, help="how many brands to show when no --brand is given")
    m.add_argument("--k", type=int, default=5, help="matches to show per brand")
    db_option(m, "the stored matches are read from there")
    m.set_defaults(func=_cmd_matches)

    e = command("export", "write the stored matches as CSV")
    e.add_argument("--store", required=True, type=_path_or_url, help=store_read)
    e.add_argument("--out", required=True, type=Path, help="CSV file to write (its folder is created); one row per brand and match")
    db_option(e, "the stored matches are read from there")
    e.set_defaults(func=_cmd_export)

    s = command("sample", "generate the seeded sample dataset")
    s.add_argument("--out", required=True, type=Path, help="folder to write the tables into")
    s.add_argument("--seed", type=int, default=7, help="random seed: the same seed writes the same files")
    s.add_argument("--creators", type=int, default=2000, help="number of creators (plus a few deliberately bad rows)")
    s.add_argument("--brands", type=int, default=30, help="number of brands")
    s.add_argument("--format", choices=("csv", "jsonl", "parquet"), default="csv", help="file format of the tables")
    s.add_argument("--no-comments", action="store_true", help="do not write the comments table")
    s.add_argument("--no-outcomes", action="store_true", help="do not write the campaign outcomes table")
    s.set_defaults(func=_cmd_sample)

    t = command("train", "learn reranker weights, and calibrate price estimates, from past campaign outcomes")
    t.add_argument("--store", required=True, type=_path_or_url, help="store directory (the weights and the price calibration are written into it; for a URL store, into its work directory)")
    t.add_argument("--outcomes", required=True, type=_path_or_url, help="table (path or URL) of brand_id, creator_id, outcome[, date][, price]; prices calibrate the price estimates")
    t.add_argument("--prices-only", action="store_true", help="only calibrate the price estimates (needs a price column), keep the weights as they are")
    t.add_argument("--test-size", type=float, default=0.25, help="share of brands (and of priced creators) held out for validation")
    t.add_argument("--seed", type=int, default=0, help="random seed of the brands' train/validation split")
    t.add_argument("--dry-run", action="store_true", help="report the validation without writing the weights")
    t.set_defaults(func=_cmd_train)

    v = command("serve", "serve the HTTP API and the web page over the published snapshot")
    v.add_argument("--store", required=True, type=_path_or_url, help=store_read + "; a newly published one is served from the next request")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    v.add_argument("--timeout", type=float, default=10.0, help="request deadline in seconds; slower requests answer 503")
    db_option(v, "stored matches are read from there, and creators erased there are left out from the next request on")
    v.set_defaults(func=_cmd_serve)

    h = command("runs", "list the run history: batch runs, rollbacks, erasures")
    h.add_argument("--store", required=True, type=_path_or_url, help="store directory or URL")
    h.add_argument("--limit", type=int, default=20, help="newest runs to list")
    h.add_argument("--json", action="store_true", help="print the history as JSON")
    db_option(h, "the run history is read from there")
    h.set_defaults(func=_cmd_runs)

    rb = command("rollback", "publish an earlier retained snapshot again, without recomputing")
    rb.add_argument("--store", required=True, type=_path_or_url, help="store directory or URL")
    rb.add_argument("--to", help="snapshot id (default: the one published before the current one)")
    rb.add_argument("--list", action="store_true", help="list the retained snapshots instead")
    db_option(rb, "the rollback is recorded there")
    rb.set_defaults(func=_cmd_rollback)

    f = command("forget", "erase creators from the store, every retained snapshot and all later runs")
    f.add_argument("--store", required=True, type=_path_or_url, help="store directory or URL")
    f.add_argument("creator_ids", nargs="+", metavar="CREATOR_ID", help="id of a creator to erase, as in the creators file (one or more)")
    db_option(f, "the suppression list there is what every batch and 'matcher serve' sharing it leaves out")
    f.set_defaults(func=_cmd_forget)

    ev = command("eval", "score stored matches or run files against relevance labels (nDCG@10, R@50, MRR, AUC, MedR)")
    ev.add_argument("--qrels", required=True, type=_path_or_url, help="CSV/TSV with brand_id, creator_id, grade (or TREC qrels); a path or URL")
    ev.add_argument("--store", type=_path_or_url, help="score the matches the latest batch stored here")
    ev.add_argument("--snapshot", help="a retained snapshot id instead of the published one")
    ev.add_argument("--run", action="append", type=_path_or_url, help="CSV with brand_id, creator_id, rank|score, or a TREC run; a path or URL (repeatable)")
    ev.add_argument("--rel", type=int, default=1, help="lowest grade that counts as relevant")
    ev.add_argument("--json", action="store_true", help="print the scores as JSON")
    ev.set_defaults(func=_cmd_eval)

    n = command("niches", "list the niche taxonomy (ids for --niche)")
    n.add_argument("--store", type=_path_or_url, help="the taxonomy of the snapshot served from this store (default: the configured one)")
    n.add_argument("--descriptions", dest="verbose_descriptions", action="store_true", help="show each niche's description too")
    n.add_argument("--json", action="store_true", help="print the taxonomy as JSON")
    n.set_defaults(func=_cmd_niches)
    for parser in (b, r, m, e, t, v, h, rb, f, ev, n):
        parser.add_argument(
            "--work-dir", type=Path,
            help="local directory of a store on object storage: run history, embedding cache, checkpoints, lock "
            "(default: one per URL under ~/.cache/matcher/stores; a store directory is its own)",
        )
    return p


def _no_library_progress_bars() -> None:
    """Turn off Hugging Face's progress bars ("Loading weights", downloads): in a log or a pipe they are noise."""
    # Read when huggingface_hub and transformers are first imported, which is later in a command.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "huggingface_hub" in sys.modules:  # already imported (main() called in-process)
        sys.modules["huggingface_hub"].utils.disable_progress_bars()
    if "transformers" in sys.modules:
        sys.modules["transformers"].utils.logging.disable_progress_bar()


class _ProgressLines(logging.StreamHandler):
    """Prints the ``matcher.progress`` messages (what a long run is doing, how long it has left)."""


def _show_progress(show: bool, level: int) -> None:
    progress = logging.getLogger("matcher.progress")
    for h in [h for h in progress.handlers if isinstance(h, _ProgressLines)]:
        progress.removeHandler(h)
    if show:
        lines = _ProgressLines(sys.stderr)
        lines.setFormatter(logging.Formatter("matcher: %(message)s"))
        progress.addHandler(lines)
        progress.setLevel(min(level, logging.INFO))
        progress.propagate = False
    else:
        progress.setLevel(logging.NOTSET)
        progress.propagate = True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``matcher`` command; returns the exit code (0 ok, 2 bad input or usage, 1 other failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _show_progress(not args.quiet, level)
    if args.quiet or not sys.stderr.isatty():
        _no_library_progress_bars()
    try:
        _open_store(args)
        return int(args.func(args) or 0)
    except MatcherError as exc:
        print(f"matcher: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("matcher: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

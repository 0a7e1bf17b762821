import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run(*args, check=True):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    p = subprocess.run([sys.executable, "-m", "matcher.cli", "-q", *args], capture_output=True, text=True, env=env, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def test_batch_then_recommend_export_and_matches(sample, built, tmp_path):
    store = tmp_path / "store"
    # Start from the session store's embedding cache: the CLI run then encodes nothing new,
    # which keeps the suite quick and checks that the cache is shared by content, not by store.
    shutil.copytree(built.store / "cache", store / "cache")
    out = run("batch", "--creators", str(sample.creators), "--posts", str(sample.posts), "--brands", str(sample.brands), "--comments", str(sample.comments), "--store", str(store))
    assert "published snapshot" in out.stdout and "quarantined" in out.stdout
    assert "encoded 0 new texts" in out.stdout
    assert "matcher: embed" not in out.stderr  # -q: no progress lines

    # Without -q the batch says what it is doing, stage by stage (the cache is warm: no time-left line).
    shutil.copytree(built.store / "cache", tmp_path / "again" / "cache")
    again = subprocess.run(
        [sys.executable, "-m", "matcher.cli", "batch", "--creators", str(sample.creators), "--posts", str(sample.posts),
         "--brands", str(sample.brands), "--comments", str(sample.comments), "--store", str(tmp_path / "again")],
        capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=600, check=True,
    )
    for stage in ("ingest", "embed", "index", "signals", "rank"):
        assert f"matcher: {stage} ...\n" in again.stderr and f"matcher: {stage}: done in " in again.stderr, again.stderr

    rec = run("recommend", "--store", str(store), "trail running shoes for ultramarathons", "--k", "7", "--json")
    data = json.loads(rec.stdout)
    assert len(data["matches"]) == 7
    assert {"creator_id", "score", "components", "evidence", "why"} <= set(data["matches"][0])

    text = run("recommend", "--store", str(store), "trail running shoes", "--k", "3", "--country", "US")
    assert text.stdout.count("score ") == 3
    assert text.stdout.count("     price ") == 3 and text.stdout.count("; trust confidence ") == 3

    csv_path = tmp_path / "out" / "matches.csv"
    run("export", "--store", str(store), "--out", str(csv_path))
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "brand_id", "rank", "creator_id", "score", "topic", "engagement", "trust", "conversation", "fit", "penalty", "weak", "worked_with",
        "price_low", "price_high", "price_basis", "trust_confidence", "confidence_posts", "confidence_comments", "confidence_days",
    ]
    # "worked with" is each creator's collaborations in one line, as the API says it.
    from matcher.store import Store

    served = Store(store).load()
    from matcher.rerank import collaborations_of, worked_with

    row_of = {c: i for i, c in enumerate(served.creators["creator_id"].astype(str))}
    assert any(r["worked_with"] for r in rows)
    for r in rows[:50]:
        assert r["worked_with"] == worked_with(collaborations_of(served, row_of[r["creator_id"]]))
    assert len(rows) > 0
    # A price is a range with its basis (no mid column), blank with the reason when followers are unknown.
    priced = [r for r in rows if r["price_low"]]
    assert priced and all(float(r["price_low"]) < float(r["price_high"]) and r["price_basis"].endswith("; not calibrated") for r in priced)
    assert all(r["price_basis"] == "no follower count: unknown" for r in rows if not r["price_low"])
    assert {r["trust_confidence"] for r in rows} <= {"high", "medium", "low"}
    from matcher.config import Config

    floor = Config().rank.relevance_floor
    assert all(r["weak"] == str(float(r["topic"]) < floor) for r in rows)  # exported as True / False

    shown = run("matches", "--store", str(store), "--k", "2")
    assert shown.stdout.count("score ") == 6

    trained = run("train", "--store", str(store), "--outcomes", str(sample.outcomes))
    assert "learned weights" in trained.stdout and "held-out nDCG@10" in trained.stdout
    # The sample's outcomes carry prices: train calibrates the price estimates too, after a held-out check.
    assert "held-out prices of other creators" in trained.stdout and "inside the range: published rates " in trained.stdout
    assert json.loads((store / "price_model.json").read_text())["format"] == "matcher-price-calibration"
    calibrated = json.loads(run("recommend", "--store", str(store), "trail running shoes", "--k", "5", "--json").stdout)["matches"]
    assert any("calibrated on" in m["price"]["basis"] for m in calibrated if m["price"])
    learned = json.loads((store / "weights.json").read_text())
    assert learned["format"] == "matcher.weights" and set(learned["weights"]) == {"topic", "engagement", "trust", "conversation", "fit"}
    again = json.loads(run("recommend", "--store", str(store), "trail running shoes", "--k", "3", "--json").stdout)
    assert len(again["matches"]) == 3


def test_bad_input_is_one_clear_line_not_a_traceback(tmp_path, sample):
    bad = tmp_path / "creators.csv"
    bad.write_bytes("creator_id,bio\nc1,caf\xe9\n".encode("latin-1"))
    p = run("batch", "--creators", str(bad), "--posts", str(sample.posts), "--brands", str(sample.brands), "--store", str(tmp_path / "s"), check=False)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert str(bad) in p.stderr and "UTF-8" in p.stderr

    p = run("recommend", "--store", str(tmp_path / "empty"), "anything", check=False)
    assert p.returncode == 2 and "no published snapshot" in p.stderr and "Traceback" not in p.stderr


def test_niches_command_and_niche_filter(built):
    listing = run("niches")
    lines = listing.stdout.strip().splitlines()
    assert lines[0].startswith("matcher niches") and len(lines) == 1 + int(lines[0].split(": ")[1].split()[0])
    assert any(line.split()[0] == "running" for line in lines[1:])
    as_json = json.loads(run("niches", "--store", str(built.store), "--json").stdout)
    assert "running" in {n["id"] for n in as_json["niches"]}
    rec = json.loads(run("recommend", "--store", str(built.store), "trail running shoes", "--k", "5", "--niche", "running", "--niche", "cycling", "--json").stdout)
    assert len(rec["matches"]) == 5
    assert all({n["niche_id"] for n in m["niches"]} & {"running", "cycling"} for m in rec["matches"])
    shown = run("matches", "--store", str(built.store), "--brand", "b003", "--k", "1")
    assert "brief niches: running" in shown.stdout
    p = run("recommend", "--store", str(built.store), "trail running shoes", "--niche", "jogging", check=False)
    assert p.returncode == 2 and "'jogging'" in p.stderr and "matcher niches" in p.stderr and "Traceback" not in p.stderr


def test_bad_niche_labels_fail_before_any_work(sample, tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("creator_id,niche\nc000001,running\nc000002,jogging\n")
    store = tmp_path / "store"
    p = run("batch", "--creators", str(sample.creators), "--posts", str(sample.posts), "--brands", str(sample.brands), "--store", str(store), "--niche-labels", str(bad), check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert str(bad) in p.stderr and "row 2: field 'niche' is 'jogging'" in p.stderr and "matcher niches" in p.stderr
    assert not store.exists()


@pytest.mark.parametrize("content", ["creator_id,handle,bio,followers\n", "creator_id,bio,followers\n,no id,10\n  ,blank id,-3\n"])
def test_a_creators_file_with_no_usable_row_is_one_clear_line(tmp_path, sample, content):
    creators = tmp_path / "creators.csv"
    creators.write_text(content)
    p = run("batch", "--creators", str(creators), "--posts", str(sample.posts), "--brands", str(sample.brands), "--store", str(tmp_path / "s"), check=False)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and "merge" not in p.stderr
    line = [x for x in p.stderr.splitlines() if x.startswith("matcher: error:")]
    assert len(line) == 1 and str(creators) in line[0]
    assert ("no creators" in line[0]) if content.count("\n") == 1 else ("every one was quarantined" in line[0] and "row 1" in line[0])
    assert not (tmp_path / "s" / "CURRENT").exists()


def _subcommands(parser):
    import argparse

    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_option_of_every_command_has_help():
    import argparse

    from matcher.cli import build_parser

    parser = build_parser()
    commands = _subcommands(parser)
    assert {"batch", "recommend", "matches", "export", "sample", "serve", "forget", "eval"} <= set(commands)
    missing = []
    for name, sub in [("matcher", parser), *commands.items()]:
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not (action.help or "").strip() or action.help is argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, f"options without help: {missing}"
    # Defaults are shown: every option with a default says it in its help.
    unshown = []
    for name, sub in commands.items():
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if action.default is None or action.default is False or action.default is argparse.SUPPRESS or "default" in action.help:
                continue
            if f"{' '.join(action.help.split())} (default: {action.default})" not in text:
                unshown.append(f"{name} {'/'.join(action.option_strings)}")
    assert not unshown, f"defaults not shown: {unshown}"
    text = " ".join(commands["sample"].format_help().split())
    assert "(default: 7)" in text and "(default: 2000)" in text and "(default: csv)" in text


def test_global_options_work_before_and_after_the_command(tmp_path):
    from matcher.cli import build_parser

    parser = build_parser()
    batch = ["batch", "--creators", "c.csv", "--posts", "p.csv", "--brands", "b.csv", "--store", "s"]
    assert parser.parse_args(batch).quiet is False
    assert parser.parse_args(["-q", *batch]).quiet is True
    assert parser.parse_args([*batch, "-q"]).quiet is True
    # Not given after the command, the value before it stands (the subcommand's copy does not reset it).
    after = parser.parse_args(["-q", "--config", "a.toml", "-v", *batch])
    assert after.quiet is True and str(after.config) == "a.toml" and after.verbose == 1
    args = parser.parse_args([*batch, "--config", "b.toml", "-vv"])
    assert str(args.config) == "b.toml" and args.verbose == 2 and args.quiet is False
    assert parser.parse_args(["recommend", "x", "--store", "s"]).config is None


def test_matches_for_an_unknown_brand_points_to_the_ones_with_matches(built, capsys):
    from matcher.cli import main
    from matcher.store import Store

    with_matches = sorted(Store(built.store).read_matches()["brand_id"].astype(str).unique())
    assert main(["matches", "--store", str(built.store), "--brand", "b999", "-q"]) == 2
    err = capsys.readouterr().err
    assert "'b999' is not in the published snapshot" in err
    assert f"--brands {len(with_matches)}" in err and with_matches[0] in err
    # The hint works: it lists every brand with matches.
    assert main(["matches", "--store", str(built.store), "--brands", str(len(with_matches)), "--k", "1"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n{b}  " in out for b in with_matches)


def test_library_progress_bars_are_off_when_stderr_is_not_a_terminal(tmp_path):
    # The torch backend loads the weights through transformers, which draws a "Loading weights" bar.
    script = (
        "import sys\n"
        "from matcher.cli import main\n"
        "if sys.argv[1] == 'cli': assert main(['niches']) == 0\n"
        "from matcher.config import Config\n"
        "from matcher.embed import Encoder\n"
        "Encoder(Config.load().embed).load()\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", MATCHER_EMBED__BACKEND="torch")
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    runs = {
        how: subprocess.run([sys.executable, "-c", script, how], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
        for how in ("library", "cli")
    }
    for p in runs.values():
        assert p.returncode == 0, p.stderr
    assert "Loading weights" in runs["library"].stderr  # the bar is there without the command line's set-up
    assert "Loading weights" not in runs["cli"].stderr


def test_recommend_like_and_unlike(sample, built):
    import pandas as pd

    labels = pd.read_csv(sample.labels, dtype=str, keep_default_na=False)
    running = sorted(labels.loc[labels["niche"] == "trail running", "creator_id"])[:3]
    travel = sorted(labels.loc[labels["niche"] == "budget travel", "creator_id"])[:1]
    args = ["recommend", "--store", str(built.store), "--k", "10", "--json", "--like", running[0], "--like", running[1], "--like", running[2], "--unlike", travel[0]]
    data = json.loads(run(*args).stdout)
    got = [m["creator_id"] for m in data["matches"]]
    assert len(got) == 10 and not set(got) & set(running + travel)
    niche_of = dict(zip(labels["creator_id"], labels["niche"]))
    assert sum(niche_of[c] == "trail running" for c in got) >= 8
    assert data["matches"][0]["why"].startswith("looks like " + ", ".join(running) + "; ")
    # With a brief and a filter too.
    both = json.loads(run("recommend", "--store", str(built.store), "trail running shoes", "--like", running[0], "--platform", "tiktok", "--k", "5", "--json").stdout)
    assert both["matches"] and all(m["platform"] == "tiktok" and m["creator_id"] != running[0] for m in both["matches"])

    p = run("recommend", "--store", str(built.store), "--like", "nobody", check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "like: creator 'nobody' is not in the served snapshot" in p.stderr
    p = run("recommend", "--store", str(built.store), "--unlike", running[0], check=False)
    assert p.returncode == 2 and "no brief and no creators to look like" in p.stderr and "Traceback" not in p.stderr


def test_shortlist_command_equals_the_library(budgeted, encoder):
    from matcher.engine import Matcher

    m = Matcher(budgeted.store, encoder=encoder).load()
    brand = m.brand("b001")
    assert brand.budget == 5000.0
    want = m.shortlist(brand, budget=brand.budget, max_overlap=0.2)
    data = json.loads(run("shortlist", "--store", str(budgeted.store), "--brand", "b001", "--max-overlap", "0.2", "--json").stdout)["shortlist"]
    assert [p["match"]["creator_id"] for p in data["picks"]] == [p.match.creator_id for p in want.picks]
    assert data["spend"] == pytest.approx(want.spend) and data["budget"] == 5000.0 and data["max_overlap"] == 0.2
    assert [x["creator_id"] for x in data["left_out"]] == [x.creator_id for x in want.left_out]
    text = run("shortlist", "--store", str(budgeted.store), "--brand", "b001", "--max-overlap", "0.2").stdout
    assert text.startswith(want.why) and "audience overlap:" in text
    # A brief needs a budget; a brand without one too; a bad budget is one clear line.
    p = run("shortlist", "--store", str(budgeted.store), "--brand", "b002", check=False)
    assert p.returncode == 2 and "has no budget" in p.stderr and "Traceback" not in p.stderr
    p = run("shortlist", "--store", str(budgeted.store), "trail shoes", "--budget", "-5", check=False)
    assert p.returncode == 2 and "budget is -5.0" in p.stderr
    p = run("shortlist", "--store", str(budgeted.store), "--brand", "nope", "--budget", "10", check=False)
    assert p.returncode == 2 and "brand 'nope' is not in the served snapshot" in p.stderr

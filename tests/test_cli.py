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

    rec = run("recommend", "--store", str(store), "trail running shoes for ultramarathons", "--k", "7", "--json")
    data = json.loads(rec.stdout)
    assert len(data["matches"]) == 7
    assert {"creator_id", "score", "components", "evidence", "why"} <= set(data["matches"][0])

    text = run("recommend", "--store", str(store), "trail running shoes", "--k", "3", "--country", "US")
    assert text.stdout.count("score ") == 3

    csv_path = tmp_path / "out" / "matches.csv"
    run("export", "--store", str(store), "--out", str(csv_path))
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["brand_id", "rank", "creator_id", "score", "topic", "engagement", "trust", "conversation", "fit", "penalty"]
    assert len(rows) > 0

    shown = run("matches", "--store", str(store), "--k", "2")
    assert shown.stdout.count("score ") == 6

    trained = run("train", "--store", str(store), "--outcomes", str(sample.outcomes))
    assert "learned weights" in trained.stdout and "held-out nDCG@10" in trained.stdout
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

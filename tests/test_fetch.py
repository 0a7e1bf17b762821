"""Input tables on object storage, against a real S3-compatible server on loopback (moto's server mode).

The batch and the readers fetch each input given as a URL once, to a local temporary file, and
then read it exactly as they read a local file: the same tables, the same quarantine report (naming
the URL), the same snapshot. Skipped when the ``s3`` extra or moto's server are not installed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import pytest

import tinystore
from tinystore import export_bytes

from matcher.batch import run_batch
from matcher.cli import main
from matcher.errors import InputFileError, MatcherError
from matcher.fetch import FetchedFile, fetch, is_url
from matcher.ingest import load_dataset, read_table
from matcher.store import Store

BUCKET = "matcher-test"  # made by the s3 fixture (conftest.py)


def _upload(s3, files: dict[str, Path]) -> dict[str, str]:
    """Each file put under a fresh prefix of the bucket, by its own name; their URLs."""
    prefix = f"{BUCKET}/inputs-{uuid.uuid4().hex[:8]}"
    urls = {}
    for name, path in files.items():
        s3.put_file(str(path), f"{prefix}/{path.name}")
        urls[name] = f"s3://{prefix}/{path.name}"
    return urls


@pytest.fixture
def spool(tmp_path, monkeypatch):
    """The temporary directory fetched inputs go into (``$TMPDIR``), empty before each test."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return tinystore.world(tmp_path_factory, encoder)


def test_is_url_tells_urls_from_paths():
    assert is_url("s3://bucket/creators.csv") and is_url("file:///data/creators.csv")
    assert not is_url("data/creators.csv") and not is_url(Path("s3:/bucket/x.csv")) and not is_url(None)


def test_fetch_copies_the_object_under_its_own_name_and_prints_as_its_url(s3, tmp_path):
    s3.pipe_file(f"{BUCKET}/fetch/creators.csv", b"creator_id,handle\nc1,@a\n")
    got = fetch(f"s3://{BUCKET}/fetch/creators.csv", tmp_path / "copy")
    assert isinstance(got, FetchedFile) and isinstance(got, os.PathLike)
    assert got.path == tmp_path / "copy" / "creators.csv" and Path(got) == got.path
    assert Path(got).read_bytes() == b"creator_id,handle\nc1,@a\n" and got.size == 24
    assert got.sha256 == hashlib.sha256(b"creator_id,handle\nc1,@a\n").hexdigest()
    assert str(got) == f"s3://{BUCKET}/fetch/creators.csv"
    with pytest.raises(FileExistsError):  # a second input of the same name in one folder is never overwritten
        fetch(f"s3://{BUCKET}/fetch/creators.csv", tmp_path / "copy")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"s3://{BUCKET}/nowhere/creators.csv", "not found; check the URL"),
        ("s3://matcher-no-such-bucket/creators.csv", "not found; check the URL"),
        (f"s3://{BUCKET}/fetch/", "names a folder, not a file"),
        (f"s3://{BUCKET}/fetch", "names a folder, not a file"),
        ("nosuchscheme://x/creators.csv", "no file system for this URL"),
    ],
)
def test_fetch_says_what_is_wrong_with_a_url_and_leaves_no_partial_copy(s3, tmp_path, url, says):
    with pytest.raises(InputFileError, match=says) as info:
        fetch(url, tmp_path / "copy")
    assert isinstance(info.value, MatcherError) and str(info.value).startswith(url)
    assert not (tmp_path / "copy").exists() or not any((tmp_path / "copy").iterdir())


@pytest.mark.parametrize("kind", ["csv.gz", "jsonl", "parquet"])
def test_read_table_reads_a_url_as_it_reads_the_file(s3, sample, tmp_path, spool, kind):
    local = read_table(sample.posts)
    path = tmp_path / f"posts.{kind}"
    if kind == "parquet":
        local.to_parquet(path, index=False)
    elif kind == "jsonl":
        local.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        local.to_csv(path, index=False, compression="gzip")
    (url,) = _upload(s3, {"posts": path}).values()
    pd.testing.assert_frame_equal(read_table(url), read_table(path))
    assert not list(spool.iterdir())  # the temporary copy is gone


def test_the_quarantine_report_of_urls_names_the_urls(s3, sample, spool):
    files = {"creators": sample.creators, "posts": sample.posts, "brands": sample.brands, "comments": sample.comments}
    urls = _upload(s3, files)
    local = load_dataset(sample.creators, sample.posts, sample.brands, comments=sample.comments)
    remote = load_dataset(urls["creators"], urls["posts"], urls["brands"], comments=urls["comments"])
    assert local.rejections, "the sample has deliberately bad rows"
    by_url = {str(p): urls[name] for name, p in files.items()}
    expected = local.quarantine_frame()
    expected["file"] = expected["file"].map(by_url).astype(expected["file"].dtype)
    pd.testing.assert_frame_equal(remote.quarantine_frame(), expected)
    for name in ("creators", "posts", "brands", "comments"):
        pd.testing.assert_frame_equal(getattr(remote, name), getattr(local, name))
    assert not list(spool.iterdir())


def _fetched_copies(store: Path) -> list[Path]:
    return sorted(Path(store).glob(".tmp-inputs-*"))


def test_a_batch_from_urls_publishes_what_the_same_files_publish(s3, world, tmp_path):
    urls = _upload(s3, world.b)
    store = world.copy(tmp_path / "store")
    leftover = Path(store) / ".tmp-inputs-20260101T000000000000Z" / "posts" / "posts.csv"  # a killed run's copy
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"post_id\n")
    result = run_batch(urls["creators"], urls["posts"], urls["brands"], store, progress=False)
    assert export_bytes(store, tmp_path / "export.csv") == world.export_b
    assert not _fetched_copies(store)  # this run's copies are removed once read, the killed run's at the start
    assert Store(store).served().manifest["inputs"] == urls  # the manifest says where the inputs came from
    quarantine = pd.read_csv(Path(store) / "snapshots" / result.snapshot_id / "quarantine.csv", dtype=str)
    assert len(quarantine) and set(quarantine["file"]) <= set(urls.values())
    # The same bytes are the same inputs: a run from the files would resume this one's checkpoints.
    from_files = world.copy(tmp_path / "from-files")
    run_batch(world.b["creators"], world.b["posts"], world.b["brands"], from_files, progress=False)
    assert Store(from_files).served().manifest["input_fingerprint"] == Store(store).served().manifest["input_fingerprint"]


def test_a_missing_url_fails_the_run_before_its_first_stage_as_a_missing_file_does(s3, world, tmp_path):
    urls = _upload(s3, world.b)
    store = world.copy(tmp_path / "store")
    served = Store(store).current_id()
    missing = urls["posts"].replace("/posts", "/gone-posts")
    with pytest.raises(InputFileError, match=f"^{missing}: not found"):
        run_batch(urls["creators"], missing, urls["brands"], store, progress=False)
    last = Store(store).runs(limit=1)[0]
    assert last["status"] == "failed" and missing in last["details"]["error"]  # in the run history, for whoever runs the nightly job
    assert not last["details"].get("timings")  # no stage ran
    assert Store(store).current_id() == served
    assert not _fetched_copies(store)  # the other inputs' copies are gone too


def test_labels_at_a_url_are_checked_once_fetched(s3, world, tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("creator_id,niche\nc000001,jogging\n")
    urls = _upload(s3, {**world.b, "niche_labels": bad})
    store = world.copy(tmp_path / "store")
    with pytest.raises(MatcherError, match=f"^{urls['niche_labels']}: row 1: field 'niche' is 'jogging'"):
        run_batch(urls["creators"], urls["posts"], urls["brands"], store, niche_labels=urls["niche_labels"], progress=False)
    assert not Store(store).runs(limit=1)[0]["details"].get("timings")
    assert not _fetched_copies(store)


def test_a_batch_refuses_an_unknown_file_type_before_fetching_anything(s3, tmp_path):
    # The object does not exist: had it been fetched first, the error would say "not found".
    with pytest.raises(InputFileError, match="unknown file type"):
        run_batch(f"s3://{BUCKET}/x/creators.csv", f"s3://{BUCKET}/x/posts.xlsx", f"s3://{BUCKET}/x/brands.csv", tmp_path / "store", progress=False)


def test_the_command_line_keeps_input_urls_whole(s3, world, tmp_path, capsys):
    urls = _upload(s3, world.b)
    missing = urls["brands"].replace("/brands", "/gone-brands")
    code = main(["-q", "batch", "--creators", urls["creators"], "--posts", urls["posts"], "--brands", missing, "--store", str(tmp_path / "store")])
    assert code == 2
    assert f"{missing}: not found" in capsys.readouterr().err


def test_outcomes_read_from_a_url_as_from_the_file(s3, tmp_path, spool):
    from matcher.ingest import load_outcomes

    path = tmp_path / "outcomes.csv"
    path.write_text("brand_id,creator_id,outcome,price\nb1,c1,3,120\nb1,c2,not a number,80\nb2,c1,0,\n", encoding="utf-8")
    (url,) = _upload(s3, {"outcomes": path}).values()
    local, local_rejections, _ = load_outcomes(path)
    remote, remote_rejections, report = load_outcomes(url)
    pd.testing.assert_frame_equal(remote, local)
    assert [(r.file, r.row, r.field) for r in remote_rejections] == [(url, r.row, r.field) for r in local_rejections]
    assert report.read == 3 and report.quarantined == 1

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
from matcher.fetch import FetchedFile, fetch, folder_digest, is_url
from matcher.ingest import PartFile, load_dataset, load_posts, read_table
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
        (f"s3://{BUCKET}/fetch", "names a folder, not a file; end the URL with '/'"),
        (f"s3://{BUCKET}/nowhere/", "not found, or an empty folder"),
        ("nosuchscheme://x/creators.csv", "no file system for this URL"),
    ],
)
def test_fetch_says_what_is_wrong_with_a_url_and_leaves_no_partial_copy(s3, tmp_path, url, says):
    s3.pipe_file(f"{BUCKET}/fetch/one.csv", b"creator_id\nc1\n")  # so that fetch/ is a folder, whichever test ran first
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


# -- folders of part files -------------------------------------------------------------------
def _split_csv(path: Path, folder: Path, parts: int) -> list[Path]:
    """The CSV file's records in ``parts`` part files (each with the header), with the markers
    Spark writes beside them, which are not parts."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    folder.mkdir(parents=True)
    size = -(-len(frame) // parts)
    out = []
    for k in range(parts):
        part = folder / f"part-{k:05d}.csv"
        frame.iloc[k * size : (k + 1) * size].to_csv(part, index=False)
        out.append(part)
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-00000.csv.crc").write_bytes(b"not a table")
    return out


def test_a_folder_of_parts_reads_as_its_rows_in_part_order(s3, sample, tmp_path, spool):
    parts = _split_csv(sample.posts, tmp_path / "posts", 3)
    whole = read_table(sample.posts)
    pd.testing.assert_frame_equal(read_table(tmp_path / "posts"), whole)
    prefix = f"{BUCKET}/folders-{uuid.uuid4().hex[:8]}/posts"
    s3.put(str(tmp_path / "posts"), prefix, recursive=True)
    pd.testing.assert_frame_equal(read_table(f"s3://{prefix}/"), whole)
    fetched = fetch(f"s3://{prefix}/", tmp_path / "copy")
    assert sorted(p.name for p in Path(fetched).iterdir()) == [p.name for p in parts]  # the markers are not fetched
    assert fetched.parts == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in parts}
    assert fetched.sha256 == folder_digest(list(fetched.parts.items()))


def test_a_part_not_on_this_machine_is_read_from_its_url_only_if_unchanged(s3, sample, tmp_path, spool):
    # What a Ray task on another machine does: the driver's copy is not there, so the task fetches
    # the part itself, and reads it only if its bytes are those the run fingerprinted.
    parts = _split_csv(sample.posts, tmp_path / "posts", 2)
    key = f"{BUCKET}/parts-{uuid.uuid4().hex[:8]}/posts/part-00000.csv"
    s3.put_file(str(parts[0]), key)
    part = PartFile(f"s3://{key}", str(tmp_path / "elsewhere" / "part-00000.csv"), "csv", f"s3://{key}", hashlib.sha256(parts[0].read_bytes()).hexdigest())
    pd.testing.assert_frame_equal(part.read(), read_table(parts[0]))
    s3.pipe_file(key, b"post_id,creator_id\nx,y\n")  # replaced on the bucket while the run reads
    with pytest.raises(InputFileError, match=r"part-00000\.csv: changed since the run fetched it"):
        part.read()
    assert not list(spool.iterdir())  # the task's copies are gone


def test_the_quarantine_of_a_folder_names_each_part_and_the_row_in_it(sample, tmp_path):
    parts = _split_csv(sample.posts, tmp_path / "posts", 4)
    size = len(pd.read_csv(parts[0], dtype=str, keep_default_na=False))
    creators = read_table(sample.creators)["creator_id"]
    _, whole, _ = load_posts(sample.posts, creators)
    _, split, report = load_posts(tmp_path / "posts", creators)
    assert whole and len(split) == len(whole)
    assert report.path == str(tmp_path / "posts") and report.files == tuple(str(p) for p in parts)
    for one, part in zip(whole, split):
        k, row = divmod(one.row - 1, size)
        assert (part.file, part.row) == (str(parts[k]), row + 1)
        assert (part.id, part.field, part.action) == (one.id, one.field, one.action)
    repeats = [r for r in split if "repeats row" in r.reason]
    assert repeats and all(" of part-" in r.reason for r in repeats)  # the kept row is named with its part


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: (d / "date=2026-12-01").mkdir(), "partitioned subfolders are not read"),
        (lambda d: (d / "part-00009.jsonl").write_text('{"post_id": "x"}\n'), "different formats"),
        (lambda d: (d / "part-00009.csv").write_text("post_id,creator_id\nx,y\n"), "columns differ"),
        (lambda d: [p.unlink() for p in d.glob("part-*")], "holds no table files"),
    ],
)
def test_a_folder_that_is_not_one_table_is_refused_saying_why(sample, tmp_path, make, says):
    _split_csv(sample.posts, tmp_path / "posts", 2)
    make(tmp_path / "posts")
    with pytest.raises(InputFileError, match=says):
        read_table(tmp_path / "posts")
    with pytest.raises(InputFileError, match=says):  # the loaders, which convert part by part, alike
        load_posts(tmp_path / "posts", ["c1"])


def test_a_batch_reads_a_folder_of_parts_from_a_path_or_a_url_alike(s3, world, tmp_path):
    parts = tmp_path / "posts"
    _split_csv(world.b["posts"], parts, 3)
    prefix = f"{BUCKET}/folders-{uuid.uuid4().hex[:8]}/posts"
    s3.put(str(parts), prefix, recursive=True)
    stores = {}
    for how, posts in (("path", parts), ("url", f"s3://{prefix}/")):
        stores[how] = world.copy(tmp_path / f"store-{how}")
        run_batch(world.b["creators"], posts, world.b["brands"], stores[how], progress=False)
        assert export_bytes(stores[how], tmp_path / f"export-{how}.csv") == world.export_b
    manifests = {how: Store(store).served().manifest for how, store in stores.items()}
    assert manifests["path"]["input_fingerprint"] == manifests["url"]["input_fingerprint"]
    assert manifests["url"]["inputs"]["posts"] == f"s3://{prefix}/" and not _fetched_copies(stores["url"])


def test_an_erased_creator_is_counted_out_of_the_part_it_was_quarantined_in(world, tmp_path):
    from matcher.erasure import forget

    store = world.copy(tmp_path / "store")
    # A creator whose id a later row repeats: that row is quarantined, naming the creator.
    creators = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    repeated = creators.loc[creators["creator_id"].ne("") & creators["creator_id"].duplicated(), "creator_id"].iloc[0]
    forget(store, [repeated])
    folder = tmp_path / "creators"
    parts = _split_csv(world.b["creators"], folder, 3)
    result = run_batch(folder, world.b["posts"], world.b["brands"], store, progress=False)
    assert result.counts["creators"]["suppressed"] == 2  # the creator's row and the row repeating it
    quarantine = pd.read_csv(Path(store) / "snapshots" / result.snapshot_id / "quarantine.csv", dtype=str, keep_default_na=False)
    assert repeated not in set(quarantine["id"])
    mine = quarantine[quarantine["file"].isin([str(p) for p in parts])]
    assert result.counts["creators"]["quarantined"] == int(mine["action"].eq("rejected").sum())
    assert result.counts["creators"]["blanked"] == int(mine["action"].eq("blanked").sum())
    for table, c in result.counts.items():
        assert c["accepted"] + c["quarantined"] + c["suppressed"] == c["read"], table


def test_a_folder_with_a_part_that_cannot_be_fetched_leaves_nothing_behind(s3, sample, tmp_path, monkeypatch):
    import matcher.fetch as fetching

    _split_csv(sample.posts, tmp_path / "posts", 4)
    prefix = f"{BUCKET}/folders-{uuid.uuid4().hex[:8]}/posts"
    s3.put(str(tmp_path / "posts"), prefix, recursive=True)
    copy = fetching._copy

    def removed_meanwhile(fs, remote, target, url, stop):  # a part deleted from the bucket after the listing
        if target.name == "part-00002.csv":
            s3.rm(f"{prefix}/part-00002.csv")
        return copy(fs, remote, target, url, stop)

    monkeypatch.setattr(fetching, "_copy", removed_meanwhile)
    with pytest.raises(InputFileError, match=r"part-00002\.csv: not found"):
        fetch(f"s3://{prefix}/", tmp_path / "copy")
    assert not (tmp_path / "copy" / "posts").exists()  # the parts already copied are gone too
    s3.mkdir(f"{prefix}/date=2026-12-01")
    s3.pipe_file(f"{prefix}/date=2026-12-01/part-0.csv", b"post_id\n")
    with pytest.raises(InputFileError, match="partitioned subfolders are not read"):
        fetch(f"s3://{prefix}/", tmp_path / "copy")
    assert not (tmp_path / "copy" / "posts").exists()


def test_one_failed_fetch_stops_the_others_and_is_what_is_raised():
    """A failure does not wait for the other downloads to run to their end: the calls given ``stop``
    end early, and the error raised is the real one even when a call that ended because of it comes first."""
    import threading
    import time

    from matcher.fetch import FetchStopped, side_by_side

    stop = threading.Event()
    started = threading.Event()
    ended_early = []

    def long_download(stop):  # a minute if nothing stopped it
        started.set()
        for _ in range(600):
            if stop.is_set():
                ended_early.append(True)
                raise FetchStopped("s3://bucket/posts.csv")
            time.sleep(0.1)
        return "done"

    def fails():
        started.wait(10)
        raise InputFileError("s3://bucket/brands.csv: not found")

    with pytest.raises(InputFileError, match="brands.csv: not found"):
        side_by_side([(long_download, (stop,)), (fails, ())], stop=stop)
    assert ended_early == [True]  # not run to its end


def test_a_stopped_fetch_leaves_no_partial_copy(tmp_path):
    import threading

    import fsspec

    from matcher.fetch import FetchStopped

    fs = fsspec.filesystem("memory")
    fs.pipe_file("/stopped/big.csv", b"x" * (3 << 20))
    stop = threading.Event()
    assert fetch("memory://stopped/big.csv", tmp_path / "whole", stop=stop).size == 3 << 20
    stop.set()
    with pytest.raises(FetchStopped):
        fetch("memory://stopped/big.csv", tmp_path / "stopped", stop=stop)
    assert not (tmp_path / "stopped" / "big.csv").exists()
    fs.rm("/stopped", recursive=True)


def test_niche_labels_are_one_file_not_a_folder(tmp_path):
    from matcher.niches import load_taxonomy, read_niche_labels

    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "part-0.csv").write_text("creator_id,niche\nc1,running\n")
    with pytest.raises(InputFileError, match="is a folder; niche labels are read from one file"):
        read_niche_labels(tmp_path / "labels", load_taxonomy())
    assert read_niche_labels(tmp_path / "labels" / "part-0.csv", load_taxonomy())["niche"].tolist() == ["running"]


def test_eval_reads_labels_and_runs_from_urls_as_from_files(s3, tmp_path, capsys):
    """``matcher eval --qrels/--run`` take URLs: the same scores as the local files, the system named
    by its URL, and a fault in a fetched file named by the URL too."""
    import json

    qrels = tmp_path / "qrels.csv"
    qrels.write_text("brand_id,creator_id,grade\nb1,c1,2\nb1,c2,1\nb2,c3,1\n")
    run = tmp_path / "run.tsv"
    run.write_text("brand_id\tcreator_id\trank\nb1\tc2\t1\nb1\tc1\t2\nb2\tc1\t1\nb2\tc3\t2\n")
    bad = tmp_path / "bad-qrels.csv"
    bad.write_text("brand_id,creator_id,grade\nb1,c1,high\n")
    urls = _upload(s3, {"qrels": qrels, "run": run, "bad": bad})

    assert main(["eval", "--qrels", str(qrels), "--run", str(run), "--json"]) == 0
    local = json.loads(capsys.readouterr().out)[str(run)]
    assert main(["eval", "--qrels", urls["qrels"], "--run", urls["run"], "--json"]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert list(remote) == [urls["run"]] and remote[urls["run"]] == local
    assert local["queries"] == 2

    from matcher.evaluate import read_qrels, read_run

    with pytest.raises(InputFileError, match=rf"^{urls['bad']}: row 1: 'grade' is 'high'"):
        read_qrels(urls["bad"])
    with pytest.raises(InputFileError, match="not found"):
        read_run(urls["run"] + ".missing")

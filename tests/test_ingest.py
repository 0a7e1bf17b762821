"""Tests for matcher.ingest."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import InputFileError
from matcher.ingest import (
    BRAND_COLUMNS,
    COMMENT_COLUMNS,
    CREATOR_COLUMNS,
    OUTCOME_COLUMNS,
    POST_COLUMNS,
    Dataset,
    Rejection,
    load_brands,
    load_comments,
    load_creators,
    load_dataset,
    load_outcomes,
    load_posts,
    read_table,
    write_quarantine,
)

# ------------------------------------------------------------------------ helpers


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def creators_csv(tmp_path: Path, rows: list[list[object]], name: str = "creators.csv") -> Path:
    return write_csv(tmp_path / name, list(CREATOR_COLUMNS), rows)


def posts_csv(tmp_path: Path, rows: list[list[object]], name: str = "posts.csv") -> Path:
    return write_csv(tmp_path / name, list(POST_COLUMNS), rows)


def brands_csv(tmp_path: Path, rows: list[list[object]], name: str = "brands.csv") -> Path:
    return write_csv(tmp_path / name, list(BRAND_COLUMNS), rows)


def creator(cid: str, followers: object = "100", **extra: object) -> list[object]:
    row = {"creator_id": cid, "handle": "@h", "platform": "instagram", "bio": "bio",
           "followers": followers, "following": "", "country": "", "language": ""}
    row.update(extra)
    return [row[c] for c in CREATOR_COLUMNS]


def post(pid: str, cid: str = "c1", **extra: object) -> list[object]:
    row = {"post_id": pid, "creator_id": cid, "text": "hi", "posted_at": "", "likes": "",
           "comments": "", "views": "", "shares": "", "sponsored": "", "sponsor": ""}
    row.update(extra)
    return [row[c] for c in POST_COLUMNS]


def brand(bid: str, description: str = "vegan shoes", **extra: object) -> list[object]:
    row = {"brand_id": bid, "name": "Acme", "description": description, "countries": "",
           "languages": "", "competitors": "", "exclude_creators": "", "min_followers": "",
           "max_followers": ""}
    row.update(extra)
    return [row[c] for c in BRAND_COLUMNS]


def only_rejection(rejections: list[Rejection]) -> Rejection:
    assert len(rejections) == 1, rejections
    return rejections[0]


# ------------------------------------------------------------------ creators rows


def test_good_creators_are_canonical(tmp_path: Path) -> None:
    path = creators_csv(
        tmp_path,
        [
            creator("c1", "1200", handle=" @Ana ", platform="Instagram", bio="<p>Vegan &amp; co</p>",
                    following="10", country="us", language="EN"),
            creator("c2", "", platform="", bio="", country="", language=""),
        ],
    )
    frame, rejections, report = load_creators(path)
    assert rejections == []
    assert report.read == report.accepted == 2
    assert list(frame.columns) == list(CREATOR_COLUMNS)
    first = frame.iloc[0]
    assert (first.handle, first.platform, first.bio) == ("@Ana", "instagram", "Vegan & co")
    assert (first.followers, first.following, first.country, first.language) == (1200, 10, "US", "en")
    second = frame.iloc[1]
    assert second.platform == "" and second.bio == "" and second.handle == "@h"
    assert pd.isna(second.followers) and pd.isna(second.country) and pd.isna(second.language)
    assert str(frame.followers.dtype) == "Int64"
    assert isinstance(frame.index, pd.RangeIndex)


def test_blank_creator_id_is_quarantined(tmp_path: Path) -> None:
    path = creators_csv(tmp_path, [creator("c1"), creator("  ")])
    frame, rejections, report = load_creators(path)
    rejection = only_rejection(rejections)
    assert rejection == Rejection(
        str(path), 2, None, "creator_id", "'creator_id' is blank; every creator needs a unique id"
    )
    assert frame.creator_id.tolist() == ["c1"]
    assert (report.accepted, report.quarantined) == (1, 1)


def test_duplicate_creator_id_keeps_first(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = creators_csv(tmp_path, [creator("c1", "1"), creator("c2"), creator("c1", "2"), creator("c1", "3")])
    with caplog.at_level(logging.WARNING, logger="matcher.ingest"):
        frame, rejections, report = load_creators(path)
    assert frame.creator_id.tolist() == ["c1", "c2"]
    assert frame.followers.tolist() == [1, 100]
    assert [r.row for r in rejections] == [3, 4]
    assert all(r.field == "creator_id" and "row 1" in r.reason for r in rejections)
    assert report.duplicates == 2
    assert any("2 creators row(s) repeat" in m for m in caplog.messages)


def test_duplicate_of_a_quarantined_row_is_kept(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("p1", "c9", text="orphan"), post("p1", "c1", text="kept")])
    frame, rejections, report = load_posts(path, ["c1"])
    assert frame.text.tolist() == ["kept"]
    assert only_rejection(rejections).field == "creator_id"
    assert report.duplicates == 0


def test_duplicate_of_a_row_with_a_blanked_value_is_a_duplicate(tmp_path: Path) -> None:
    path = creators_csv(tmp_path, [creator("c1", "-1"), creator("c1", "5")])
    frame, rejections, report = load_creators(path)
    assert pd.isna(frame.followers[0]) and len(frame) == 1
    assert [(r.row, r.field, r.action) for r in rejections] == [(1, "followers", "blanked"), (2, "creator_id", "rejected")]
    assert (report.duplicates, report.quarantined, report.blanked) == (1, 1, 1)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("-3", "-3"), ("2.5", "2.5"), ("12k!", "'12k!'"), ("1,200", "'1,200'"), ("inf", "'inf'")],
)
def test_bad_follower_counts_are_blanked(tmp_path: Path, value: str, shown: str) -> None:
    path = creators_csv(tmp_path, [creator("c1", value), creator("c2")])
    frame, rejections, report = load_creators(path)
    rejection = only_rejection(rejections)
    assert (rejection.row, rejection.id, rejection.field, rejection.action) == (1, "c1", "followers", "blanked")
    assert rejection.reason == f"'followers' is {shown}; counts must be whole numbers >= 0"
    assert frame.creator_id.tolist() == ["c1", "c2"]
    assert pd.isna(frame.followers[0]) and frame.followers[1] == 100
    assert (report.read, report.accepted, report.quarantined, report.blanked) == (2, 2, 0, 1)


@pytest.mark.parametrize("value", ["1200", "1200.0", " 1200 ", "1.2e3"])
def test_whole_number_counts_are_accepted(tmp_path: Path, value: str) -> None:
    frame, rejections, _ = load_creators(creators_csv(tmp_path, [creator("c1", value)]))
    assert rejections == []
    assert frame.followers.tolist() == [1200]


def test_absurdly_large_count_is_blanked(tmp_path: Path) -> None:
    frame, rejections, _ = load_creators(creators_csv(tmp_path, [creator("c1", "1" + "0" * 20)]))
    assert "larger than any real count" in only_rejection(rejections).reason
    assert frame.creator_id.tolist() == ["c1"] and pd.isna(frame.followers[0])


def test_country_and_language_names_and_variants_become_codes(tmp_path: Path) -> None:
    countries = ["U.S.A", "India", "U.K.", "South Korea", "Deutschland", "usa", "gb"]
    languages = ["English", "Deutsch", "Português", "eng", "en-US", "pt_BR", "ES"]
    path = creators_csv(
        tmp_path, [creator(f"c{i}", country=c, language=lang) for i, (c, lang) in enumerate(zip(countries, languages))]
    )
    frame, rejections, _ = load_creators(path)
    assert rejections == []
    assert frame.country.tolist() == ["US", "IN", "GB", "KR", "DE", "US", "GB"]
    assert frame.language.tolist() == ["en", "de", "pt", "en", "en-us", "pt-br", "es"]


def test_unrecognised_country_and_language_are_blanked(tmp_path: Path) -> None:
    path = creators_csv(
        tmp_path,
        [creator("c1", country="Narnia"), creator("c2", language="Elvish"), creator("c3", language="pt_BR")],
    )
    frame, rejections, report = load_creators(path)
    assert [(r.id, r.field, r.action) for r in rejections] == [("c1", "country", "blanked"), ("c2", "language", "blanked")]
    assert rejections[0].reason == (
        "'country' 'Narnia' is not a country matcher recognises; write an ISO 3166-1 code such as US or GB, "
        "or a country name such as 'United States', or leave it blank"
    )
    assert frame.creator_id.tolist() == ["c1", "c2", "c3"]
    assert frame.country.isna().all() and frame.language.tolist()[2] == "pt-br" and pd.isna(frame.language[1])
    assert (report.accepted, report.quarantined, report.blanked) == (3, 0, 2)


def test_every_blanked_field_is_reported_in_column_order(tmp_path: Path) -> None:
    path = creators_csv(tmp_path, [creator("c1", "-1", following="x", country="Narnia"), creator("c2")])
    frame, rejections, report = load_creators(path)
    assert [(r.row, r.field, r.action) for r in rejections] == [
        (1, "followers", "blanked"), (1, "following", "blanked"), (1, "country", "blanked"),
    ]
    assert frame.creator_id.tolist() == ["c1", "c2"]
    assert (report.read, report.accepted, report.quarantined, report.blanked) == (2, 2, 0, 3)


def test_a_real_export_country_column_costs_no_creator_or_post(tmp_path: Path) -> None:
    countries = ["U.S.A", "India", "U.K.", "South Korea", "Atlantis"]
    creators = creators_csv(tmp_path, [creator(f"c{i}", country=c) for i, c in enumerate(countries)])
    posts = posts_csv(tmp_path, [post(f"p{i}{j}", f"c{i}") for i in range(len(countries)) for j in range(3)])
    dataset = load_dataset(creators, posts)
    assert len(dataset.creators) == 5 and len(dataset.posts) == 15
    assert dataset.creators.country.tolist()[:4] == ["US", "IN", "GB", "KR"]
    assert [(r.id, r.field, r.action) for r in dataset.rejections] == [("c4", "country", "blanked")]
    assert [(r.accepted, r.quarantined, r.blanked) for r in dataset.reports] == [(5, 0, 1), (15, 0, 0)]


def test_numeric_ids_stay_strings_with_leading_zeros(tmp_path: Path) -> None:
    path = creators_csv(tmp_path, [creator("007"), creator("0012")])
    frame, rejections, _ = load_creators(path)
    assert rejections == []
    assert frame.creator_id.tolist() == ["007", "0012"]
    assert pd.api.types.is_string_dtype(frame.creator_id.dtype)


def test_numeric_ids_from_json_are_strings_without_decimals(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "creators.jsonl",
        [{"creator_id": 7}, {"creator_id": 12345678901234567}, {"creator_id": "008"}, {"creator_id": None}],
    )
    frame, rejections, _ = load_creators(path)
    assert frame.creator_id.tolist() == ["7", "12345678901234567", "008"]
    assert only_rejection(rejections).row == 4


def test_extra_columns_are_kept_after_canonical_ones(tmp_path: Path) -> None:
    header = ["zeta", "creator_id", "followers", "alpha"]
    path = write_csv(tmp_path / "creators.csv", header, [["z1", "c1", "5", "a1"], ["z2", "", "5", "a2"]])
    frame, _, _ = load_creators(path)
    assert list(frame.columns) == [*CREATOR_COLUMNS, "zeta", "alpha"]
    assert frame[["zeta", "alpha"]].values.tolist() == [["z1", "a1"]]


def test_missing_optional_columns_are_filled(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "creators.csv", ["creator_id"], [["c1"]])
    frame, rejections, _ = load_creators(path)
    assert rejections == []
    assert list(frame.columns) == list(CREATOR_COLUMNS)
    assert frame.bio.tolist() == [""] and pd.isna(frame.followers[0])


def test_text_fields_are_normalised_and_capped(tmp_path: Path) -> None:
    path = creators_csv(tmp_path, [creator("c1", bio="one\u200b two <b>three</b> four five")])
    frame, _, _ = load_creators(path, max_text_chars=13)
    assert frame.bio.tolist() == ["one two three"]


# --------------------------------------------------------------------- posts rows


def test_post_of_unknown_creator_is_quarantined(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("p1", "c1"), post("p2", "c9")])
    frame, rejections, _ = load_posts(path, {"c1"})
    rejection = only_rejection(rejections)
    assert rejection == Rejection(
        str(path),
        2,
        "p2",
        "creator_id",
        "'creator_id' 'c9' is not in the creators file (or was quarantined); add the creator or drop the post",
    )
    assert frame.post_id.tolist() == ["p1"]


def test_blank_post_ids_are_quarantined(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("", "c1"), post("p2", "")])
    _, rejections, _ = load_posts(path, ["c1"])
    assert [(r.row, r.field) for r in rejections] == [(1, "post_id"), (2, "creator_id")]
    assert rejections[0].reason == "'post_id' is blank; every post needs a unique id"


def test_duplicate_post_id_keeps_first(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("p1", text="first"), post("p1", text="second")])
    frame, rejections, report = load_posts(path, ["c1"])
    assert frame.text.tolist() == ["first"]
    assert only_rejection(rejections).reason.startswith("'post_id' 'p1' repeats row 1")
    assert report.duplicates == 1


def test_bad_date_is_blanked(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("p1", posted_at="yesterday"), post("p2", posted_at="")])
    frame, rejections, _ = load_posts(path, ["c1"])
    assert only_rejection(rejections).reason == (
        "'posted_at' 'yesterday' is neither ISO-8601 nor epoch seconds; write e.g. 2026-10-03T14:22:00Z"
    )
    assert only_rejection(rejections).action == "blanked"
    assert frame.post_id.tolist() == ["p1", "p2"] and frame.posted_at.isna().all()


def test_sponsor_is_kept_as_the_brand_name(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("p1", sponsor="  Summit Trail Co "), post("p2", sponsor="Acme|Bolt"), post("p3")])
    frame, rejections, report = load_posts(path, ["c1"])
    assert rejections == [] and report.blanked == 0
    assert frame.sponsor.tolist()[:2] == ["Summit Trail Co", "Acme|Bolt"] and pd.isna(frame.sponsor.iloc[2])


def test_bad_sponsor_values_cost_the_value_not_the_row(tmp_path: Path) -> None:
    long_name = "x" * 101
    path = write_jsonl(
        tmp_path / "posts.jsonl",
        [
            {"post_id": "p1", "creator_id": "c1", "text": "hi", "sponsor": "yes"},
            {"post_id": "p2", "creator_id": "c1", "text": "hi", "sponsor": "???"},
            {"post_id": "p3", "creator_id": "c1", "text": "hi", "sponsor": long_name},
            {"post_id": "p4", "creator_id": "c1", "text": "hi", "sponsor": ["Acme", "Bolt"]},
            {"post_id": "p5", "creator_id": "c1", "text": "hi", "sponsor": "Peakline"},
        ],
    )
    frame, rejections, report = load_posts(path, ["c1"])
    assert report.read == report.accepted == 5 and report.quarantined == 0 and report.blanked == 4
    assert frame.post_id.tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert frame.sponsor.isna().tolist() == [True, True, True, True, False]
    fix = "write the sponsoring brand's name (several separated by |), or leave it blank"
    assert [(r.row, r.field, r.action, r.reason) for r in rejections] == [
        (1, "sponsor", "blanked", f"'sponsor' is 'yes', a yes/no value: put the flag in 'sponsored', and here {fix}"),
        (2, "sponsor", "blanked", f"'sponsor' is '???', which names no brand; {fix}"),
        (3, "sponsor", "blanked", f"'sponsor' is 101 characters, longer than a brand name (100); {fix}"),
        (4, "sponsor", "blanked", "'sponsor' is a list or object; write plain text"),
    ]


def test_epoch_in_milliseconds_gets_a_hint(tmp_path: Path) -> None:
    path = posts_csv(tmp_path, [post("p1", posted_at="1791038520000000")])
    _, rejections, _ = load_posts(path, ["c1"])
    assert "divide by 1000" in only_rejection(rejections).reason


def test_epoch_and_iso_dates_are_the_same_instant(tmp_path: Path) -> None:
    instant = pd.Timestamp("2026-10-03T14:22:00Z")
    epoch = str(int(instant.timestamp()))
    path = posts_csv(
        tmp_path,
        [
            post("p1", posted_at="2026-10-03T14:22:00Z"),
            post("p2", posted_at=epoch),
            post("p3", posted_at="2026-10-03T16:22:00+02:00"),
            post("p4", posted_at=epoch + ".0"),
        ],
    )
    frame, rejections, _ = load_posts(path, ["c1"])
    assert rejections == []
    assert str(frame.posted_at.dtype) == "datetime64[ns, UTC]"
    assert frame.posted_at.tolist() == [instant] * 4
    json_path = write_jsonl(tmp_path / "posts.jsonl", [{"post_id": "p1", "creator_id": "c1", "posted_at": int(epoch)}])
    json_frame, _, _ = load_posts(json_path, ["c1"])
    assert json_frame.posted_at.tolist() == [instant]


@pytest.mark.parametrize("count_field", ["likes", "comments", "views", "shares"])
@pytest.mark.parametrize("value", ["-1", "0.5", "lots"])
def test_bad_post_counts_are_blanked(tmp_path: Path, count_field: str, value: str) -> None:
    path = posts_csv(tmp_path, [post("p1", **{count_field: value}), post("p2", **{count_field: "3"})])
    frame, rejections, _ = load_posts(path, ["c1"])
    assert (only_rejection(rejections).field, only_rejection(rejections).action) == (count_field, "blanked")
    assert frame.post_id.tolist() == ["p1", "p2"]
    assert pd.isna(frame[count_field][0]) and frame[count_field][1] == 3


def test_sponsored_flags(tmp_path: Path) -> None:
    values = ["true", "FALSE", "1", "0", "Yes", "no", "", "maybe"]
    path = posts_csv(tmp_path, [post(f"p{i}", sponsored=v) for i, v in enumerate(values)])
    frame, rejections, _ = load_posts(path, ["c1"])
    assert str(frame.sponsored.dtype) == "boolean"
    assert frame.sponsored.tolist()[:6] == [True, False, True, False, True, False]
    assert pd.isna(frame.sponsored.tolist()[6])
    rejection = only_rejection(rejections)
    assert (rejection.id, rejection.field, rejection.action) == ("p7", "sponsored", "blanked")
    assert "'maybe'" in rejection.reason
    assert len(frame) == len(values) and pd.isna(frame.sponsored.tolist()[7])


# -------------------------------------------------------------------- brands rows


def test_blank_brand_description_is_quarantined(tmp_path: Path) -> None:
    path = brands_csv(tmp_path, [brand("b1"), brand("b2", "  <p> </p> ")])
    frame, rejections, _ = load_brands(path)
    rejection = only_rejection(rejections)
    assert (rejection.row, rejection.id, rejection.field) == (2, "b2", "description")
    assert frame.brand_id.tolist() == ["b1"]


def test_min_above_max_followers_is_quarantined(tmp_path: Path) -> None:
    path = brands_csv(
        tmp_path,
        [brand("b1", min_followers="5000", max_followers="1000"), brand("b2", min_followers="10", max_followers="")],
    )
    frame, rejections, _ = load_brands(path)
    rejection = only_rejection(rejections)
    assert rejection.field == "min_followers"
    assert rejection.reason == (
        "'min_followers' 5000 is greater than 'max_followers' 1000; swap them or leave one blank"
    )
    assert frame.min_followers.tolist() == [10] and pd.isna(frame.max_followers[0])


def test_blank_and_duplicate_brand_ids(tmp_path: Path) -> None:
    path = brands_csv(tmp_path, [brand(""), brand("b1"), brand("b1")])
    _, rejections, report = load_brands(path)
    assert [(r.row, r.field) for r in rejections] == [(1, "brand_id"), (3, "brand_id")]
    assert report.duplicates == 1


def test_brand_list_fields_from_csv(tmp_path: Path) -> None:
    path = brands_csv(
        tmp_path,
        [
            brand("b1", countries="us|gb", languages="EN, de", competitors="Acme, Inc.|Bolt",
                  exclude_creators="007, c2 ,, c2"),
            brand("b2"),
            brand("b3", countries="Narnia|US"),
            brand("b4", countries="USA|United Kingdom|Deutschland", languages="English|Português|pt_BR"),
        ],
    )
    frame, rejections, _ = load_brands(path)
    first = frame.iloc[0]
    assert first.countries == ["US", "GB"]
    assert first.languages == ["en", "de"]
    assert first.competitors == ["Acme, Inc.", "Bolt"]
    assert first.exclude_creators == ["007", "c2"]
    second = frame.iloc[1]
    assert (second.countries, second.languages, second.competitors, second.exclude_creators) == ([], [], [], [])
    # A brand's filter fails closed: an unknown country rejects the brand rather than widen its filter.
    rejection = only_rejection(rejections)
    assert (rejection.id, rejection.field, rejection.action) == ("b3", "countries", "rejected")
    assert "'Narnia'" in rejection.reason and "such as US or GB" in rejection.reason
    fourth = frame.iloc[2]
    assert (fourth.countries, fourth.languages) == (["US", "GB", "DE"], ["en", "pt", "pt-br"])


def test_brand_list_fields_from_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "brands.jsonl",
        [
            {"brand_id": "b1", "description": "shoes", "countries": ["us", "gb"], "languages": "en|de",
             "exclude_creators": [7, "008"], "competitors": None},
            {"brand_id": "b2", "description": "shoes", "countries": [["us"]]},
        ],
    )
    frame, rejections, _ = load_brands(path)
    first = frame.iloc[0]
    assert first.countries == ["US", "GB"]
    assert first.languages == ["en", "de"]
    assert first.exclude_creators == ["7", "008"]
    assert first.competitors == []
    assert only_rejection(rejections).field == "countries"


# ------------------------------------------------------------------ three formats


def _records() -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    creators = [
        {"creator_id": "007", "handle": "@ana", "platform": "TikTok", "bio": "Vegan <b>food</b>",
         "followers": 1200, "following": None, "country": "de", "language": "DE", "note": "x"},
        {"creator_id": "c2", "handle": "@bo", "platform": "youtube", "bio": "Hiking",
         "followers": None, "following": 3, "country": None, "language": None, "note": "y"},
    ]
    posts = [
        {"post_id": "p1", "creator_id": "007", "text": "Oat latte", "posted_at": "2026-10-03T14:22:00Z",
         "likes": 10, "comments": 0, "views": None, "shares": 1, "sponsored": True, "note": "x"},
        {"post_id": "p2", "creator_id": "c2", "text": "Trail", "posted_at": None,
         "likes": None, "comments": None, "views": 99, "shares": None, "sponsored": None, "note": "y"},
    ]
    brands = [
        {"brand_id": "b1", "name": "Acme", "description": "Vegan shoes", "countries": ["de", "at"],
         "languages": ["de"], "competitors": ["Bolt"], "exclude_creators": ["c2"],
         "min_followers": 1000, "max_followers": None, "note": "x"},
    ]
    return creators, posts, brands


def _as_csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_all(tmp_path: Path, fmt: str) -> tuple[Path, Path, Path]:
    paths = []
    for name, records in zip(("creators", "posts", "brands"), _records(), strict=True):
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "csv":
            header = list(records[0])
            write_csv(path, header, [[_as_csv_cell(r[c]) for c in header] for r in records])
        elif fmt == "jsonl":
            write_jsonl(path, records)
        else:
            frame = pd.DataFrame(records)
            for column in ("followers", "following", "likes", "comments", "views", "shares",
                           "min_followers", "max_followers"):
                if column in frame:
                    frame[column] = frame[column].astype("Int64")
            if "sponsored" in frame:
                frame["sponsored"] = frame["sponsored"].astype("boolean")
            frame.to_parquet(path)
        paths.append(path)
    return paths[0], paths[1], paths[2]


def test_all_formats_give_equal_frames(tmp_path: Path) -> None:
    loaded: dict[str, Dataset] = {}
    for fmt in ("csv", "jsonl", "parquet"):
        loaded[fmt] = load_dataset(*_write_all(tmp_path, fmt))
    for fmt, dataset in loaded.items():
        assert dataset.rejections == (), fmt
        assert [r.accepted for r in dataset.reports] == [2, 2, 1], fmt
    base = loaded["csv"]
    for fmt in ("jsonl", "parquet"):
        other = loaded[fmt]
        pd.testing.assert_frame_equal(base.creators[list(CREATOR_COLUMNS)], other.creators[list(CREATOR_COLUMNS)])
        pd.testing.assert_frame_equal(base.posts[list(POST_COLUMNS)], other.posts[list(POST_COLUMNS)])
        assert base.brands is not None and other.brands is not None
        pd.testing.assert_frame_equal(base.brands[list(BRAND_COLUMNS)], other.brands[list(BRAND_COLUMNS)])
        assert other.creators["note"].tolist() == ["x", "y"]
    assert base.creators.creator_id.tolist() == ["007", "c2"]
    assert base.brands.countries.tolist() == [["DE", "AT"]]


def test_compressed_inputs(tmp_path: Path) -> None:
    csv_path = creators_csv(tmp_path, [creator("c1")])
    gz_path = tmp_path / "creators.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes()))
    frame, _, _ = load_creators(gz_path)
    assert frame.creator_id.tolist() == ["c1"]
    jsonl_path = write_jsonl(tmp_path / "creators.jsonl.gz", [{"creator_id": "c1"}])
    frame, _, _ = load_creators(jsonl_path)
    assert frame.creator_id.tolist() == ["c1"]


def test_load_dataset_chains_creators_into_posts(tmp_path: Path) -> None:
    creators = creators_csv(tmp_path, [creator("c1"), creator("c2", "-500"), creator(" ")])
    posts = posts_csv(
        tmp_path, [post("p1", "c1"), *(post(f"p2{j}", "c2") for j in range(5)), post("p3", "c3")]
    )
    dataset = load_dataset(creators, posts)
    assert dataset.brands is None
    # followers = -500 costs the count, not the creator nor its five posts.
    assert dataset.creators.creator_id.tolist() == ["c1", "c2"] and pd.isna(dataset.creators.followers[1])
    assert dataset.posts.post_id.tolist() == ["p1", "p20", "p21", "p22", "p23", "p24"]
    assert [(r.file, r.field, r.action) for r in dataset.rejections] == [
        (str(creators), "followers", "blanked"),
        (str(creators), "creator_id", "rejected"),
        (str(posts), "creator_id", "rejected"),
    ]
    assert [r.name for r in dataset.reports] == ["creators", "posts"]
    assert [(r.read, r.accepted, r.quarantined, r.blanked) for r in dataset.reports] == [(3, 2, 1, 1), (7, 6, 1, 0)]
    frame = dataset.quarantine_frame()
    assert list(frame.columns) == ["file", "row", "id", "field", "action", "reason"]
    assert frame.row.tolist() == [2, 3, 7]
    assert frame.action.tolist() == ["blanked", "rejected", "rejected"]


# ------------------------------------------------------------------ invariant


_ID = st.sampled_from(["c1", "c2", "c3", "007", "", " ", "c1 "])
_COUNT = st.sampled_from(["", "0", "5", "1200.0", "-3", "2.5", "12k!", "1e3", " 7 ", "nan", "1e400"])
_DATE = st.sampled_from(["", "2026-10-03T14:22:00Z", "1791038520", "yesterday", "99999999999999", "2026-13-45"])
_FLAG = st.sampled_from(["", "true", "No", "1", "maybe", "2"])
_TEXT = st.sampled_from(["", "plain", "<b>x</b>", "\u200b", "a,b", 'q"uote', "multi\nline"])
_CODE = st.sampled_from(["", "us", "USA", "en", "english", "pt_BR"])
_LIST = st.sampled_from(["", "us|gb", "US, DE", "USA", "en|xx-yy", "a,,b"])


@st.composite
def messy_rows(
    draw: st.DrawFn,
    width: int,
    columns: dict[int, st.SearchStrategy[str]],
    default: st.SearchStrategy[str],
) -> list[list[str]]:
    count = draw(st.integers(min_value=0, max_value=25))
    return [[draw(columns.get(i, default)) for i in range(width)] for _ in range(count)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    creator_rows=messy_rows(len(CREATOR_COLUMNS), {0: _ID, 1: _TEXT, 2: _TEXT, 3: _TEXT, 6: _CODE, 7: _CODE}, _COUNT),
    post_rows=messy_rows(
        len(POST_COLUMNS), {0: _ID.map(lambda s: s.replace("c", "p")), 1: _ID, 2: _TEXT, 3: _DATE, 8: _FLAG}, _COUNT
    ),
    brand_rows=messy_rows(len(BRAND_COLUMNS), {0: _ID, 1: _TEXT, 2: _TEXT, 3: _LIST, 4: _LIST, 5: _LIST, 6: _LIST}, _COUNT),
)
def test_accepted_plus_quarantined_equals_read(
    tmp_path_factory: pytest.TempPathFactory,
    creator_rows: list[list[str]],
    post_rows: list[list[str]],
    brand_rows: list[list[str]],
) -> None:
    folder = tmp_path_factory.mktemp("messy")
    dataset = load_dataset(
        creators_csv(folder, creator_rows),
        posts_csv(folder, post_rows),
        brands_csv(folder, brand_rows),
    )
    frames = {"creators": dataset.creators, "posts": dataset.posts, "brands": dataset.brands}
    id_columns = {"creators": "creator_id", "posts": "post_id", "brands": "brand_id"}
    for report, rows in zip(dataset.reports, (creator_rows, post_rows, brand_rows), strict=True):
        entries = [r for r in dataset.rejections if r.file == report.path]
        rejections = [r for r in entries if r.action == "rejected"]
        blanked = [r for r in entries if r.action == "blanked"]
        assert len(rejections) + len(blanked) == len(entries)
        assert report.read == len(rows)
        assert report.accepted + report.quarantined == report.read
        assert report.quarantined == len(rejections) and report.blanked == len(blanked)
        assert len({r.row for r in rejections}) == len(rejections)
        assert not {r.row for r in rejections} & {r.row for r in blanked}
        assert len({(r.row, r.field) for r in blanked}) == len(blanked)
        assert all(1 <= r.row <= report.read and r.reason for r in entries)
        frame = frames[report.name]
        assert frame is not None and len(frame) == report.accepted
        assert frame[id_columns[report.name]].is_unique
        assert frame[id_columns[report.name]].notna().all()
    assert set(dataset.posts.creator_id) <= set(dataset.creators.creator_id)


_JSON_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "c1", "007", "12", "1e3", "us", "2026-10-03T14:22:00Z", "<b>x</b>"]),
    st.lists(st.sampled_from(["us", "c1", 3]), max_size=2),
    st.fixed_dictionaries({"k": st.integers(0, 3)}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from([*CREATOR_COLUMNS, "posted_at", "note"]), _JSON_VALUE, max_size=9
        ).map(lambda r: {"creator_id": "c1", **r}),
        max_size=15,
    )
)
def test_typed_json_rows_are_accepted_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, object]]
) -> None:
    folder = tmp_path_factory.mktemp("typed")
    if not records:
        return
    path = write_jsonl(folder / "creators.jsonl", records)
    frame, rejections, report = load_creators(path)
    rejected = [r for r in rejections if r.action == "rejected"]
    assert report.read == len(records)
    assert report.accepted + report.quarantined == report.read == len(frame) + len(rejected)
    assert report.blanked == len(rejections) - len(rejected)
    assert frame.creator_id.is_unique
    assert list(frame.columns[: len(CREATOR_COLUMNS)]) == list(CREATOR_COLUMNS)
    assert str(frame.followers.dtype) == "Int64" and (frame.followers.dropna() >= 0).all()


def test_iso_date_beyond_supported_years_is_blanked(tmp_path: Path) -> None:
    _, rejections, _ = load_posts(posts_csv(tmp_path, [post("p1", posted_at="9999-01-01")]), ["c1"])
    assert "outside the years" in only_rejection(rejections).reason


# --------------------------------------------------------------- malformed files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputFileError, match="not found") as info:
        load_creators(path)
    assert str(path) in str(info.value)


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "creators.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputFileError) as info:
        load_creators(path)
    message = str(info.value)
    assert str(path) in message and ".xlsx" in message
    assert ".csv" in message and ".jsonl" in message and ".parquet" in message


@pytest.mark.parametrize("name", ["creators.csv", "creators.jsonl"])
def test_not_utf8(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_bytes("creator_id,bio\nc1,Café crème\n".encode("latin-1"))
    else:
        path.write_bytes('{"creator_id": "c1", "bio": "Café"}\n'.encode("latin-1"))
    with pytest.raises(InputFileError, match="not UTF-8") as info:
        load_creators(path)
    message = str(info.value)
    assert str(path) in message and "re-save it as UTF-8" in message
    expected = "line 2, column 7: byte 0xe9" if name.endswith(".csv") else "line 1, column 33: byte 0xe9"
    assert expected in message


def test_utf8_with_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "creators.csv"
    path.write_bytes("\ufeffcreator_id,bio\nc1,Café\n".encode())
    frame, _, _ = load_creators(path)
    assert frame.bio.tolist() == ["Café"]


def test_missing_required_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "posts.csv", ["id", "Creator_ID", "text"], [["p1", "c1", "x"]])
    with pytest.raises(InputFileError) as info:
        load_posts(path, ["c1"])
    message = str(info.value)
    assert str(path) in message
    assert "'post_id'" in message and "'creator_id'" in message
    assert "'id', 'Creator_ID', 'text'" in message


def test_brands_need_description_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "brands.csv", ["brand_id", "name"], [["b1", "Acme"]])
    with pytest.raises(InputFileError, match="'description'"):
        load_brands(path)


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_csv(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "creators.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match="empty") as info:
        load_creators(path)
    assert str(path) in str(info.value)


def test_header_only_csv_gives_empty_frame(tmp_path: Path) -> None:
    frame, rejections, report = load_creators(creators_csv(tmp_path, []))
    assert len(frame) == 0 and rejections == [] and report.read == 0
    assert list(frame.columns) == list(CREATOR_COLUMNS)


@pytest.mark.parametrize(
    "content",
    [b"creator_id,bio\nc1,a,b\n", b"creator_id,bio\nc1,a\nc2,b,c\n", b'creator_id,bio\nc1,"unclosed\n'],
)
def test_unparseable_csv(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "creators.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        load_creators(path)
    assert str(path) in str(info.value)


def test_repeated_csv_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "creators.csv", ["creator_id", "bio", "bio"], [["c1", "a", "b"]])
    with pytest.raises(InputFileError, match="'bio' appears more than once"):
        load_creators(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"creator_id": "c1"}\n{"creator_id": \n', "line 2 is not valid JSON"),
        (b'{"creator_id": "c1"}\n["c2"]\n', "line 2 is a JSON list"),
        (b"", "empty"),
    ],
)
def test_unparseable_jsonl(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "creators.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=expected) as info:
        load_creators(path)
    assert str(path) in str(info.value)


def test_unparseable_parquet(tmp_path: Path) -> None:
    path = tmp_path / "creators.parquet"
    path.write_bytes(b"creator_id\nc1\n")
    with pytest.raises(InputFileError, match="Parquet") as info:
        load_creators(path)
    assert str(path) in str(info.value)


def test_read_table_returns_raw_strings(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [" a ", "b"], [["007", ""]])
    frame = read_table(path)
    assert list(frame.columns) == ["a", "b"]
    assert frame.values.tolist() == [["007", ""]]


# ------------------------------------------------------------------- quarantine


def test_write_quarantine_writes_header_when_empty(tmp_path: Path) -> None:
    path = write_quarantine([], tmp_path / "out" / "quarantine.csv")
    assert path.read_text(encoding="utf-8").splitlines() == ["file,row,id,field,action,reason"]


def test_write_quarantine_round_trips(tmp_path: Path) -> None:
    rejections = [
        Rejection("c.csv", 3, None, "creator_id", "'creator_id' is blank; every creator needs a unique id"),
        Rejection("c.csv", 4, "c1", "bio", 'has "quotes", commas', "blanked"),
    ]
    path = write_quarantine(rejections, tmp_path / "quarantine.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert frame.values.tolist() == [
        ["c.csv", "3", "", "creator_id", "rejected", rejections[0].reason],
        ["c.csv", "4", "c1", "bio", "blanked", rejections[1].reason],
    ]


# ---------------------------------------------------------------------- comments


def comments_csv(tmp_path: Path, rows: list[list[object]], name: str = "comments.csv") -> Path:
    return write_csv(tmp_path / name, list(COMMENT_COLUMNS), rows)


def comment(mid: str, pid: str = "p1", author: str = "u1", **extra: object) -> list[object]:
    row = {"comment_id": mid, "post_id": pid, "author_id": author, "text": "nice pic",
           "created_at": "", "is_creator_reply": ""}
    row.update(extra)
    return [row[c] for c in COMMENT_COLUMNS]


def accepted_posts(*pairs: tuple[str, str]) -> pd.DataFrame:
    """A posts frame as load_posts returns it: (post_id, creator_id) pairs."""
    return pd.DataFrame(
        {"post_id": [p for p, _ in pairs], "creator_id": [c for _, c in pairs]}, dtype="string"
    )


POSTS = accepted_posts(("p1", "c1"), ("p2", "c2"))


def test_good_comments_are_canonical(tmp_path: Path) -> None:
    path = comments_csv(
        tmp_path,
        [
            comment("m1", text=" Which <b>shoes</b> are these?\u200b ", created_at="2026-10-03T14:22:00Z",
                    is_creator_reply="false"),
            comment("m2", author="c1", text="@u1 Trail shoes!", created_at="1791038520", is_creator_reply="TRUE"),
            comment("m3", pid="p2", text="", created_at=""),
        ],
    )
    frame, rejections, report = load_comments(path, POSTS)
    assert rejections == [] and (report.name, report.read, report.accepted) == ("comments", 3, 3)
    assert list(frame.columns) == list(COMMENT_COLUMNS)
    assert frame.text.tolist() == ["Which shoes are these?", "@u1 Trail shoes!", ""]
    assert str(frame.created_at.dtype) == "datetime64[ns, UTC]"
    assert frame.created_at[0] == pd.Timestamp("2026-10-03T14:22:00Z") and pd.isna(frame.created_at[2])
    assert frame.created_at[1] == pd.Timestamp(1791038520, unit="s", tz="UTC")
    assert str(frame.is_creator_reply.dtype) == "boolean"
    assert frame.is_creator_reply.tolist() == [False, True, False]
    assert isinstance(frame.index, pd.RangeIndex)


def test_is_creator_reply_is_derived_only_when_blank(tmp_path: Path) -> None:
    path = comments_csv(
        tmp_path,
        [
            comment("m1", "p1", "c1"),                          # the post's creator: derived true
            comment("m2", "p1", "c2"),                          # another creator's id: false
            comment("m3", "p2", "c2"),                          # p2 is c2's post: true
            comment("m4", "p1", "u9"),                          # audience: false
            comment("m5", "p1", "c1", is_creator_reply="no"),   # given values are kept
            comment("m6", "p1", "@c1_shop", is_creator_reply="yes"),
        ],
    )
    frame, rejections, _ = load_comments(path, POSTS)
    assert rejections == []
    assert frame.is_creator_reply.tolist() == [True, False, True, False, False, True]


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (comment(" "), "comment_id", "'comment_id' is blank; every comment needs a unique id"),
        (comment("m1", pid=""), "post_id", "'post_id' is blank; every comment needs the id of its post"),
        (comment("m1", pid="p9"), "post_id",
         "'post_id' 'p9' is not in the posts file (or was quarantined); add the post or drop the comment"),
        (comment("m1", author=""), "author_id",
         "'author_id' is blank; every comment needs the id of its author"),
    ],
)
def test_bad_comment_rows_are_quarantined(tmp_path: Path, row: list[object], field: str, reason: str) -> None:
    path = comments_csv(tmp_path, [comment("m0"), row])
    frame, rejections, report = load_comments(path, POSTS)
    rejection = only_rejection(rejections)
    assert (rejection.file, rejection.row, rejection.field, rejection.reason) == (str(path), 2, field, reason)
    assert rejection.action == "rejected"
    assert frame.comment_id.tolist() == ["m0"]
    assert report.accepted + report.quarantined == report.read == 2


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (comment("m1", created_at="soon"), "created_at",
         "'created_at' 'soon' is neither ISO-8601 nor epoch seconds; write e.g. 2026-10-03T14:22:00Z"),
        (comment("m1", is_creator_reply="maybe"), "is_creator_reply",
         "'is_creator_reply' is 'maybe'; write true/false, yes/no or 1/0, or leave it blank"),
    ],
)
def test_bad_optional_comment_values_are_blanked(tmp_path: Path, row: list[object], field: str, reason: str) -> None:
    path = comments_csv(tmp_path, [comment("m0"), row])
    frame, rejections, report = load_comments(path, POSTS)
    rejection = only_rejection(rejections)
    assert (rejection.row, rejection.field, rejection.reason, rejection.action) == (2, field, reason, "blanked")
    assert frame.comment_id.tolist() == ["m0", "m1"]
    assert (report.accepted, report.quarantined, report.blanked) == (2, 0, 1)


def test_duplicate_comment_id_keeps_first(tmp_path: Path) -> None:
    path = comments_csv(tmp_path, [comment("m1", text="first"), comment("m1", pid="p9"), comment("m1", text="again")])
    frame, rejections, report = load_comments(path, POSTS)
    assert frame.text.tolist() == ["first"]
    assert [(r.row, r.field) for r in rejections] == [(2, "post_id"), (3, "comment_id")]
    assert rejections[1].reason.startswith("'comment_id' 'm1' repeats row 1, which is kept")
    assert report.duplicates == 1


def test_comments_need_their_columns_and_a_posts_frame(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "comments.csv", ["comment_id", "post_id", "text"], [["m1", "p1", "x"]])
    with pytest.raises(InputFileError, match="'author_id'") as info:
        load_comments(path, POSTS)
    assert str(path) in str(info.value)
    with pytest.raises(ValueError, match="creator_id"):
        load_comments(comments_csv(tmp_path, [comment("m1")]), POSTS[["post_id"]])


def test_load_dataset_chains_posts_into_comments(tmp_path: Path) -> None:
    creators = creators_csv(tmp_path, [creator("c1")])
    posts = posts_csv(tmp_path, [post("p1", "c1"), post("p2", "c1", likes="-1"), post("p3", "c9")])
    comments = comments_csv(tmp_path, [comment("m1", "p1", "c1"), comment("m2", "p2"), comment("m3", "p3")])
    dataset = load_dataset(creators, posts, comments=comments)
    assert dataset.brands is None and dataset.comments is not None
    assert dataset.comments.comment_id.tolist() == ["m1", "m2"]
    assert dataset.comments.is_creator_reply.tolist() == [True, False]
    assert [r.name for r in dataset.reports] == ["creators", "posts", "comments"]
    assert [(r.file, r.id, r.field, r.action) for r in dataset.rejections] == [
        (str(posts), "p2", "likes", "blanked"),
        (str(posts), "p3", "creator_id", "rejected"),
        (str(comments), "m3", "post_id", "rejected"),
    ]
    brands = brands_csv(tmp_path, [brand("b1")])
    with_brands = load_dataset(creators, posts, brands, comments=comments, max_text_chars=50)
    assert [r.name for r in with_brands.reports] == ["creators", "posts", "brands", "comments"]
    assert load_dataset(creators, posts).comments is None


def test_comment_texts_are_normalised_once_per_distinct_value(tmp_path: Path) -> None:
    texts = ["love this 😍", "<p>Is it   vegan?</p>", "love this 😍", "a" * 30 + " " + "b" * 30, ""]
    path = comments_csv(tmp_path, [comment(f"m{i}", text=t) for i, t in enumerate(texts)])
    frame, _, _ = load_comments(path, POSTS, max_text_chars=40)
    assert frame.text.tolist() == ["love this 😍", "Is it vegan?", "love this 😍", "a" * 30, ""]
    assert str(frame.text.dtype) == "string"


# ---------------------------------------------------------------------- outcomes


def outcomes_csv(tmp_path: Path, rows: list[list[object]], name: str = "outcomes.csv") -> Path:
    return write_csv(tmp_path / name, list(OUTCOME_COLUMNS), rows)


def outcome(bid: str = "b1", cid: str = "c1", value: object = "12.5", date: object = "", price: object = "") -> list[object]:
    return [bid, cid, value, date, price]


def test_a_bad_price_costs_the_price_not_the_outcome(tmp_path: Path) -> None:
    rows = [
        outcome(cid="c1", price="250"),
        outcome(cid="c2", price=" 1.2e3 "),
        outcome(cid="c3", price="-40"),
        outcome(cid="c4", price="$300"),
        outcome(cid="c5", price="inf"),
        outcome(cid="c6", price="0"),
        outcome(cid="c7", price=""),
    ]
    frame, rejections, report = load_outcomes(outcomes_csv(tmp_path, rows))
    assert (report.read, report.accepted, report.quarantined, report.blanked) == (7, 7, 0, 3)
    assert str(frame.price.dtype) == "float64"
    assert frame.price.tolist()[:2] == [250.0, 1200.0] and frame.price.tolist()[5] == 0.0
    assert frame.price.isna().tolist() == [False, False, True, True, True, False, True]
    reasons = {r.row: (r.field, r.action, r.reason) for r in rejections}
    assert reasons[3] == ("price", "blanked", "'price' is -40; a price cannot be negative, write the price paid per post in USD as a plain number such as 250 or 1200.50, or leave it blank")
    assert reasons[4][2].startswith("'price' is '$300', not a number;")
    assert reasons[5][2].startswith("'price' is 'inf', not a number;")


def test_outcomes_without_a_price_column_have_blank_prices(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", ["brand_id", "creator_id", "outcome"], [["b1", "c1", "3"]])
    frame, rejections, _ = load_outcomes(path)
    assert rejections == [] and frame.price.isna().all()


def test_good_outcomes_are_canonical(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "outcomes.csv",
        ["brand_id", "creator_id", "outcome", "date", "campaign"],
        [
            ["b1", "c1", "12.5", "2026-07-14", "spring"],
            ["b1", "007", "0", "1791038520", "autumn"],
            ["b2", "c1", " 3e2 ", "", ""],
        ],
    )
    frame, rejections, report = load_outcomes(path)
    assert rejections == [] and (report.name, report.read, report.accepted) == ("outcomes", 3, 3)
    assert list(frame.columns) == [*OUTCOME_COLUMNS, "campaign"]
    assert frame.creator_id.tolist() == ["c1", "007", "c1"]
    assert str(frame.outcome.dtype) == "float64" and frame.outcome.tolist() == [12.5, 0.0, 300.0]
    assert str(frame.date.dtype) == "datetime64[ns, UTC]"
    assert frame.date[0] == pd.Timestamp("2026-07-14", tz="UTC") and pd.isna(frame.date[2])


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (outcome(bid=""), "brand_id", "'brand_id' is blank; every outcome needs the brand of its campaign"),
        (outcome(cid=" "), "creator_id", "'creator_id' is blank; every outcome needs the creator of its campaign"),
        (outcome(value=""), "outcome",
         "'outcome' is blank; give the campaign's result (e.g. conversions), write a number >= 0 such as 12 or 3.5"),
        (outcome(value="-2"), "outcome",
         "'outcome' is -2; outcomes cannot be negative, write a number >= 0 such as 12 or 3.5"),
        (outcome(value="lots"), "outcome",
         "'outcome' is 'lots', not a finite number; write a number >= 0 such as 12 or 3.5"),
        (outcome(value="NaN"), "outcome",
         "'outcome' is 'NaN', not a finite number; write a number >= 0 such as 12 or 3.5"),
        (outcome(value="inf"), "outcome",
         "'outcome' is 'inf', not a finite number; write a number >= 0 such as 12 or 3.5"),
        (outcome(value="1,200"), "outcome",
         "'outcome' is '1,200', not a finite number; write a number >= 0 such as 12 or 3.5"),
    ],
)
def test_bad_outcome_rows_are_quarantined(tmp_path: Path, row: list[object], field: str, reason: str) -> None:
    path = outcomes_csv(tmp_path, [outcome(cid="c0"), row])
    frame, rejections, report = load_outcomes(path)
    rejection = only_rejection(rejections)
    assert (rejection.row, rejection.field, rejection.reason) == (2, field, reason)
    assert frame.creator_id.tolist() == ["c0"]
    assert report.accepted + report.quarantined == report.read == 2


def test_bad_outcome_date_is_blanked(tmp_path: Path) -> None:
    path = outcomes_csv(tmp_path, [outcome(cid="c0"), outcome(date="last spring")])
    frame, rejections, report = load_outcomes(path)
    rejection = only_rejection(rejections)
    assert (rejection.row, rejection.field, rejection.action) == (2, "date", "blanked")
    assert rejection.reason == (
        "'date' 'last spring' is neither ISO-8601 nor epoch seconds; write e.g. 2026-10-03T14:22:00Z"
    )
    assert frame.creator_id.tolist() == ["c0", "c1"] and frame.date.isna().all()
    assert (report.accepted, report.quarantined, report.blanked) == (2, 0, 1)


def test_repeated_brand_creator_and_date_keeps_first(tmp_path: Path) -> None:
    path = outcomes_csv(
        tmp_path,
        [
            outcome("b1", "c1", "5", "2026-07-14"),
            outcome("b1", "c1", "9", "2026-08-01"),            # another campaign: kept
            outcome("b1", "c1", "7", "2026-07-14T00:00:00Z"),  # the same instant: duplicate
            outcome("b2", "c1", "4", ""),
            outcome("b2", "c1", "6", ""),                      # two blank dates are the same
            outcome("", "c1", "1", "2026-07-14"),
        ],
    )
    frame, rejections, report = load_outcomes(path)
    assert frame.outcome.tolist() == [5.0, 9.0, 4.0]
    assert [(r.row, r.id, r.field) for r in rejections] == [
        (3, "b1/c1", "date"), (5, "b2/c1", "date"), (6, "/c1", "brand_id"),
    ]
    assert rejections[0].reason.startswith(
        "brand_id 'b1', creator_id 'c1' and date 2026-07-14T00:00:00+00:00 repeats row 1, which is kept"
    )
    assert "a blank date repeats row 4" in rejections[1].reason
    assert report.duplicates == 2


def test_outcomes_need_their_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "outcomes.csv", ["brand_id", "creator_id", "conversions"], [["b1", "c1", "3"]])
    with pytest.raises(InputFileError, match="'outcome'") as info:
        load_outcomes(path)
    assert str(path) in str(info.value)


def test_typed_outcome_values_from_jsonl(tmp_path: Path) -> None:
    values: list[object] = [3, 2.5, 0, None, -1, True, [1], {"n": 1}, "4", 1e400]
    path = write_jsonl(
        tmp_path / "outcomes.jsonl",
        [{"brand_id": "b1", "creator_id": f"c{i}", "outcome": v} for i, v in enumerate(values)],
    )
    frame, rejections, report = load_outcomes(path)
    assert frame.outcome.tolist() == [3.0, 2.5, 0.0, 4.0]
    assert [r.id for r in rejections] == ["b1/c3", "b1/c4", "b1/c5", "b1/c6", "b1/c7", "b1/c9"]
    assert all(r.field == "outcome" for r in rejections)
    assert report.accepted + report.quarantined == report.read == len(values)


# ------------------------------------------------- comments and outcomes, three formats


def _comment_and_outcome_records() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    comments = [
        {"comment_id": "m1", "post_id": "p1", "author_id": "u0000001", "text": "Which shoes are these?",
         "created_at": "2026-10-03T15:00:00Z", "is_creator_reply": False, "likes": 2},
        {"comment_id": "m2", "post_id": "p1", "author_id": "007", "text": "@u0000001 Trail shoes",
         "created_at": 1791040000, "is_creator_reply": None, "likes": None},
        {"comment_id": "m3", "post_id": "p2", "author_id": "007", "text": "🔥🔥🔥",
         "created_at": None, "is_creator_reply": True, "likes": 0},
    ]
    outcomes = [
        {"brand_id": "b1", "creator_id": "007", "outcome": 12.5, "date": "2026-07-14"},
        {"brand_id": "b1", "creator_id": "c2", "outcome": 0.0, "date": None},
    ]
    return comments, outcomes


def _write_records(path: Path, records: list[dict[str, object]], fmt: str) -> Path:
    if fmt == "csv":
        header = list(records[0])
        write_csv(path, header, [[_as_csv_cell(r[c]) for c in header] for r in records])
    elif fmt == "jsonl":
        write_jsonl(path, records)
    else:
        frame = pd.DataFrame(records)
        for column in ("is_creator_reply",):
            if column in frame:
                frame[column] = frame[column].astype("boolean")
        if "likes" in frame:
            frame["likes"] = frame["likes"].astype("Int64")
        if "created_at" in frame:
            frame["created_at"] = frame["created_at"].map(lambda v: None if v is None else str(v))
        frame.to_parquet(path)
    return path


def test_comments_and_outcomes_in_all_formats_give_equal_frames(tmp_path: Path) -> None:
    comment_records, outcome_records = _comment_and_outcome_records()
    loaded = {}
    for fmt in ("csv", "jsonl", "parquet"):
        folder = tmp_path / fmt
        folder.mkdir()
        creators, posts, _ = _write_all(folder, fmt)
        comments = _write_records(folder / f"comments.{fmt}", comment_records, fmt)
        dataset = load_dataset(creators, posts, comments=comments)
        outcomes, rejections, _ = load_outcomes(_write_records(folder / f"outcomes.{fmt}", outcome_records, fmt))
        assert dataset.rejections == () and rejections == [], fmt
        loaded[fmt] = (dataset.comments, outcomes)
    base_comments, base_outcomes = loaded["csv"]
    assert base_comments is not None
    assert base_comments.is_creator_reply.tolist() == [False, True, True]  # m2 derived: 007 owns p1
    assert base_comments.created_at[1] == pd.Timestamp(1791040000, unit="s", tz="UTC")
    assert base_outcomes.outcome.tolist() == [12.5, 0.0]
    for fmt in ("jsonl", "parquet"):
        other_comments, other_outcomes = loaded[fmt]
        assert other_comments is not None
        pd.testing.assert_frame_equal(base_comments[list(COMMENT_COLUMNS)], other_comments[list(COMMENT_COLUMNS)])
        pd.testing.assert_frame_equal(base_outcomes, other_outcomes)
        assert other_comments["likes"].tolist()[0] in (2, "2")


_AUTHOR = st.sampled_from(["u1", "c1", "c2", "", " "])
_AMOUNT = st.sampled_from(["", "0", "12.5", "-3", "lots", "nan", "inf", "1e3", " 7 ", "1,5"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    comment_rows=messy_rows(
        len(COMMENT_COLUMNS),
        {0: _ID.map(lambda s: s.replace("c", "m")), 1: _ID.map(lambda s: s.replace("c", "p")), 2: _AUTHOR,
         3: _TEXT, 4: _DATE, 5: _FLAG},
        _TEXT,
    ),
    outcome_rows=messy_rows(len(OUTCOME_COLUMNS), {0: _ID.map(lambda s: s.replace("c", "b")), 1: _ID, 2: _AMOUNT, 3: _DATE}, _TEXT),
)
def test_comments_and_outcomes_accepted_plus_quarantined_equals_read(
    tmp_path_factory: pytest.TempPathFactory,
    comment_rows: list[list[str]],
    outcome_rows: list[list[str]],
) -> None:
    folder = tmp_path_factory.mktemp("messy_talk")
    posts = accepted_posts(("p1", "c1"), ("p2", "c2"), ("007", "c3"))
    comments, comment_rejections, comment_report = load_comments(comments_csv(folder, comment_rows), posts)
    outcomes, outcome_rejections, outcome_report = load_outcomes(outcomes_csv(folder, outcome_rows))
    for frame, rejections, report, rows in (
        (comments, comment_rejections, comment_report, comment_rows),
        (outcomes, outcome_rejections, outcome_report, outcome_rows),
    ):
        rejected = [r for r in rejections if r.action == "rejected"]
        assert report.read == len(rows)
        assert report.accepted + report.quarantined == report.read
        assert report.quarantined == len(rejected) and len(frame) == report.accepted
        assert report.blanked == len(rejections) - len(rejected)
        assert len({r.row for r in rejected}) == len(rejected)
        assert all(1 <= r.row <= report.read and r.reason for r in rejections)
    assert comments.comment_id.is_unique and comments.comment_id.notna().all()
    assert set(comments.post_id) <= set(posts.post_id)
    assert comments.is_creator_reply.notna().all()
    assert (outcomes.outcome >= 0).all() and outcomes.outcome.notna().all()
    assert not outcomes.duplicated(["brand_id", "creator_id", "date"]).any()


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_csv_delimiter_is_taken_from_the_header(tmp_path: Path, sep: str) -> None:
    # Spreadsheets in many locales save "CSV" with semicolons; the comma inside the bio stays text.
    path = tmp_path / "creators.csv"
    path.write_text(
        sep.join(["creator_id", "handle", "platform", "bio", "followers"]) + "\n"
        + sep.join(["c1", "@one", "instagram", "trail runs, mostly", "12000"]) + "\n"
        + sep.join(["c2", "@two", "tiktok", "espresso", "900"]) + "\n",
        encoding="utf-8",
    )
    frame, rejections, report = load_creators(path)
    assert rejections == [] and report.read == report.accepted == 2
    assert frame["creator_id"].tolist() == ["c1", "c2"]
    assert frame["bio"].tolist()[0] == "trail runs, mostly"
    assert frame["followers"].tolist() == [12000, 900]
    assert read_table(path).columns.tolist() == ["creator_id", "handle", "platform", "bio", "followers"]


def test_csv_error_names_the_delimiter(tmp_path: Path) -> None:
    # The header is read as semicolon-separated; a later line that breaks it gets an error naming the delimiter.
    path = tmp_path / "creators.csv"
    path.write_bytes(b"creator_id;bio\nc1;a\nc2;b;c\n")
    with pytest.raises(InputFileError) as info:
        load_creators(path)
    message = str(info.value)
    assert str(path) in message and "semicolon (';')" in message and "line 3" in message


def test_optional_budget_column_blanks_bad_values_and_keeps_the_row(tmp_path: Path) -> None:
    rows = [dict(zip(BRAND_COLUMNS, brand(b))) | {"budget": v} for b, v in
            (("b1", "5000"), ("b2", ""), ("b3", "1,500.50"), ("b4", "-3"), ("b5", "lots"), ("b6", "0"), ("b7", "inf"))]
    path = write_csv(tmp_path / "brands.csv", [*BRAND_COLUMNS, "budget"], [[r[c] for c in [*BRAND_COLUMNS, "budget"]] for r in rows])
    frame, rejections, report = load_brands(path)
    assert report.accepted == 7 and report.quarantined == 0 and report.blanked == 4
    got = dict(zip(frame["brand_id"], frame["budget"]))
    assert got["b1"] == 5000.0 and got["b3"] == 1500.5
    assert all(pd.isna(got[b]) for b in ("b2", "b4", "b5", "b6", "b7"))
    assert [(r.id, r.field, r.action) for r in rejections] == [(b, "budget", "blanked") for b in ("b4", "b5", "b6", "b7")]
    assert "'budget' is -3, not an amount above 0" in rejections[0].reason and "leave it blank for no shortlist" in rejections[0].reason
    # Without the column, brands have no budget column at all (the contract's columns as before).
    frame, _, _ = load_brands(brands_csv(tmp_path, [brand("b1")], name="plain.csv"))
    assert "budget" not in frame.columns


# ------------------------------------------------------------- tables read part by part


def _load_table(table: str, path: Path, sample) -> tuple[pd.DataFrame, list[Rejection], object]:
    if table == "creators":
        return load_creators(path)
    if table == "posts":
        return load_posts(path, load_creators(sample.creators)[0]["creator_id"])
    if table == "brands":
        return load_brands(path)
    if table == "comments":
        creators = load_creators(sample.creators)[0]["creator_id"]
        return load_comments(path, load_posts(sample.posts, creators)[0])
    return load_outcomes(path)


def _write_rows(frame: pd.DataFrame, path: Path) -> Path:
    """The rows as CSV, or as JSON Lines with each blank value's key left out (so the parts of a
    folder may each lack some of the columns)."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        write_jsonl(path, [{k: v for k, v in row.items() if v != ""} for row in frame.to_dict("records")])
    return path


def _as_one_file(rejections: list[Rejection], parts: list[Path], starts: list[int], whole: Path) -> list[Rejection]:
    """The rejections of a folder's parts as the whole file's: its rows, and the kept rows that
    duplicates name, numbered in the file."""
    start_of = {p.name: s for p, s in zip(parts, starts)}

    def renumbered(reason: str) -> str:
        return re.sub(r"repeats row (\d+) of (\S+?),", lambda m: f"repeats row {start_of[m[2]] + int(m[1])},", reason)

    at = {str(p): s for p, s in zip(parts, starts)}
    return [Rejection(str(whole), at[r.file] + r.row, r.id, r.field, renumbered(r.reason), r.action) for r in rejections]


@pytest.mark.parametrize("table", ["creators", "posts", "brands", "comments", "outcomes"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_table_read_in_parts_is_the_table_read_whole(sample, tmp_path_factory, table: str, data) -> None:
    # Each part is converted on its own (as a Ray task converts it): its values, its quarantine,
    # its checks against the other tables. Wherever the parts are cut, the accepted rows, the
    # quarantine (bad values of the sample's messy rows, duplicates across parts) and the counts
    # are those of the whole file.
    source = getattr(sample, table)
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    suffix = data.draw(st.sampled_from([".csv", ".jsonl"]), label="format")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), min_size=1, max_size=4), label="cuts"))
    tmp = tmp_path_factory.mktemp(table)
    whole = _write_rows(raw, tmp / f"{table}{suffix}")
    (tmp / "parts").mkdir()
    bounds = [0, *cuts, len(raw)]
    parts = [_write_rows(raw.iloc[lo:hi], tmp / "parts" / f"part-{k:05d}{suffix}") for k, (lo, hi) in enumerate(zip(bounds, bounds[1:]))]
    one, one_rejections, one_report = _load_table(table, whole, sample)
    split, split_rejections, split_report = _load_table(table, tmp / "parts", sample)
    pd.testing.assert_frame_equal(split, one)
    assert one_rejections and _as_one_file(split_rejections, parts, bounds[:-1], whole) == one_rejections
    counts = ("read", "accepted", "quarantined", "duplicates", "blanked")
    assert [getattr(split_report, c) for c in counts] == [getattr(one_report, c) for c in counts]

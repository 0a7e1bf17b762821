"""Past collaborations: brand keys, the three sources, what is never a collaboration, and the mention forms."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.collaborations import (
    COLLABORATION_COLUMNS,
    BrandNames,
    brand_key,
    collection_collaborations,
    code_shops,
    cue_names,
    detect_collaborations,
    mention_forms,
    mentions_in,
)
from matcher.signals import post_signals


def _posts(rows):
    frame = pd.DataFrame(rows, columns=["post_id", "creator_id", "text", "posted_at", "sponsored", "sponsor"])
    frame["sponsored"] = frame["sponsored"].astype("boolean")
    frame["sponsor"] = frame["sponsor"].astype("string")
    return frame


def _detect(rows, *, handles=None, known=()):
    posts = _posts(rows)
    return detect_collaborations(posts, post_signals(posts), handles=handles or {}, known=known)


@pytest.mark.parametrize(
    "name, key",
    [
        ("Summit Trail Co", "summittrail"),
        ("SUMMIT TRAIL CO.", "summittrail"),
        ("@summittrail", "summittrail"),
        ("#SummitTrail", "summittrail"),
        ("summit-trail.com", "summittrail"),
        ("Seed & Spade", "seedandspade"),
        ("Crème Brûlée Ltd", "cremebrulee"),
        ("Nike, Inc.", "nike"),
        ("Vertfuel.org", "vertfuel"),
        ("", ""),
        (None, ""),
    ],
)
def test_brand_key_ignores_case_accents_punctuation_signs_domains_and_legal_forms(name, key):
    assert brand_key(name) == key


@given(st.from_regex(r"[A-Za-z][A-Za-z ]{0,20}[A-Za-z]", fullmatch=True))
def test_brand_key_is_the_same_for_any_case_and_sign(name):
    assert brand_key(name.upper()) == brand_key(name.lower()) == brand_key(name)
    if " " not in name:
        assert brand_key("@" + name) == brand_key("#" + name) == brand_key(name)


def test_cue_names_take_the_capitalised_name_after_a_sponsorship_cue():
    assert cue_names("#ad This post is sponsored by Summit Trail Co. Use code TRAIL20") == ["Summit Trail Co"]
    assert cue_names("Thanks to Peakline for the shoes #sp") == ["Peakline"]
    assert cue_names("Code TRAIL20 saves you 20% at Roamly") == ["Roamly"]
    assert cue_names("AD | Lumen Derm sent me their serum to try.") == ["Lumen Derm"]
    assert cue_names("Paid partnership with Seed & Spade.") == ["Seed & Spade"]
    assert cue_names("SUMMIT TRAIL » Use code JO for 10% off\nPeakline - use code JO15") == ["SUMMIT TRAIL", "Peakline"]
    assert cue_names("Thank you so much to Vertfuel for sponsoring") == ["Vertfuel"]
    assert cue_names("https://x.example/c/ab1c2 Peakline - Use code JO") == ["Peakline"]  # not from inside a link
    assert cue_names("sponsored by my friends at the gym") == []  # no capitalised name
    assert cue_names("Thanks to The Team for watching") == []  # only stop words


def test_the_link_next_to_a_discount_code_names_the_shop():
    assert code_shops("Use code JO for 10% off http://www.peaklinegear.com and more") == ["peaklinegear"]
    assert code_shops("Visit https://summit-trail.co.uk/x, coupon code TRAIL20") == ["summit-trail"]
    assert code_shops("coupon code JO: https://screerunning.refersion.com/c/1a2b3") == ["screerunning"]  # a network's subdomain
    # Shorteners, platforms and shops far from any code name nothing.
    assert code_shops("use code JO http://bit.ly/x https://instagram.com/jo") == []
    assert code_shops("use code JO " + "x" * 200 + " http://farshop.com") == []
    assert code_shops("use code JO " + "x" * 100 + " http://farshop.com") == ["farshop"]
    assert code_shops("no code here: http://www.peaklinegear.com") == []


def test_a_handle_resolves_to_the_known_brand_it_belongs_to():
    names = BrandNames().add(["@summittrailco", "Summit Trail Co", "Loam Co", "Chapter & Verse"])
    assert names.resolve("chapterverse") == ("chapterandverse", "Chapter & Verse")
    assert names.resolve("summittrailco") == ("summittrail", "Summit Trail Co")
    assert names.resolve("summittrail_official") == ("summittrail", "Summit Trail Co")
    assert names.resolve("loamco") == ("loam", "Loam Co")
    assert names.resolve("janedoe") == ("janedoe", "@janedoe")
    # "Loam" alone is a word, not the brand; "Summit Trail" and "#summittrail" are.
    assert names.find(["our", "loam", "soil"]) == []
    assert names.find(["summit", "trail", "and", "summittrail"]) == ["summittrail"]


def test_sponsor_column_gives_a_disclosed_collaboration_even_without_a_label():
    found = _detect(
        [
            ("p1", "c1", "New shoes for the long run.", "2026-10-01T10:00:00Z", True, "Summit Trail Co"),
            ("p2", "c1", "Morning miles.", "2026-09-01T10:00:00Z", None, "@summittrailco|PEAKLINE"),
        ]
    )
    assert list(found.columns) == list(COLLABORATION_COLUMNS)
    assert found[["post_id", "brand", "brand_key", "disclosed", "source"]].values.tolist() == [
        ["p1", "Summit Trail Co", "summittrail", True, "sponsor"],
        ["p2", "Summit Trail Co", "summittrail", True, "sponsor"],
        ["p2", "PEAKLINE", "peakline", True, "sponsor"],
    ]
    assert str(found["posted_at"].iloc[0]) == "2026-10-01 10:00:00+00:00"


def test_mentions_in_sponsored_posts_are_brands_but_not_people_or_platforms():
    handles = {"c1": "runner_jo", "c2": "photo_sam"}
    found = _detect(
        [
            # detected as sponsored from its code; @runner_jo is the creator, @photo_sam another creator,
            # @instagram a platform
            ("p1", "c1", "Use code JO15 at @peakline_official! 📸 @photo_sam @runner_jo @instagram", "2026-10-01", None, None),
            ("p2", "c1", "#ad my new poles from @scree.running", "2026-09-01", None, None),
        ],
        handles=handles,
    )
    assert found[["post_id", "brand", "brand_key", "disclosed", "source"]].values.tolist() == [
        ["p1", "@peakline_official", "peakline", False, "mention"],
        ["p2", "@scree.running", "screerunning", True, "mention"],
    ]


def test_a_known_brand_is_found_by_name_in_a_sponsored_post_in_words_hashtags_and_links():
    found = _detect(
        [
            ("p1", "c1", "Loving my Summit Trail vest #ad", "2026-10-01", None, None),
            ("p2", "c1", "Grab it: https://shop.example/summit-trail?ref=jo use code JO15", "2026-09-01", None, None),
            ("p3", "c1", "Thanks to Vertfuel for sponsoring today's run #summittrail", "2026-08-01", None, None),
        ],
        known=["Summit Trail Co"],
    )
    got = found[["post_id", "brand", "disclosed", "source"]].values.tolist()
    assert got == [
        ["p1", "Summit Trail Co", True, "name"],
        ["p2", "Summit Trail Co", False, "name"],
        ["p3", "Vertfuel", True, "name"],
        ["p3", "Summit Trail Co", True, "name"],
    ]


def test_unsponsored_posts_give_no_collaboration():
    found = _detect(
        [
            ("p1", "c1", "Ran with @peakline friends today, Summit Trail Co shoes as always #summittrail", "2026-10-01", False, None),
            ("p2", "c1", "Thanks to Peakline for the trail map", "2026-10-02", None, None),
        ],
        known=["Summit Trail Co", "Peakline"],
    )
    assert found.empty and list(found.columns) == list(COLLABORATION_COLUMNS)


def test_a_creators_own_brand_is_not_a_collaboration():
    found = _detect(
        [("p1", "c1", "#ad our new jacket, shop @summittrail now", "2026-10-01", True, "Summit Trail")],
        handles={"c1": "summittrail"},
    )
    assert found.empty


def test_collection_collaborations_know_the_brands_table_and_the_handles():
    creators = pd.DataFrame({"creator_id": ["c1", "c2"], "handle": ["runner_jo", "photo_sam"]})
    posts = _posts([("p1", "c1", "Use code JO15 for my Kettle Club pad, pics @photo_sam", "2026-10-01", None, None)])
    brands = pd.DataFrame({"brand_id": ["b1"], "name": ["Forge Fitness"], "competitors": [["Kettle Club"]]})
    found = collection_collaborations(creators, posts, post_signals(posts), brands)
    assert found[["brand", "source"]].values.tolist() == [["Kettle Club", "name"]]


def test_mention_forms_and_post_words_match_across_case_spacing_handles_and_hashtags():
    assert mention_forms("Trail running") == (" trail running ", " trailrunning ")
    assert mention_forms("@Peakline") == (" peakline ",)
    assert mention_forms("!!!") == ()
    words = mentions_in(["I love #TrailRunning", "trail-running rocks", "TRAIL RUNNING", "trail runners", "@peak_line"])
    hits = [[any(f in w for f in mention_forms(t)) for w in words] for t in ("trail running", "peakline")]
    assert hits == [[True, True, True, False, False], [False, False, False, False, True]]

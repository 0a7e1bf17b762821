import json

import pandas as pd
import pytest

from matcher.adapters import (
    amazon_brands,
    category_prefix,
    convert_amazon,
    convert_youtube,
    crosswalk_qrels,
    leaf_category,
    read_crosswalk,
    youtube_tables,
)
from matcher.errors import InputFileError
from matcher.ingest import load_dataset

YT_HEADER = "video_id,trending_date,title,channel_title,category_id,publish_time,tags,views,likes,dislikes,comment_count,thumbnail_link,comments_disabled,ratings_disabled,video_error_or_removed,description\n"
YT_ROWS = [
    # v1 trends on two days: the later row (17.15.11 = 15 Nov) must win.
    'v1,17.15.11,Knitting a scarf,CraftyAnn,26,2017-11-10T10:00:00.000Z,"knitting|""yarn""",2000,150,3,20,http://x,False,False,False,Use code ANN10 for 10% off\\nhttp://amzn.to/x',
    'v1,17.14.11,Knitting a scarf,CraftyAnn,26,2017-11-10T10:00:00.000Z,"knitting|""yarn""",1000,90,1,10,http://x,False,False,False,Use code ANN10 for 10% off\\nhttp://amzn.to/x',
    "v2,17.14.11,Crochet basics,CraftyAnn,26,2017-11-12T10:00:00.000Z,[none],500,40,0,5,http://x,True,False,False,Learn to crochet",
    "v3,17.14.11,Speedrun world record,GameGuy,20,2017-11-11T10:00:00.000Z,speedrun|games,9000,800,10,300,http://x,False,True,False,No commentary",
    "v4,17.14.11,Funny cats,CraftyAnn,23,2017-11-13T10:00:00.000Z,,100,10,0,1,http://x,False,False,False,",
]
CATEGORIES = {"items": [{"id": "26", "snippet": {"title": "Howto & Style"}}, {"id": "20", "snippet": {"title": "Gaming"}}, {"id": "23", "snippet": {"title": "Comedy"}}]}

AMAZON = (
    "Uniq Id,Product Name,Brand Name,Category,About Product,Product Description\n"
    'p1,Chunky Yarn Kit,Woolies,Arts & Crafts | Knitting | Yarn,Make sure this fits by entering your model number. | SOFT: merino wool | Ten colours,\n'
    'p2,Puzzle Cube,,Toys & Games | Puzzles | Brain Teasers,,"A classic twisty puzzle"\n'
    "p3,Mystery Box,,,,\n"
)


@pytest.fixture()
def youtube(tmp_path):
    v = tmp_path / "USvideos.csv"
    v.write_text(YT_HEADER + "\n".join(YT_ROWS) + "\n", encoding="utf-8")
    c = tmp_path / "US_category_id.json"
    c.write_text(json.dumps(CATEGORIES))
    return v, c


def test_youtube_keeps_each_videos_latest_row_and_maps_channels(youtube):
    v, c = youtube
    creators, posts = youtube_tables(v, categories=c)
    assert posts["post_id"].tolist() == ["v1", "v2", "v3", "v4"]
    v1 = posts.set_index("post_id").loc["v1"]
    assert (v1["views"], v1["likes"], v1["comments"]) == (2000, 150, 20)
    assert v1["trending_date"] == "2017-11-15"
    # Tags become words, the escaped newlines real ones.
    assert v1["text"] == "Knitting a scarf\nknitting yarn\nUse code ANN10 for 10% off\nhttp://amzn.to/x"
    assert posts.set_index("post_id").loc["v2", "text"] == "Crochet basics\nLearn to crochet"
    # Disabled counts are unknown, not zero.
    assert pd.isna(posts.set_index("post_id").loc["v2", "comments"])
    assert pd.isna(posts.set_index("post_id").loc["v3", "likes"])
    assert creators["creator_id"].tolist() == ["CraftyAnn", "GameGuy"]
    assert creators.set_index("creator_id")["category"].to_dict() == {"CraftyAnn": "Howto & Style", "GameGuy": "Gaming"}
    assert (creators["platform"] == "youtube").all() and creators["followers"].isna().all()


def test_converted_youtube_and_amazon_files_pass_ingest(youtube, tmp_path):
    v, c = youtube
    res = convert_youtube(v, tmp_path / "out", categories=c)
    products = tmp_path / "products.csv"
    products.write_text(AMAZON)
    brands = convert_amazon(products, tmp_path / "out")
    ds = load_dataset(res.creators, res.posts, brands)
    assert [(r.name, r.read, r.accepted) for r in ds.reports] == [("creators", 2, 2), ("posts", 4, 4), ("brands", 3, 3)]
    # Extra columns survive for evaluation.
    assert "category" in ds.creators.columns and "category_prefix" in ds.brands.columns


def test_amazon_brands_clean_descriptions_and_categories(tmp_path):
    p = tmp_path / "products.csv"
    p.write_text(AMAZON)
    b = amazon_brands(p).set_index("brand_id")
    assert b.loc["p1", "description"] == "SOFT: merino wool. Ten colours."
    assert b.loc["p2", "description"] == "A classic twisty puzzle"  # falls back to Product Description
    assert b.loc["p3", "description"] == "Mystery Box"  # and then to the name
    assert b.loc["p1", "category_prefix"] == "Arts & Crafts>Knitting"
    assert b.loc["p2", "leaf_category"] == "Brain Teasers"
    assert b.loc["p1", "brand_name"] == "Woolies"
    assert category_prefix("A | B | C", levels=1) == "A" and leaf_category("") == ""


def test_wrong_layouts_say_what_is_missing(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="missing column"):
        youtube_tables(p)
    with pytest.raises(InputFileError, match="Amazon"):
        amazon_brands(p)
    with pytest.raises(InputFileError, match="not found"):
        amazon_brands(tmp_path / "nope.csv")


def test_crosswalk_grades(youtube, tmp_path):
    v, c = youtube
    creators, posts = youtube_tables(v, categories=c)
    cw_path = tmp_path / "cw.csv"
    cw_path.write_text("amazon_category_prefix,youtube_category\nArts & Crafts>Knitting,Howto & Style\nToys & Games>Puzzles,Gaming\n")
    cw = read_crosswalk(cw_path)
    brands = pd.DataFrame(
        {
            "brand_id": ["yarn", "cube", "other"],
            "category_prefix": ["Arts & Crafts>Knitting", "Toys & Games>Puzzles", "Home>Kitchen"],
            "leaf_category": ["Yarn", "Brain Teasers", "Pans"],
        }
    )
    q = crosswalk_qrels(creators, posts, brands, cw)
    grades = {(r.brand_id, r.creator_id): r.grade for r in q.itertuples()}
    # CraftyAnn is Howto & Style and says "yarn"; GameGuy is Gaming but never says "brain"/"teasers".
    assert grades == {("yarn", "CraftyAnn"): 2, ("yarn", "GameGuy"): 0, ("cube", "CraftyAnn"): 0, ("cube", "GameGuy"): 1}

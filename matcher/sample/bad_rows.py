"""Deliberately bad rows appended to the sample's tables, one of each kind ingest must quarantine
(a missing or duplicate id, an unknown reference, an unparseable date or number, a negative count)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["add_bad_creators", "add_bad_posts", "add_bad_brands", "add_bad_comments", "add_bad_outcomes"]


def _append(table: dict[str, list[Any]], row: dict[str, Any]) -> None:
    for column, values in table.items():
        values.append(row.get(column))


def add_bad_creators(creators: dict[str, list[Any]], n: int) -> None:
    def template(i: int) -> dict[str, Any]:
        return {c: creators[c][i] for c in creators}

    row = template(0)
    row.update(creator_id=None, handle="no_id_account")
    _append(creators, row)                                   # missing creator_id
    row = template(min(1, n - 1))
    row.update(creator_id=creators["creator_id"][0], handle="duplicate_id_account")
    _append(creators, row)                                   # duplicate creator_id
    row = template(min(2, n - 1))
    row.update(creator_id=f"c{n + 1:06d}", handle="negative_followers", platform="instagram",
               followers=-3, following=150)
    _append(creators, row)                                   # negative followers
    row = template(min(3, n - 1))
    row.update(creator_id=f"c{n + 2:06d}", handle="text_followers", platform="tiktok",
               followers="12k!", following=300)
    _append(creators, row)                                   # non-numeric followers


def add_bad_posts(posts: dict[str, list[Any]], creators: dict[str, list[Any]], n: int) -> None:
    total = len(posts["post_id"])
    if total == 0:
        base = {
            "post_id": "p0000001", "creator_id": creators["creator_id"][0],
            "text": "Sunday reset: coffee, clean sheets and planning the week #sundayreset",
            "posted_at": "2026-10-03T14:22:00Z", "likes": 10, "comments": 1, "views": None,
            "shares": None, "sponsored": False,
        }
        first_id = None
    else:
        base = {c: posts[c][0] for c in posts}
        first_id = posts["post_id"][0]

    def row(suffix: int, **changes: Any) -> dict[str, Any]:
        r = dict(base)
        r["post_id"] = f"p{total + suffix:07d}"
        r.update(changes)
        return r

    _append(posts, row(1, post_id=None))                                   # missing post_id
    _append(posts, row(2, post_id=first_id or f"p{total + 1:07d}"))        # duplicate post_id
    if first_id is None:
        _append(posts, row(3, post_id=f"p{total + 1:07d}"))
    _append(posts, row(4, creator_id=f"c{n + 100:06d}"))                   # unknown creator
    _append(posts, row(5, posted_at="yesterday"))                          # unparseable date
    _append(posts, row(6, likes=-5))                                       # negative likes


def add_bad_brands(brands: dict[str, list[Any]], n_brands: int) -> None:
    _append(brands, {
        "brand_id": f"b{n_brands + 1:03d}", "name": "Northwind Outdoor", "description": "",
    })                                                                     # blank description
    _append(brands, {
        "brand_id": "b001", "name": "Copycat Goods",
        "description": (
            "Copycat Goods sells a stainless steel water bottle that keeps drinks cold for 24 "
            "hours."
        ),
    })                                                                     # duplicate brand_id


def add_bad_comments(comments: dict[str, list[Any]], post_ids: Sequence[str]) -> None:
    if comments["comment_id"]:
        base = {c: comments[c][0] for c in comments}
    else:
        base = {
            "comment_id": "cm00000001", "post_id": post_ids[0] if post_ids else "p0000001",
            "author_id": "u0000001", "text": "nice pic", "created_at": "2026-10-03T14:22:00Z",
            "is_creator_reply": None,
        }
    m = len(comments["comment_id"])

    def row(suffix: int, **changes: Any) -> dict[str, Any]:
        r = dict(base)
        r["comment_id"] = f"cm{m + suffix:08d}"
        r.update(changes)
        return r

    _append(comments, row(1, comment_id=None))                              # missing comment_id
    _append(comments, row(2, comment_id=base["comment_id"]))                # duplicate comment_id
    _append(comments, row(3, post_id=f"p{len(post_ids) + 100:07d}"))        # unknown post
    _append(comments, row(4, created_at="soon"))                            # unparseable date
    _append(comments, row(5, is_creator_reply="maybe"))                     # not a flag


def add_bad_outcomes(outcomes: dict[str, list[Any]], creator_ids: Sequence[str]) -> None:
    if outcomes["brand_id"]:
        base = {c: outcomes[c][0] for c in outcomes}
    else:
        base = {"brand_id": "b001", "creator_id": creator_ids[0], "outcome": 12.5, "date": "2026-09-01", "price": None}
    _append(outcomes, dict(base, brand_id=None))                           # missing brand_id
    _append(outcomes, dict(base, outcome=-4.0, date="2026-06-01"))         # negative outcome
    _append(outcomes, dict(base, outcome="lots", date="2026-06-02"))       # not a number
    _append(outcomes, dict(base))                                           # duplicate key


"""The sample's vocabulary: niche slot lists and caption templates, account and brand material,
and the comments under the posts, read from the JSON files in ``matcher/sample/data/``.

Each niche (``data/niches.json``) has slot lists (any key a template names), caption templates,
bio material, hashtags, keywords (for stuffed bios), sponsor names and name parts for brand
accounts. A template field ending in a digit (``{product2}``) draws another value of the same
slot. ``data/conversation.json`` holds, per niche, real questions (every one ends with ``?``)
with the creator's answer, and substantive remarks; templates there name only ``{product}``
(from the niche) and ``{num}``. No comment other than a question contains ``?``, so a question
is recognisable by its last character. The tables are checked when this module is imported.
"""

from __future__ import annotations

import json
import string
from importlib import resources
from typing import Any

__all__ = [
    "NICHES",
    "NICHE_DATA",
    "COMMON_SLOTS",
    "GENERIC_CAPTIONS",
    "GENERIC_HASHTAGS",
    "CLOSERS",
    "YOUTUBE_CLOSERS",
    "SPONSOR_EARLY",
    "SPONSOR_LATE",
    "SPONSOR_HIDDEN",
    "FIRST_NAMES",
    "HANDLE_STYLES",
    "BIO_TEMPLATES",
    "COUNTRIES",
    "CITIES",
    "BRAND_CATALOGUE",
    "BRAND_VARIANT_SUFFIXES",
    "BRAND_SUFFIXES",
    "BRAND_BIOS",
    "BRAND_PROMOS",
    "CONVERSATION",
    "QUESTION_TEMPLATES",
    "REMARK_TEMPLATES",
    "ANY_ANSWERS",
    "BRAND_QUESTIONS",
    "BRAND_REMARKS",
    "BRAND_ANY_ANSWERS",
    "GENERIC_COMMENTS",
    "BOT_COMMENTS",
    "POD_COMMENTS",
    "template_fields",
]

_FORMATTER = string.Formatter()


def _load(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8"))


def _pairs(rows: list[list[str]]) -> list[tuple[str, str]]:
    return [(question, answer) for question, answer in rows]


_niches = _load("niches.json")
_captions = _load("captions.json")
_accounts = _load("accounts.json")
_brands = _load("brands.json")
_talk = _load("conversation.json")

NICHE_DATA: dict[str, dict[str, Any]] = _niches
#: The niches of the sample, in a fixed order.
NICHES: tuple[str, ...] = tuple(NICHE_DATA)

COMMON_SLOTS: dict[str, list[str]] = _captions["common_slots"]
GENERIC_CAPTIONS: list[str] = _captions["generic_captions"]
GENERIC_HASHTAGS: list[str] = _captions["generic_hashtags"]
CLOSERS: list[str] = _captions["closers"]
YOUTUBE_CLOSERS: list[str] = _captions["youtube_closers"]
#: Sponsored-post phrasing. Clear and early: disclosed at the start, platform flag set.
SPONSOR_EARLY: list[str] = _captions["sponsor_early"]
#: Late or vague: the disclosure hides at the very end.
SPONSOR_LATE: list[str] = _captions["sponsor_late"]
#: Undisclosed: a discount code or an affiliate link, no #ad and no flag.
SPONSOR_HIDDEN: list[str] = _captions["sponsor_hidden"]

FIRST_NAMES: list[str] = _accounts["first_names"]
HANDLE_STYLES: list[str] = _accounts["handle_styles"]
BIO_TEMPLATES: list[str] = _accounts["bio_templates"]
#: Country, weight, share of non-English language codes.
COUNTRIES: list[tuple[str, float, tuple[tuple[str, float], ...]]] = [
    (row["country"], row["weight"], tuple((code, share) for code, share in row["languages"]))
    for row in _accounts["countries"]
]
CITIES: dict[str, list[str]] = _accounts["cities"]

#: Two hand-written product descriptions per niche, in NICHES order.
BRAND_CATALOGUE: list[dict[str, Any]] = _brands["catalogue"]
#: Variants used when more brands are asked for than the catalogue holds.
BRAND_VARIANT_SUFFIXES: list[str] = _brands["variant_suffixes"]
BRAND_SUFFIXES: list[str] = _brands["suffixes"]
BRAND_BIOS: list[str] = _brands["bios"]
BRAND_PROMOS: list[str] = _brands["promos"]

#: Per niche: questions with the creator's answer, and remarks.
CONVERSATION: dict[str, dict[str, list[Any]]] = {
    niche: {"questions": _pairs(talk["questions"]), "remarks": talk["remarks"]}
    for niche, talk in _talk["niches"].items()
}
#: Templates shared by every niche, with the answer to each question ({product} from the niche).
QUESTION_TEMPLATES: list[tuple[str, str]] = _pairs(_talk["question_templates"])
REMARK_TEMPLATES: list[str] = _talk["remark_templates"]
#: Replies that fit any question.
ANY_ANSWERS: list[str] = _talk["any_answers"]
#: Under brand accounts' posts the audience asks about shipping and stock.
BRAND_QUESTIONS: list[tuple[str, str]] = _pairs(_talk["brand_questions"])
BRAND_REMARKS: list[str] = _talk["brand_remarks"]
BRAND_ANY_ANSWERS: list[str] = _talk["brand_any_answers"]
GENERIC_COMMENTS: list[str] = _talk["generic_comments"]
#: Bought engagement: generic praise plus a little spam.
BOT_COMMENTS: list[str] = [*GENERIC_COMMENTS, *_talk["bot_comments"]]
#: Engagement pods: short, enthusiastic, interchangeable.
POD_COMMENTS: list[str] = _talk["pod_comments"]


def template_fields(template: str) -> tuple[str, ...]:
    """The fields a template names, in order (``{product2}`` is a field of its own)."""
    return tuple(f for _, f, _, _ in _FORMATTER.parse(template) if f)


def _check_vocabulary() -> None:
    """Fail at import if a template names a slot its niche does not define."""
    if set(CONVERSATION) != set(NICHE_DATA):
        raise AssertionError("conversation.json and niches.json must name the same niches")
    for niche, data in NICHE_DATA.items():
        if len(data["templates"]) < 12:
            raise AssertionError(f"niche {niche!r} needs at least 12 caption templates")
        for template in data["templates"]:
            for field in template_fields(template):
                base = field.rstrip("0123456789")
                if base not in data and base not in COMMON_SLOTS:
                    raise AssertionError(f"template slot {field!r} undefined in niche {niche!r}")
        talk = CONVERSATION[niche]
        if any(not q.endswith("?") for q, _ in talk["questions"]):
            raise AssertionError(f"every question of niche {niche!r} must end with '?'")
        if any("?" in t for t in talk["remarks"]):
            raise AssertionError(f"a remark of niche {niche!r} contains '?'")
    if any(not q.endswith("?") for q, _ in [*QUESTION_TEMPLATES, *BRAND_QUESTIONS]):
        raise AssertionError("every question template must end with '?'")
    others = [*REMARK_TEMPLATES, *BRAND_REMARKS, *GENERIC_COMMENTS, *BOT_COMMENTS, *POD_COMMENTS]
    if any("?" in t for t in others):
        raise AssertionError("only questions may contain '?'")


_check_vocabulary()

"""Past collaborations: which brands a creator has worked with, read from its sponsored posts.

A collaboration is one sponsored post and one brand it was made for. Three sources find the brand,
and when a post names the same brand twice the first of them wins:

``sponsor``
    The platform's paid-partnership sponsor, from the optional ``sponsor`` column of the posts
    table (several sponsors of one post are separated by ``|``). Such a post is sponsored and
    disclosed (the platform's label), whatever its text says.
``mention``
    An ``@handle`` in a post marked or detected as sponsored (:func:`matcher.signals.post_signals`),
    unless it is the creator's own handle, another creator's handle in the collection (a friend or
    photographer, not a brand), or a platform's (``@youtube``).
``name``
    A brand name in a sponsored post: the capitalised name after a sponsorship cue ("sponsored by
    X", "partnership with X", "thanks to X for", "X sent me", "code ABC at X"), or any brand the
    collection knows (brand names and competitors of the brands table, sponsors of the sponsor
    column, names found after cues in any post), as words, a ``#hashtag``, a handle or a web address.
    A partner-code list ("PEAKLINE » use code JO") is a cue too, and so is the shop a link next to a
    discount code points to (:func:`code_shops`).

Brand names are compared by :func:`brand_key`: case, accents, punctuation and spacing, a leading
``@`` or ``#``, a web domain's ending and a company's legal form ("Inc.", "Co", "GmbH", through the
cleanco package) make no difference, so ``"Summit Trail Co"``, ``"@summittrail"`` and
``"SUMMIT TRAIL"`` are one brand.

``Filters(mentions=...)`` keeps the creators with any post (sponsored or not) that names a term:
:func:`mention_forms` of the term found in :func:`mentions_in` of the post, words compared as above.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = [
    "SOURCES",
    "MAX_LISTED",
    "COLLABORATION_COLUMNS",
    "NOT_BRANDS",
    "brand_key",
    "name_tokens",
    "post_tokens",
    "BrandNames",
    "cue_names",
    "code_shops",
    "detect_collaborations",
    "known_brand_names",
    "collection_collaborations",
    "empty_collaborations",
    "mention_forms",
    "mentions_in",
]

logger = logging.getLogger(__name__)

#: Where a collaboration was found, strongest first.
SOURCES = ("sponsor", "mention", "name")
#: Collaborations a match lists at most (the newest); the stored table keeps them all.
MAX_LISTED = 50
#: The columns of a snapshot's ``collaborations.parquet``, one row per sponsored post and brand.
COLLABORATION_COLUMNS = ("creator_id", "post_id", "brand", "brand_key", "posted_at", "disclosed", "source")

#: Accounts and sites that appear in sponsored posts without being the sponsor: the platforms a
#: creator links to, and shops whose affiliate links say nothing about who paid.
NOT_BRANDS = frozenset(
    {
        "youtube", "instagram", "tiktok", "twitter", "x", "facebook", "snapchat", "twitch", "patreon",
        "discord", "reddit", "pinterest", "linkedin", "threads", "spotify", "soundcloud", "itunes",
        "applemusic", "google", "gmail", "amazon", "amzn", "bitly", "linktree", "linktr", "kofi",
        "paypal", "venmo", "cashapp", "merch", "shop", "store", "http", "https", "www",
    }
)
# Words a capitalised run after a cue may start or consist of without being a name.
_STOP = frozenset(
    {
        "a", "an", "the", "this", "that", "these", "those", "my", "our", "your", "his", "her", "their", "its",
        "all", "everyone", "you", "me", "us", "them", "it", "today", "link", "use", "code", "get", "go", "check",
        "click", "and", "or", "for", "with", "to", "of", "in", "on", "at", "by", "from", "i", "we", "they", "he",
        "she", "here", "there", "video", "channel", "episode", "post", "ad", "sponsored", "sponsor", "partner",
        "partners", "friends", "guys", "team", "new", "free", "off", "save", "thanks", "thank", "shoutout",
    }
)
# Endings a handle adds to a brand's name ("@trailco_official", "@roamlyhq", "@brand.us"); the
# first few are dropped from any handle, the others only when what is left is a known brand.
_HANDLE_ENDS = ("official", "global", "hq", "brand", "store", "shop", "team", "app", "usa", "uk", "us", "co", "inc")
_ALWAYS_DROPPED = 3
_DOMAIN_ENDS = re.compile(r"\.(?:com|org|net|io|co|tv|gg|app|shop|store|me|us|uk|de|fr|ca|au)(?:\.[a-z]{2})?$")

_HANDLE_RE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)")
_TOKEN_RE = re.compile(r"[@#]?[^\W_]+(?:[._'’-][^\W_]+)*", re.UNICODE)
# A capitalised run of one to four words (letters, digits, & and a few joiners inside a word).
_NAME = r"(?<![\w@#/.=?&-])(@?[A-Z0-9][\w'’&.\-]*(?:[ \t]+(?:&[ \t]+)?[A-Z0-9][\w'’&.\-]*){0,3})"
_CUES = [
    re.compile(r"(?i:\bsponsored by|\bbrought to you by|\bpowered by|\bsupported by)[ \t]+" + _NAME),
    re.compile(r"(?i:\bpartnership with|\bpartnered with|\bpartnering with|\bpartnered up with|\bin collaboration with|\bcollab with)[ \t]+" + _NAME),
    re.compile(r"(?i:\bteam(?:ing|ed)? up with|\bworking with)[ \t]+" + _NAME),
    re.compile(r"(?i:\bthanks?(?: you)?(?: so much| very much| again)? to)[ \t]+" + _NAME + r"(?i:[ \t]+for\b)"),
    re.compile(r"(?i:\bshout[ -]?out to)[ \t]+" + _NAME),
    re.compile(r"(?i:\b(?:code|coupon)[ \t]+)[A-Z0-9]{3,}(?i:[ \t]+(?:saves you [0-9]+% )?(?:at|on|for))[ \t]+" + _NAME),
    re.compile(_NAME + r"(?i:[ \t]+(?:sent me|gifted me|sponsored this|is sponsoring|for sponsoring))"),
    # A list of partner codes: "SUMMIT TRAIL » Use code JO", "Peakline - use code JO15".
    re.compile(_NAME + r"[ \t]*(?:»|-|–|—|:)[ \t]*(?i:use (?:my |the )?(?:code|coupon)\b)"),
]
# Words each cue needs (lower case): a text without them skips the cue's pattern.
_CUE_WORDS = [
    ("sponsored by", "brought to you by", "powered by", "supported by"),
    ("partnership with", "partnered with", "partnering with", "partnered up with", "collaboration with", "collab with"),
    ("up with", "working with"),
    (" to ",),
    ("shout",),
    ("code", "coupon"),
    ("sent me", "gifted me", "sponsored this", "is sponsoring", "for sponsoring"),
    ("use",),
]
_SPLIT = re.compile(r"[^0-9a-z]+")
# A discount code, and a link near it: the shop the code is for ("use code JO15 ... brand.com").
_CODE_RE = re.compile(r"\b(?:use|with) (?:my |the )?code\b|\b(?:discount|promo|coupon) code\b", re.IGNORECASE)
_URL_RE = re.compile(r"(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?=[/?#\s]|$)", re.IGNORECASE)
#: Link shorteners and affiliate networks: their host names no brand (a network's subdomain does).
_LINK_HOSTS = frozenset(
    {
        "bit", "goo", "amzn", "tinyurl", "ow", "rebrand", "smarturl", "found", "lnk", "hyperurl", "youtu", "t",
        "fb", "instagr", "linktr", "geni", "shrsl", "rstyle", "liketoknow", "go2l", "tidd", "kit", "example",
    }
)
_NETWORKS = frozenset({"refersion", "shareasale", "impactradius", "pxf", "sjv", "avantlink", "awin1", "myshopify"})
_CODE_WINDOW = 160


@lru_cache(maxsize=65536)
def _legal_base(name: str) -> str:
    from cleanco import basename

    try:
        return basename(name)
    except Exception:  # cleanco is heuristic; an odd name keeps its form
        return name


def _fold(text: str) -> str:
    """NFKC, accents removed, case folded, ``&`` as ``and``."""
    t = str(text)
    if not t.isascii():  # most texts are: they skip the Unicode passes
        t = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", t))
        t = "".join(ch for ch in t if not unicodedata.combining(ch))
    return t.casefold().replace("&", " and ").replace("’", "'")


def brand_key(name: object) -> str:
    """The form brand names are compared in: letters and digits only, without a legal form.

    ``"Summit Trail Co"``, ``"@summittrail"``, ``"#SummitTrail"`` and ``"summit-trail.com"`` all
    give ``"summittrail"``; ``"Seed & Spade"`` gives ``"seedandspade"``. Empty for a blank name.
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    return _brand_key(str(name))


@lru_cache(maxsize=262144)
def _brand_key(name: str) -> str:
    raw = name.strip().lstrip("@#").strip()
    if not raw:
        return ""
    low = raw.lower()
    if " " not in low and _DOMAIN_ENDS.search(low):
        raw = _DOMAIN_ENDS.sub("", low)
    base = _legal_base(raw).strip() if " " in raw.strip() or "," in raw else raw
    key = re.sub(r"[^0-9a-z]+", "", _fold(base or raw))
    return key or re.sub(r"[^0-9a-z]+", "", _fold(raw))


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", _fold(text))


def name_tokens(name: str) -> tuple[str, ...]:
    """A name as lower-case words (accents removed, ``&`` as ``and``), for matching inside texts."""
    return tuple(t for t in re.split(r"[^0-9a-z]+", _fold(name)) if t)


def post_tokens(text: str) -> list[str]:
    """A post's words, lower-cased and folded as :func:`name_tokens`. A ``#hashtag`` or
    ``@handle`` is one word without its sign and joiners (``@summit_trail`` is ``summittrail``);
    a web address also gives each part of its host and path (``shop.example/summit-trail`` gives
    ``shop``, ``example``, ``summit``, ``trail`` and ``summittrail``)."""
    out: list[str] = []
    for tok in _TOKEN_RE.findall(_fold(text)):
        if tok.isalnum() and tok.isascii():
            out.append(tok)
            continue
        if tok[0] in "@#":
            c = _compact(tok)
            if c:
                out.append(c)
            continue
        parts = [p for p in _SPLIT.split(tok) if p]
        out.extend(parts)
        if len(parts) > 1 and any(ch in tok for ch in "-._"):
            out.append("".join(parts))
    return out


def cue_names(text: str) -> list[str]:
    """The capitalised names that follow (or precede) a sponsorship cue in ``text``, as written."""
    out = []
    low = text.lower()
    for words, pattern in zip(_CUE_WORDS, _CUES):
        if not any(w in low for w in words):
            continue
        for m in pattern.finditer(text):
            name = _trim_name(m.group(1))
            if name:
                out.append(name)
    return list(dict.fromkeys(out))


def code_shops(text: str) -> list[str]:
    """Host names of the links within :data:`_CODE_WINDOW` characters of a discount code in ``text``
    ("use code JO15 at https://www.summit-trail.com/x" gives ``summit-trail``): the shops the codes
    are for. Shorteners, platforms and affiliate networks name no shop (a network's subdomain does)."""
    out = []
    for m in _CODE_RE.finditer(text):
        lo, hi = max(0, m.start() - _CODE_WINDOW), m.end() + _CODE_WINDOW
        window = text[lo:hi]
        best = None
        for u in _URL_RE.finditer(window):
            labels = u.group(1).lower().split(".")
            if len(labels) < 2:
                continue
            core = labels[:-1]  # without the top-level domain
            if len(core) >= 2 and core[-1] in _NETWORKS:
                name = core[-2]
            elif core[-1] in _NETWORKS or core[-1] in _LINK_HOSTS:
                continue
            else:
                name = core[-1] if core[-1] not in ("co", "com") or len(core) < 2 else core[-2]
            if brand_key(name) in NOT_BRANDS or len(name) < 3:
                continue
            distance = abs(lo + u.start() - m.start())
            if best is None or distance < best[0]:
                best = (distance, name)
        if best is not None:
            out.append(best[1])
    return list(dict.fromkeys(out))


def _trim_name(name: str) -> str:
    words = name.split()
    kept: list[str] = []
    for w in words:
        end = w[-1] in ".!?:,;"
        w = w.rstrip(".!?:,;")
        if w:
            kept.append(w)
        if end and not (w.lower() in ("co", "inc", "ltd", "st") and len(kept) > 1):
            break
    while kept and kept[-1].lower() in _STOP:
        kept.pop()
    if not kept or all(w.lower().strip("@") in _STOP for w in kept) or len(brand_key(" ".join(kept))) < 3:
        return ""
    return " ".join(kept)


def _spelling_rank(text: str) -> int:
    """How well a spelling shows a brand's name: "Summit Trail Co" (0) before "SUMMIT TRAIL CO" (1)
    before "summittrailco" (2)."""
    if text.startswith("@") or not any(ch.isupper() for ch in text):
        return 2
    return 1 if not any(ch.islower() for ch in text) else 0


def _is_brand_name(key: str) -> bool:
    return len(key) >= 3 and key not in NOT_BRANDS and not key.isdigit()


class BrandNames:
    """The brands a collection knows, to find them in texts and to name them the same way everywhere.

    ``add`` names (the best-cased spelling, then the most used, is the one shown); ``find`` gives the keys
    of the known brands a post's words name; ``resolve`` maps an ``@handle`` to a known brand when
    it is one ("@summittrailco", "@summittrail_official") and to its own key otherwise.
    """

    def __init__(self) -> None:
        self.display_: dict[str, str] = {}
        self.spellings_: dict[str, dict[str, int]] = {}
        self.forms_: dict[tuple[str, ...], str] = {}
        self.firsts_: set[str] = set()  # the first word of every form: most words start none
        self.longest_ = 1

    def add(self, names: Iterable[object]) -> BrandNames:
        """Add brand names; names of several words first, so a handle of one word finds its brand."""
        given = [n for n in names if n is not None and not (isinstance(n, float) and np.isnan(n))]
        for name in sorted(given, key=lambda n: " " not in str(n).strip()):
            if name is None or (isinstance(name, float) and np.isnan(name)):
                continue
            text = str(name).strip().lstrip("@#").strip()
            key = self.resolve(text)[0] if " " not in text else brand_key(text)
            if not _is_brand_name(key):
                continue
            spelling = text if not str(name).strip().startswith("@") else "@" + text
            counts = self.spellings_.setdefault(key, {})
            counts[spelling] = counts.get(spelling, 0) + 1
            # Shown: the best-cased spelling, then the most used, then the first in order (whatever the input order).
            self.display_[key] = min(counts, key=lambda s: (_spelling_rank(s), -counts[s], s))
            forms = [name_tokens(text), (_compact(text),)]
            if "&" in text:  # a handle drops the ampersand: "Chapter & Verse" is @chapterverse
                forms.append((_compact(text.replace("&", " ")),))
            base = name_tokens(_legal_base(text)) if " " in text else ()
            if len(base) > 1:  # "Summit Trail" and "#summittrail" name "Summit Trail Co"; "Loam" alone is a word
                forms += [base, (key,)]
            for form in forms:
                if form and form[0] and (len(form) > 1 or len(form[0]) >= 3):
                    self.forms_.setdefault(form, key)
                    self.firsts_.add(form[0])
                    self.longest_ = max(self.longest_, len(form))
        return self

    def name(self, key: str, fallback: str = "") -> str:
        """The display name of a brand key."""
        return self.display_.get(key, fallback or key)

    def find(self, tokens: Sequence[str]) -> list[str]:
        """Keys of the known brands named in ``tokens`` (from :func:`post_tokens`), in order of appearance."""
        out: list[str] = []
        forms, firsts, longest = self.forms_, self.firsts_, self.longest_
        n = len(tokens)
        for i in range(n):
            if tokens[i] not in firsts:
                continue
            for size in range(min(longest, n - i), 0, -1):
                key = forms.get(tuple(tokens[i : i + size]))
                if key is not None:
                    out.append(key)
                    break
        return list(dict.fromkeys(out))

    def resolve(self, handle: str) -> tuple[str, str]:
        """``(key, display name)`` of an @handle: a known brand when the handle is one, else the handle."""
        c = _compact(handle)
        candidates = [c]
        for end in _HANDLE_ENDS:
            if c.endswith(end) and len(c) - len(end) >= 3:
                candidates.append(c[: -len(end)])
        for cand in candidates:
            key = self.forms_.get((cand,))
            if key is not None:
                return key, self.name(key)
        key = brand_key(handle)
        for end in _HANDLE_ENDS[:_ALWAYS_DROPPED]:
            if key.endswith(end) and len(key) - len(end) >= 3:
                key = key[: -len(end)]
                break
        return key, self.name(key, "@" + handle.lstrip("@"))


def empty_collaborations() -> pd.DataFrame:
    """A collaborations table with no rows and the stored dtypes."""
    return _frame([])


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLLABORATION_COLUMNS))
    for c in ("creator_id", "post_id", "brand", "brand_key", "source"):
        frame[c] = frame[c].astype(str).astype(object) if len(frame) else pd.Series(dtype=object)
    frame["posted_at"] = pd.to_datetime(frame["posted_at"], utc=True) if len(frame) else pd.Series(dtype="datetime64[ns, UTC]")
    frame["disclosed"] = frame["disclosed"].astype(bool)
    return frame


def _split_sponsors(value: object) -> list[str]:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return []
    return [s.strip() for s in str(value).split("|") if s.strip()]


def detect_collaborations(
    posts: pd.DataFrame,
    post_table: pd.DataFrame,
    *,
    handles: Mapping[str, str] | None = None,
    known: Iterable[object] = (),
) -> pd.DataFrame:
    """The collaborations in ``posts``: one row per sponsored post and brand (:data:`COLLABORATION_COLUMNS`).

    Args:
        posts: the posts table (``post_id``, ``creator_id``, ``text``, ``posted_at``, and the
            optional ``sponsor``).
        post_table: :func:`matcher.signals.post_signals` of ``posts``, aligned with it
            (``is_sponsored``, ``disclosure``).
        handles: creator id → the creator's handle; a creator's own handle and the handles of
            other creators are not brands.
        known: brand names the collection knows besides the sponsor column (the brands table's
            names and competitors).

    Rows are ordered by creator, newest post first, then by source.
    """
    if len(posts) == 0:
        return empty_collaborations()
    n = len(posts)
    has_sponsor_all = np.array([bool(_split_sponsors(s)) for s in posts["sponsor"].to_numpy(dtype=object)], dtype=bool) if "sponsor" in posts else np.zeros(n, dtype=bool)
    # Only sponsored posts can hold a collaboration: only their columns are read (a few in ten posts).
    picked = np.flatnonzero(np.asarray(post_table["is_sponsored"], dtype=bool) | has_sponsor_all)
    sub = posts.iloc[picked]
    has_sponsor = has_sponsor_all[picked]
    sponsor = sub["sponsor"].to_numpy(dtype=object) if "sponsor" in sub else np.full(len(sub), None, dtype=object)
    text = sub["text"].astype("string").fillna("").astype(str).to_numpy() if "text" in sub else np.full(len(sub), "", dtype=object)
    disclosure = np.asarray(post_table["disclosure"], dtype="float64")[picked]
    disclosed = has_sponsor | (np.nan_to_num(disclosure, nan=0.0) > 0)
    creators = sub["creator_id"].astype(str).to_numpy()
    post_ids = sub["post_id"].astype(str).to_numpy()
    when = (
        pd.to_datetime(sub["posted_at"], utc=True) if "posted_at" in sub else pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns, UTC]")
    ).to_numpy(dtype=object)
    people = {brand_key(h) for h in (handles or {}).values() if h}
    own = {cid: brand_key(h) for cid, h in (handles or {}).items() if h}

    cues = {i: cue_names(text[i]) for i in range(len(sub))}
    shops = {i: code_shops(text[i]) for i in range(len(sub))}
    names = BrandNames().add(
        [
            *known, *(s for i in range(len(sub)) for s in _split_sponsors(sponsor[i])),
            *(c for found in cues.values() for c in found if not c.startswith("@")), *(s for found in shops.values() for s in found),
        ]
    )

    rows: list[tuple] = []
    for i in range(len(sub)):
        cid = creators[i]
        mine = own.get(cid, "")
        found: dict[str, tuple[str, str]] = {}

        def note(key: str, display: str, source: str) -> None:
            if _is_brand_name(key) and key != mine and key not in found:
                found[key] = (display, source)

        for s in _split_sponsors(sponsor[i]):
            k = names.resolve(s)[0] if " " not in s else brand_key(s)
            note(k, names.name(k, s), "sponsor")
        for h in _HANDLE_RE.findall(text[i]):
            key, display = names.resolve(h)
            if key in people and key not in names.display_:
                continue
            note(key, display, "mention")
        for c in cues.get(i, ()):
            if c.startswith("@"):
                continue
            k = brand_key(c)
            note(k, names.name(k, c), "name")
        for s in shops.get(i, ()):
            k = names.resolve(s)[0]
            # "peaklinegear.com" next to "PEAKLINE » use code ..." is the same brand, not a second one
            if not any(k.startswith(f) and len(f) >= 3 for f in found):
                note(k, names.name(k, s), "name")
        for k in names.find(post_tokens(text[i])):
            if k in people and k != mine and not any(k == brand_key(c) for c in cues.get(i, ())):
                # another creator's handle written out is a person, unless a cue names it
                continue
            note(k, names.name(k), "name")
        stamp = when[i]
        for key, (display, source) in found.items():
            rows.append((cid, post_ids[i], display, key, stamp, bool(disclosed[i]), source))
    frame = _frame(rows)
    if len(frame):
        order = frame["source"].map({s: j for j, s in enumerate(SOURCES)})
        frame = (
            frame.assign(_o=order, _t=frame["posted_at"].fillna(pd.Timestamp.min.tz_localize("UTC")))
            .sort_values(["creator_id", "_t", "post_id", "_o"], ascending=[True, False, True, True], kind="mergesort")
            .drop(columns=["_o", "_t"])
            .reset_index(drop=True)
        )
    logger.info("collaborations: %d in %d sponsored posts of %d creators", len(frame), len(picked), frame["creator_id"].nunique() if len(frame) else 0)
    return frame


def known_brand_names(brands: pd.DataFrame | None) -> list[str]:
    """The brand names a brands table gives: each brand's ``name`` and its ``competitors``."""
    out: list[str] = []
    if brands is None or not len(brands):
        return out
    if "name" in brands:
        out += [str(n) for n in brands["name"].tolist() if isinstance(n, str) and n.strip()]
    for names in brands["competitors"] if "competitors" in brands else ():
        if isinstance(names, str):
            names = [names]
        elif names is None or (isinstance(names, float) and np.isnan(names)):
            continue
        out += [str(n) for n in list(names) if isinstance(n, str) and n.strip()]
    return out


def collection_collaborations(
    creators: pd.DataFrame, posts: pd.DataFrame, post_table: pd.DataFrame, brands: pd.DataFrame | None = None
) -> pd.DataFrame:
    """:func:`detect_collaborations` over a whole collection, as the nightly batch runs it: the
    creators' handles are people, and the brands table's names and competitors are known brands."""
    handles = (
        dict(zip(creators["creator_id"].astype(str), creators["handle"].astype("string").fillna("").astype(str)))
        if "handle" in creators else {}
    )
    return detect_collaborations(posts, post_table, handles=handles, known=known_brand_names(brands))


def mention_forms(term: str) -> tuple[str, ...]:
    """What a ``mentions`` term is looked for as in :func:`post_tokens` words: its words in order
    (``"trail running"`` → ``" trail running "``), and as one word (``"#trailrunning"``,
    ``"@trailrunning"``, ``"trail-running.com"``): a list of padded strings to find in padded words."""
    words = name_tokens(term)
    if not words:
        return ()
    forms = [" " + " ".join(words) + " "]
    if len(words) > 1:
        forms.append(" " + "".join(words) + " ")
    return tuple(dict.fromkeys(forms))


def mentions_in(texts: pd.Series | Sequence[str]) -> np.ndarray:
    """Each text as its padded :func:`post_tokens` words (``" summit trail co "``), to find
    :func:`mention_forms` in."""
    return np.array([" " + " ".join(post_tokens(str(t))) + " " for t in texts], dtype=object)

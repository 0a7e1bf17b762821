"""Text normalisation: Unicode NFKC, invisible and bidi controls removed, HTML stripped, length capped."""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from matcher.errors import ConfigError

__all__ = [
    "normalize_text",
    "normalize_series",
    "content_hash",
    "INVISIBLE_CHARS",
    "extract_contacts",
    "redact_contacts",
    "strip_controls",
    "spreadsheet_safe",
    "spreadsheet_safe_frame",
    "FORMULA_STARTS",
]

#: Zero-width and bidirectional-control characters that ``normalize_text`` always removes.
INVISIBLE_CHARS: frozenset[str] = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space/non-joiner/joiner, word joiner, BOM
    "\u200e\u200f\u061c"  # LRM, RLM, Arabic letter mark
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
)

# C0/C1 controls that are not whitespace (whitespace controls such as \t, \n, \r become
# spaces when runs are collapsed) plus lone surrogates, which cannot be encoded as UTF-8
# and would break every writer downstream.
_DROP_RE = re.compile(
    "[" + "".join(sorted(INVISIBLE_CHARS)) + "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]"
)
# Every C0/C1 control (whitespace ones too) and the invisible characters: an id keeps none of them.
_CONTROL_RE = re.compile("[" + "".join(sorted(INVISIBLE_CHARS)) + "\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# Regex rather than a full parser: the inputs are short bios and captions, and a regex keeps
# a stray "<3" or "a < b" intact where a lenient parser would swallow the rest of the text.
# "(?=(X))\N" matches X atomically (Python 3.10 has no possessive quantifiers), so text
# full of unclosed "<" cannot make the scan quadratic through backtracking.
_SCRIPT_STYLE_RE = re.compile(
    r"<(script|style)\b(?=([^<>]*))\2>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TAG_RE = re.compile(
    r"""<(/?)([A-Za-z](?=([^\s/<>]*))\3)(?=((?:[\s/](?:"[^"]*"|'[^']*'|[^'"<>])*)?))\4>"""
    r"""|<[!?](?=([^<>]*))\5>"""
)
# Inline formatting tags vanish without a trace so "<b>Hel</b>lo" stays one word; every
# other tag (p, br, div, li, ...) separates words.
_INLINE_TAGS = frozenset(
    "a abbr b bdi bdo cite code data dfn em font i kbd mark q s samp small span strike "
    "strong sub sup time u var wbr".split()
)

# A further round is needed only when NFKC turns fullwidth look-alikes into fresh markup or
# entities, so real text needs two or three; the rounds stop as soon as nothing changes.
_MAX_ROUNDS = 64


def _tag_replacement(match: re.Match[str]) -> str:
    name = match.group(2)
    if name is not None and name.lower() in _INLINE_TAGS:
        return ""
    return " "


def _strip_html(text: str) -> str:
    # Unescaping can reveal new markup ("&lt;b&gt;") and removing tags can join an entity
    # ("&am<b></b>p;"), so both run until neither changes anything; every change shortens
    # the text, so this always terminates.
    while "<" in text or "&" in text:
        stripped = _SCRIPT_STYLE_RE.sub(" ", text)
        stripped = _COMMENT_RE.sub(" ", stripped)
        stripped = _TAG_RE.sub(_tag_replacement, stripped)
        stripped = html.unescape(stripped)
        if stripped == text:
            break
        text = stripped
    return text


def _clean(text: str) -> str:
    if "<" in text or "&" in text:
        text = _strip_html(text)
    # Invisible characters go before NFKC: a zero-width joiner between "e" and a combining
    # accent blocks composition, so removing it afterwards would leave a non-NFKC string.
    text = _DROP_RE.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


def _cap(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    if text[max_chars] == " ":
        return text[:max_chars].rstrip()
    head = text[:max_chars]
    cut = head.rfind(" ")
    # Cutting at a space that would throw away more than half the budget costs more
    # content than it saves; a single very long token is cut hard instead.
    if cut >= max_chars // 2:
        return head[:cut].rstrip()
    return head.rstrip()


def _coerce(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _check_max_chars(max_chars: int) -> None:
    if isinstance(max_chars, bool) or not isinstance(max_chars, int | np.integer) or max_chars < 1:
        raise ConfigError(f"max_chars must be a whole number >= 1, got {max_chars!r}")


def normalize_text(value: object, *, max_chars: int = 2000) -> str:
    """Return ``value`` as clean, single-line text.

    HTML tags are removed (the contents of ``<script>``/``<style>`` too) and entities
    unescaped; the text is put in Unicode NFKC form; zero-width and bidi control
    characters and other non-whitespace control characters are removed; whitespace runs
    become single spaces; the result is cut to ``max_chars``, at a word boundary where
    possible. Emoji are kept. ``normalize_text(normalize_text(x)) == normalize_text(x)``.

    :param value: any value; ``None``, NaN and ``pd.NA`` give ``""``, non-strings are
        converted with ``str``.
    :param max_chars: maximum length of the result, >= 1.
    :returns: the normalised text, possibly empty.
    :raises ConfigError: if ``max_chars`` is not a whole number >= 1.
    """
    _check_max_chars(max_chars)
    text = _coerce(value)
    if not text:
        return ""
    # Repeat until a pass changes nothing: NFKC can turn fullwidth "＜" or "＆" into fresh
    # markup, and only a fixed point guarantees idempotence.
    for _ in range(_MAX_ROUNDS):
        cleaned = _cap(_clean(text), max_chars)
        if cleaned == text:
            break
        text = cleaned
        if text.isascii() and "<" not in text and "&" not in text:
            # Printable ASCII without markup that has been through one pass is already a
            # fixed point; skipping the confirming pass halves the cost of the common case.
            break
    return text


_SIMPLE_RE = r"[\x20-\x25\x27-\x3b\x3d-\x7e]*"  # printable ASCII except "&" and "<"


def normalize_series(values: pd.Series, *, max_chars: int = 2000) -> pd.Series:
    """Apply :func:`normalize_text` to every value of a column.

    Plain printable-ASCII values without markup take a vectorised path; every other value
    goes through :func:`normalize_text`, so the result is the same as mapping it.

    :param values: the column; missing values give ``""``.
    :param max_chars: maximum length of each result, >= 1.
    :returns: a ``"string"`` Series with the same index and no missing values.
    :raises ConfigError: if ``max_chars`` is not a whole number >= 1.
    """
    _check_max_chars(max_chars)
    if len(values) == 0:
        return pd.Series([], index=values.index, dtype="string")
    if pd.api.types.is_object_dtype(values.dtype) and pd.api.types.infer_dtype(values, skipna=True) == "string":
        try:
            values = values.astype("string")
        except UnicodeEncodeError:
            pass  # lone surrogates cannot be stored as Arrow strings; the slow path drops them
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        strings = values.astype("string")
        simple = strings.str.fullmatch(_SIMPLE_RE).fillna(False).astype(bool)
        out = strings.where(simple, "")
        out = out.str.replace(r" {2,}", " ", regex=True).str.strip()
        # Over-long values need the word-boundary cut, which is not worth vectorising.
        simple &= out.str.len().fillna(0).astype(int) <= max_chars
        rest = ~simple
    else:
        out = pd.Series("", index=values.index, dtype="string")
        rest = pd.Series(True, index=values.index)
    if rest.any():
        out = out.astype(object)
        out[rest] = [normalize_text(v, max_chars=max_chars) for v in values[rest].tolist()]
        out = out.astype("string")
    return out


def content_hash(text: str, *, namespace: str = "") -> str:
    """Return a stable key for ``text``, e.g. for an embedding cache.

    :param text: the (normally already normalised) text.
    :param namespace: separates keys of different models or settings.
    :returns: the SHA-256 hex digest of ``namespace + "\\x00" + text`` in UTF-8.
    :raises TypeError: if ``text`` or ``namespace`` is not a string.
    """
    if not isinstance(text, str) or not isinstance(namespace, str):
        raise TypeError("content_hash needs str text and namespace")
    # surrogatepass: a lone surrogate must still hash, and never collide with valid text.
    payload = (namespace + "\x00" + text).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(payload).hexdigest()


# -- contact details (emails, phone numbers) ----------------------------------------------------
# Written-out "[at]"/"(dot)" forms are how bios usually hide an address from scrapers.
_AT = r"(?:@|\s?[\[({]\s?at\s?[\])}]\s?)"
_DOT = r"(?:\.|\s?[\[({]\s?dot\s?[\])}]\s?)"
_EMAIL_RE = re.compile(
    rf"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*{_AT}(?:[A-Za-z0-9-]+{_DOT})+[A-Za-z]{{2,24}}(?![\w-])",
    re.IGNORECASE,
)
# Candidates are digit groups joined by single separators; each group is a maximal digit run, so
# the scan stays linear. Whether a candidate is a phone number is decided in _phone_prefix.
_PHONE_CANDIDATE_RE = re.compile(r"(?<![\w+@#/=.%$\u20ac\u00a3])\+?\(?\d+\)?(?:[ .\-]\(?\d+\)?){0,7}")
_PHONE_GROUP_RE = re.compile(r"[ .\-]?\(?\d+\)?")
_NANP_RE = re.compile(r"(?:1[ .\-]?)?\(?\d{3}\)?[ .\-]?\d{3}[ .\-]\d{4}")


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if candidate.startswith("+") or candidate.startswith("00"):
        return 8 <= digits <= 15
    if candidate.startswith(("0", "(")):
        return 10 <= digits <= 13
    # Without a trunk or country prefix only the North American 3-3-4 form is distinctive
    # enough: dates, prices and follower counts must not pass for phone numbers.
    return _NANP_RE.fullmatch(candidate) is not None


def _phone_prefix(text: str, start: int, end: int) -> int | None:
    """End of the longest run of whole digit groups from ``start`` that is a phone number."""
    ends = [m.end() for m in _PHONE_GROUP_RE.finditer(text, start, end)]
    for stop in reversed(ends):
        nxt = text[stop : stop + 1]
        if nxt and (nxt.isalnum() or nxt in "@%"):
            continue
        if _is_phone(text[start:stop]):
            return stop
    return None


def extract_contacts(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Split contact details out of a text.

    Emails (also written as ``name [at] domain [dot] com``) and phone numbers (international with
    ``+``/``00``, national with a leading ``0``, or North American ``555-123-4567``) are removed
    from the text and returned on their own, in order of appearance and without repeats. Dates,
    prices, discount codes and counts are left alone.

    :param text: normalised text.
    :returns: ``(text without the contact details, emails (lower-cased), phone numbers as written)``.
    """
    if not text:
        return text, (), ()
    spans: list[tuple[int, int]] = []
    emails: list[str] = []
    phones: list[str] = []
    lowered = text.lower()
    if "@" in text or "at" in lowered:
        for m in _EMAIL_RE.finditer(text):
            raw = m.group(0)
            clean = re.sub(r"\s?[\[({]\s?at\s?[\])}]\s?", "@", raw, flags=re.IGNORECASE)
            clean = re.sub(r"\s?[\[({]\s?dot\s?[\])}]\s?", ".", clean, flags=re.IGNORECASE).lower()
            if clean not in emails:
                emails.append(clean)
            spans.append(m.span())
    for m in _PHONE_CANDIDATE_RE.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        stop = _phone_prefix(text, m.start(), m.end())
        if stop is None:
            continue
        number = text[m.start() : stop].strip()
        if number not in phones:
            phones.append(number)
        spans.append((m.start(), stop))
    if not spans:
        return text, (), ()
    out, last = [], 0
    for a, b in sorted(spans):
        out.append(text[last:a])
        last = max(last, b)
    out.append(text[last:])
    return " ".join("".join(out).split()), tuple(emails), tuple(phones)


def redact_contacts(text: str) -> str:
    """``text`` without emails and phone numbers (see :func:`extract_contacts`)."""
    return extract_contacts(text)[0]


# -- ids and spreadsheet cells ------------------------------------------------------------------
def strip_controls(value: str) -> str:
    """``value`` without control characters (C0 and C1, tab and newline included), lone surrogates,
    zero-width and bidi controls: what is left of an id after an ANSI escape sequence, a NUL or a
    hidden direction mark was typed into it."""
    return _CONTROL_RE.sub("", value)


#: First characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a
#: formula, after OWASP's "CSV injection" guidance: = + - @, tab and carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell with a leading ``'`` when it would start a formula; any other value unchanged.

    Only strings are escaped: numbers (a negative score, a count) stay numbers in the file.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are escaped with :func:`spreadsheet_safe`, for writing as CSV.

    Numeric, boolean and datetime columns are left as they are; text columns (``object`` or
    ``string`` dtype, categoricals of text) have each string value escaped.
    """
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        dtype = col.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            col = col.astype(object)
        elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        values = col.tolist()
        if any(isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values):
            escaped = [spreadsheet_safe(v) for v in values]
            out[name] = pd.Series(escaped, index=out.index, dtype=col.dtype if not isinstance(dtype, pd.CategoricalDtype) else object)
    return out

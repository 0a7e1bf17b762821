"""Text normalisation: Unicode NFKC, invisible and bidi controls removed, HTML stripped, length capped."""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matcher.errors import ConfigError

__all__ = [
    "normalize_text",
    "brief_text",
    "normalize_series",
    "content_hash",
    "INVISIBLE_CHARS",
    "extract_contacts",
    "redact_contacts",
    "contact_details",
    "move_contacts",
    "may_hold_contacts",
    "Contacts",
    "PHONE_REGION",
    "PHONE_RUN_PATTERN",
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


def brief_text(brief: object, *, max_chars: int = 2000) -> str:
    """The text a brief is encoded as: normalised (:func:`normalize_text`) and cut to ``max_chars``.

    ``brief`` is product description text or a :class:`~matcher.schema.Brand` (anything with a
    ``query_text``: its name and description). Every query (``recommend()``, the HTTP API, the
    nightly batch's brands, training) is prepared here, so a brief gets the same vector, and the same
    matches, whichever way it comes in.

    Raises:
        ValueError: the brief is blank once normalised.
    """
    text = normalize_text(getattr(brief, "query_text", brief), max_chars=max_chars)
    if not text:
        raise ValueError("the brief is blank; describe the product to match creators to")
    return text


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
        # Filled as a NumPy array: a masked assignment into a Series of millions of rows costs
        # about as much as normalising the values themselves.
        mask = rest.to_numpy(dtype=bool)
        filled = out.to_numpy(dtype=object, na_value="")
        filled[mask] = [normalize_text(v, max_chars=max_chars) for v in values[mask].tolist()]
        out = pd.Series(filled, index=values.index, dtype="string")
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


# -- contact details (emails, phone numbers, messaging links) ------------------------------------
# Measured on tests/data/contacts.tsv (benchmarks/redaction.py, results in benchmarks/results/redaction.md).
#: Region whose national numbers (no "+" or "00" prefix) are recognised, as an ISO 3166-1 code.
PHONE_REGION = "US"
#: Regions whose national numbers with a leading trunk "0" ("020 7946 0958", "030 1234567") are also
#: recognised: a leading 0 is not a North American form, so these add no false positive there.
TRUNK_REGIONS = ("GB", "DE", "FR", "IN", "AU", "IT", "ES", "BR")
#: Top-level domains accepted for addresses written with spaces or words ("jane @ gmail.com",
#: "jane dot doe at gmail dot com"), where "at" and "@" alone are too common to trust.
_SPOKEN_TLDS = (
    "com|net|org|io|co|me|info|biz|edu|gov|app|dev|xyz|email|mail|online|site|store|shop|live|tv|"
    "us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|br|mx|ar|cl|in|jp|kr|cn|ru|za|ng|ke"
)
_AT_SIGN = r"(?:@|\uff20)"
_BRACKET_AT = r"\s?[\[({<]\s?at\s?[\])}>]\s?"
_BRACKET_DOT = r"\s?[\[({<]\s?dot\s?[\])}>]\s?"
_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+-]*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(
    # jane@gmail.com, jane [at] gmail [dot] com (any mix of the two)
    rf"(?<![\w.%+-]){_LOCAL}(?:{_AT_SIGN}|{_BRACKET_AT})(?:{_LABEL}(?:\.|{_BRACKET_DOT}))+[A-Za-z]{{2,24}}(?![\w-])"
    # jane @ gmail.com (spaces around the sign)
    rf"|(?<![\w.%+-]){_LOCAL}\s+{_AT_SIGN}\s+(?:{_LABEL}\.)+(?:{_SPOKEN_TLDS})(?![\w-])"
    # jane dot doe at gmail dot com (words, every dot spelled out)
    rf"|(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9_%+-]*(?:\s+dot\s+[A-Za-z0-9_%+-]+)*\s+at\s+(?:{_LABEL}\s+dot\s+)+(?:{_SPOKEN_TLDS})(?![\w-])",
    re.IGNORECASE,
)
_AT_FORMS_RE = re.compile(rf"\s*(?:{_AT_SIGN}|{_BRACKET_AT}|\sat\s)\s*", re.IGNORECASE)
_DOT_FORMS_RE = re.compile(rf"\s*(?:{_BRACKET_DOT}|\s+dot\s+)\s*", re.IGNORECASE)
# Links that open a chat with the creator: the number or account is a contact detail like a phone.
_MESSAGING_RE = re.compile(
    r"(?<![\w@.-])(?:https?://)?(?:www\.)?"
    r"(?:wa\.me|api\.whatsapp\.com/send|chat\.whatsapp\.com|whatsapp\.com/(?:send|channel)|t\.me|telegram\.(?:me|dog)|"
    r"m\.me|ig\.me|signal\.me|signal\.group|line\.me|lin\.ee|viber\.click|msng\.link|wechat\.com|u\.wechat\.com|"
    r"qr\.kakao\.com|open\.kakao\.com|discord\.gg|discord\.com/invite|skype:|viber://|whatsapp://|tg://)"
    r"[^\s<>\"'\\]*",
    re.IGNORECASE,
)
_WA_NUMBER_RE = re.compile(r"(?:wa\.me/|phone=)\+?(\d{6,15})", re.IGNORECASE)
# A run of digits joined by phone separators right before a match marks a longer number (an order
# id, an ISBN) of which the match is only the tail.
_NUMBER_CONTEXT_RE = re.compile(
    r"(?:#|\bno\.?|\bnr\.?|\border|\binvoice|\btracking|\bisbn(?:-1[03])?|\bsku|\bref|\bid|\bserial|\bmodel|\bpart|\basin|\bupc|\bean|\bversion|\bver\.?|\bfirmware|\bbuild|\bv)\s*[:#]?\s*$",
    re.IGNORECASE,
)
# A date inside a match (03.10.2026, 2026-10-03, 12/05/2024) means a date range, not a number.
_DATE_RE = re.compile(r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}|(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2})\b")
#: libphonenumber's leniency: POSSIBLE (the length fits the region) rather than VALID (an assigned
#: range), so that numbers in ranges a region keeps for fiction or has just opened are found.
PHONE_LENIENCY = "POSSIBLE"
MIN_NATIONAL_DIGITS = 10
#: Fewest digits of a number written with "+" or "00" (country code included).
MIN_INTERNATIONAL_DIGITS = 8
_NANP_NATIONAL_RE = re.compile(r"[2-9]\d{9}")
#: What every phone number found has: 8 digits joined only by phone punctuation (at most 4 in a
#: row). A text without such a run is not scanned; the batch's pre-filter uses the same pattern.
PHONE_RUN_PATTERN = r"\d(?:[\s\-\u2010-\u2015\u2212\u30fc\uff0d\uff0f()\uff08\uff09\uff3b\uff3d.\[\]/~\u2053\u223c\uff5e+]{0,4}\d){7,}"
_PHONE_RUN_RE = re.compile(PHONE_RUN_PATTERN)
_TRUNK_HINT_RE = re.compile(r"(?<![\d.,])\(?0\d")


@dataclass(frozen=True)
class Contacts:
    """Contact details found in a text, and the text without them.

    ``emails`` are lower-cased with spelled-out "at"/"dot" restored; ``phones`` are as written
    (a WhatsApp link's number as ``+<digits>``); ``links`` are messaging links (wa.me, t.me, m.me, ...).
    """

    text: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


def _clean_email(raw: str) -> str:
    out = _AT_FORMS_RE.sub("@", raw)
    out = _DOT_FORMS_RE.sub(".", out)
    return "".join(out.split()).lower()


def _phone_spans(
    text: str, taken: list[tuple[int, int]], *, region: str, trunk_regions: tuple[str, ...], leniency: str, min_national_digits: int, id_labels: bool
) -> list[tuple[int, int, str]]:
    import phonenumbers

    level = getattr(phonenumbers.Leniency, leniency)
    found: list[tuple[int, int, str]] = []
    # The other regions add only numbers written with a leading 0: scan for them only if one is there.
    regions = (region, *trunk_regions) if _TRUNK_HINT_RE.search(text) else (region,)
    for pass_region in regions:
        for m in phonenumbers.PhoneNumberMatcher(text, pass_region, leniency=level):
            a, b = m.start, m.end
            if any(x < b and a < y for x, y in taken) or any(x < b and a < y for x, y, _ in found):
                continue
            raw = m.raw_string
            digits = sum(ch.isdigit() for ch in raw)
            head = raw.lstrip("(")
            international = head.startswith("+") or (head.startswith("00") and head[2:3].isdigit() and head[2] != "0")
            if pass_region != region and not head.startswith("0"):
                continue  # the other regions add only numbers with their trunk "0" or the "00" prefix
            # A national number needs its area code: a bare 7-digit run is far more often a count,
            # an amount or an id than a local phone number.
            if not international and digits < min_national_digits:
                continue
            if international and digits < MIN_INTERNATIONAL_DIGITS:
                continue
            # A North American number's area code starts with 2-9: a 10-digit id or an epoch
            # timestamp (1444937239) does not pass for a +1 number.
            if m.number.country_code == 1 and not _NANP_NATIONAL_RE.fullmatch(str(m.number.national_number)):
                continue
            if id_labels and _NUMBER_CONTEXT_RE.search(text[max(0, a - 16) : a]):
                continue
            # Part of a longer number (2.10.1234567, 2,000,000) or a date range: not a phone number.
            if (a >= 2 and text[a - 1] in ".," and text[a - 2].isdigit()) or (text[b : b + 1] in (".", ",") and text[b + 1 : b + 2].isdigit()):
                continue
            if _DATE_RE.search(text[max(0, a - 6) : b + 6]):
                continue
            found.append((a, b, raw))
    return found


def contact_details(
    text: str,
    *,
    region: str = PHONE_REGION,
    trunk_regions: tuple[str, ...] = TRUNK_REGIONS,
    leniency: str = PHONE_LENIENCY,
    min_national_digits: int = MIN_NATIONAL_DIGITS,
    id_labels: bool = True,
) -> Contacts:
    """Find emails, phone numbers and messaging links in ``text`` and return them with the text without them.

    Emails: ``jane@x.com``, ``jane @ x.com``, ``jane [at] x [dot] com``, ``jane dot doe at x dot com``.
    Phones: found by ``phonenumbers`` (libphonenumber) at its ``POSSIBLE`` leniency: international
    numbers (``+``/``00``) of any country, national numbers of ``region`` (and, with a leading ``0``,
    of ``trunk_regions``) with at least 10 digits, not
    preceded by an id label (``#``, "order", "ISBN", ...). Messaging links: WhatsApp, Telegram,
    Messenger, Instagram DM, Signal, LINE, Viber, WeChat, KakaoTalk, Discord invites.

    :param text: normalised text.
    :param region: ISO 3166-1 code whose national number formats are recognised.
    :param trunk_regions: regions whose national numbers written with a leading trunk ``0`` are
        recognised too.
    :param leniency: a ``phonenumbers.Leniency`` name (``POSSIBLE``, ``VALID``, ...).
    :param min_national_digits: fewest digits of a number without ``+``/``00``.
    :param id_labels: skip numbers right after an id label (``#``, "order", "ISBN", "SKU", ...).
    :returns: the text without the contact details (whitespace collapsed) and what was found.
    """
    if not text:
        return Contacts(text=text)
    spans: list[tuple[int, int]] = []
    emails: list[str] = []
    phones: list[str] = []
    links: list[str] = []
    lowered = text.lower()
    if "me" in lowered or "://" in lowered or "skype:" in lowered or "." in lowered:
        for m in _MESSAGING_RE.finditer(text):
            link = m.group(0).rstrip(".,;:!?)")
            spans.append((m.start(), m.start() + len(link)))
            if link not in links:
                links.append(link)
            wa = _WA_NUMBER_RE.search(link)
            if wa and "+" + wa.group(1) not in phones:
                phones.append("+" + wa.group(1))
    if "@" in text or "\uff20" in text or "at" in lowered:
        for m in _EMAIL_RE.finditer(text):
            if any(x < m.end() and m.start() < y for x, y in spans):
                continue
            clean = _clean_email(m.group(0))
            if clean not in emails:
                emails.append(clean)
            spans.append(m.span())
    if _PHONE_RUN_RE.search(text):
        phone_spans = _phone_spans(
            text, spans, region=region, trunk_regions=trunk_regions, leniency=leniency, min_national_digits=min_national_digits, id_labels=id_labels
        )
        for a, b, raw in phone_spans:
            number = raw.strip()
            if number not in phones:
                phones.append(number)
            spans.append((a, b))
    if not spans:
        return Contacts(text=text)
    out, last = [], 0
    for a, b in sorted(spans):
        out.append(text[last:a])
        last = max(last, b)
    out.append(text[last:])
    return Contacts(text=" ".join("".join(out).split()), emails=tuple(emails), phones=tuple(phones), links=tuple(links))


def extract_contacts(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Split contact details out of a text (see :func:`contact_details`).

    :param text: normalised text.
    :returns: ``(text without the contact details, emails (lower-cased), phone numbers as written)``;
        messaging links are removed from the text too.
    """
    found = contact_details(text)
    return found.text, found.emails, found.phones


def redact_contacts(text: str) -> str:
    """``text`` without emails, phone numbers and messaging links (see :func:`contact_details`)."""
    return contact_details(text).text


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


def _join(values: list[str] | tuple[str, ...]) -> str:
    return "|".join(values)


def may_hold_contacts(texts: pd.Series) -> np.ndarray:
    """False where :func:`contact_details` cannot find anything, decided without running it.

    An email needs an ``@`` (or a fullwidth one), a bracketed "at" (``[at]``, ``(at)``, ``{at}``)
    or the words "at" and "dot"; every phone number has 8 digits joined only by phone punctuation
    (:data:`~matcher.text.PHONE_RUN_PATTERN`, digits counted as Unicode decimal digits, as Python's
    ``\\d``); a messaging link names its service. A text with none of these holds no contact detail.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(texts.fillna("").astype(str), type=pa.large_string())
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):  # e.g. a lone surrogate: search them all
        return np.ones(len(texts), dtype=bool)
    at = pc.or_(pc.match_substring(arr, "@"), pc.match_substring(arr, "\uff20"))
    bracket_at = pc.and_(pc.match_substring_regex(arr, r"[\[({<]"), pc.match_substring(arr, "at", ignore_case=True))
    words = pc.and_(pc.match_substring_regex(arr, r"\sat\s", ignore_case=True), pc.match_substring_regex(arr, r"\sdot\s", ignore_case=True))
    digits = pc.match_substring_regex(arr, _PHONE_RUN_RE2)
    links = pc.match_substring_regex(arr, _MESSAGING_HINT, ignore_case=True)
    return pc.or_(pc.or_(pc.or_(at, bracket_at), pc.or_(words, digits)), links).to_numpy(zero_copy_only=False).astype(bool)


# The same pattern in RE2's syntax (Arrow's): Unicode digits, \x{...} escapes.
_PHONE_RUN_RE2 = re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", PHONE_RUN_PATTERN).replace("\\d", "\\p{Nd}")
# Every messaging link contact_details removes names one of these services.
_MESSAGING_HINT = r"wa\.me|whatsapp|t\.me|telegram|tg://|m\.me|ig\.me|signal\.|line\.me|lin\.ee|viber|msng\.link|wechat|kakao|discord|skype:"
#: Creator and post columns that are not free text (ids, codes, counts, times): never searched for contacts.
_NOT_TEXT = frozenset({"creator_id", "post_id", "platform", "country", "language", "posted_at", "contact_emails", "contact_phones", "contact_links"})


def _text_columns(frame: pd.DataFrame, known: tuple[str, ...], main: str) -> list[str]:
    """``main``, then the handle and every extra column of text: where a contact detail can hide."""
    extra = [
        c for c in frame.columns
        if c not in known and c not in _NOT_TEXT and (pd.api.types.is_string_dtype(frame[c].dtype) or pd.api.types.is_object_dtype(frame[c].dtype))
    ]
    return [main, *(["handle"] if "handle" in frame.columns and main != "handle" else []), *extra]


def move_contacts(
    creators: pd.DataFrame, posts: pd.DataFrame, *, creator_columns: tuple[str, ...] = (), post_columns: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move emails, phone numbers and messaging links out of every text field into the creators' contact columns.

    Bios, handles and post texts, and every extra column of text (string columns other than the
    schema's ``creator_columns`` and ``post_columns``, kept from the input files), are searched;
    what is found leaves the text (and so the embeddings, the store's text and the API) and is kept
    in ``contact_emails``, ``contact_phones`` and ``contact_links``. Returns new frames.
    """
    creators = creators.copy()
    posts = posts.copy()
    found: dict[str, dict[str, list[str]]] = {"emails": {}, "phones": {}, "links": {}}

    def take(owner: str, text: object) -> object:
        if pd.isna(text):
            return text
        got = contact_details(str(text))
        for kind, values in (("emails", got.emails), ("phones", got.phones), ("links", got.links)):
            for v in values:
                if v not in found[kind].setdefault(owner, []):
                    found[kind][owner].append(v)
        return got.text

    def redact(frame: pd.DataFrame, owners: list[str], column: str) -> None:
        values = frame[column]
        # Only texts that can hold one are searched (most captions cannot; the search costs minutes at millions).
        may = may_hold_contacts(values.astype("string"))
        if not may.any():
            return
        out = [take(o, v) if m and isinstance(v, str) else v for o, v, m in zip(owners, values.tolist(), may)]
        frame[column] = pd.array(out, dtype="string") if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype) else out

    ids = creators["creator_id"].astype(str).tolist()
    for column in _text_columns(creators, creator_columns, "bio"):
        redact(creators, ids, column)
    post_owners = posts["creator_id"].astype(str).tolist()
    for column in _text_columns(posts, post_columns, "text"):
        redact(posts, post_owners, column)
    for column in ("bio", "text"):
        frame = creators if column == "bio" else posts
        frame[column] = frame[column].astype("string")
    creators["contact_emails"] = pd.array([_join(found["emails"].get(c, [])) for c in ids], dtype="string")
    creators["contact_phones"] = pd.array([_join(found["phones"].get(c, [])) for c in ids], dtype="string")
    creators["contact_links"] = pd.array([_join(found["links"].get(c, [])) for c in ids], dtype="string")
    return creators, posts

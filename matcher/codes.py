"""Country and language values as codes: the one mapping used by ingest, filters and brands.

Real exports write countries and languages every which way: ``US``, ``usa``, ``U.S.A``,
``United States``, ``Deutschland``; ``en``, ``EN``, ``eng``, ``en_US``, ``English``, ``Deutsch``.
:func:`country_code` turns any of these into an ISO 3166-1 alpha-2 code and
:func:`language_code` into an ISO 639-1 code (ISO 639-3 for a language without one), keeping a
regional subtag lower-cased (``pt_BR`` -> ``pt-br``). Both answer ``None`` for a value they do
not recognise: they look values up exactly (codes, the ISO names, and a short list of common
variants and endonyms), never by similarity, so an unknown value is never turned into a wrong one.

The ISO tables come from ``pycountry``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

import pycountry

__all__ = ["country_code", "language_code", "country_codes", "language_codes", "COUNTRY_HINT", "LANGUAGE_HINT"]

#: What to write instead of an unrecognised country.
COUNTRY_HINT = "write an ISO 3166-1 code such as US or GB, or a country name such as 'United States'"
#: What to write instead of an unrecognised language.
LANGUAGE_HINT = "write an ISO 639-1 code such as en or pt-br, or a language name such as 'English'"

# Common variants, short forms and endonyms that are not among the ISO names. Keys are written as
# _key() leaves them: lower case, without accents, dots or apostrophes.
_COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB",
    "america": "US", "united states of america": "US", "us of a": "US",
    "deutschland": "DE", "allemagne": "DE", "alemania": "DE",
    "espana": "ES", "brasil": "BR", "mexique": "MX", "italia": "IT", "nederland": "NL", "holland": "NL",
    "the netherlands": "NL", "belgique": "BE", "belgie": "BE", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "osterreich": "AT", "polska": "PL", "sverige": "SE", "norge": "NO", "danmark": "DK", "suomi": "FI",
    "eire": "IE", "hellas": "GR", "ellada": "GR", "turkey": "TR", "russia": "RU", "rossiya": "RU",
    "czech republic": "CZ", "cesko": "CZ", "magyarorszag": "HU", "romania": "RO", "hrvatska": "HR",
    "nippon": "JP", "nihon": "JP", "bharat": "IN", "uae": "AE", "emirates": "AE", "ksa": "SA",
    "ivory coast": "CI", "cote divoire": "CI", "burma": "MM", "macedonia": "MK", "swaziland": "SZ",
    "cape verde": "CV", "vatican": "VA", "vatican city": "VA", "palestine": "PS", "kosovo": "XK",
    "south korea": "KR", "republic of korea": "KR", "north korea": "KP", "hong kong sar": "HK",
    "中国": "CN", "日本": "JP", "한국": "KR", "대한민국": "KR", "россия": "RU", "भारत": "IN", "ไทย": "TH",
    "xk": "XK",  # Kosovo: user-assigned, but the code every platform uses
}

_LANGUAGE_ALIASES: dict[str, str] = {
    "deutsch": "de", "espanol": "es", "castellano": "es", "portugues": "pt", "francais": "fr",
    "italiano": "it", "nederlands": "nl", "vlaams": "nl", "flemish": "nl", "svenska": "sv", "dansk": "da",
    "norsk": "no", "bokmal": "nb", "nynorsk": "nn", "suomi": "fi", "polski": "pl", "cestina": "cs",
    "czech": "cs", "magyar": "hu", "romana": "ro", "turkce": "tr", "hrvatski": "hr", "srpski": "sr",
    "greek": "el", "ellinika": "el", "farsi": "fa", "persian": "fa", "malay": "ms", "bahasa melayu": "ms",
    "bahasa indonesia": "id", "bahasa": "id", "tieng viet": "vi", "filipino": "fil", "tagalog": "tl",
    "mandarin": "zh", "chinese": "zh", "cantonese": "yue", "punjabi": "pa", "panjabi": "pa",
    "russkiy": "ru", "русский": "ru", "українська": "uk", "ελληνικα": "el", "עברית": "he",
    "العربية": "ar", "فارسی": "fa", "हिन्दी": "hi", "हिंदी": "hi", "বাংলা": "bn", "ไทย": "th",
    "日本語": "ja", "한국어": "ko", "中文": "zh", "普通话": "zh",
    # Retired ISO 639-1 codes that old exports still carry.
    "iw": "he", "in": "id", "ji": "yi", "mo": "ro",
}

_TAG_RE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_DROP = str.maketrans("", "", ".'’`")


def _key(value: str) -> str:
    """Lower case without accents, dots or apostrophes; other punctuation becomes one space."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().translate(_DROP)
    text = re.sub(r"[\W_]+", " ", text)
    return text.strip()


def _name_keys(name: str) -> list[str]:
    """An ISO name and its reordered form: "Korea, Republic of" also as "Republic of Korea"."""
    keys = [_key(name)]
    if ", " in name:
        head, _, tail = name.partition(", ")
        keys.append(_key(f"{tail} {head}"))
    bare = re.sub(r"\s*\([^)]*\)", "", name)
    if bare != name:
        keys.append(_key(bare))
    return keys


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                for key in _name_keys(value):
                    names.setdefault(key, country.alpha_2)
    names.update(_COUNTRY_ALIASES)
    return names


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    # Names only of languages with a two-letter code: the full ISO 639-3 list holds 7,900
    # names, many of them ordinary words in some other language.
    names: dict[str, str] = {}
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None)
        if code:
            for key in _name_keys(language.name):
                names.setdefault(key, code)
    names.update(_LANGUAGE_ALIASES)
    return names


@lru_cache(maxsize=65_536)
def country_code(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country written as a code, a name or a common variant.

    >>> [country_code(v) for v in ("us", "U.S.A", "United States", "UK", "Deutschland", "Narnia")]
    ['US', 'US', 'US', 'GB', 'DE', None]

    :param value: a two- or three-letter code, an ISO name (short, official or common), or a
        common variant or endonym (``U.K.``, ``England``, ``España``); case, accents, dots and
        surrounding spaces do not matter.
    :returns: the upper-case two-letter code, or ``None`` when the value is not recognised.
    """
    key = _key(str(value))
    if not key:
        return None
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    compact = key.replace(" ", "")
    if compact.isascii() and compact.isalpha():
        if len(compact) == 2 and (found := pycountry.countries.get(alpha_2=compact.upper())):
            return str(found.alpha_2)
        if len(compact) == 3 and " " not in key and (found := pycountry.countries.get(alpha_3=compact.upper())):
            return str(found.alpha_2)
    names = _country_names()
    if key in names:
        return names[key]
    if key.startswith("the "):
        return names.get(key[4:])
    return None


def _primary_language(subtag: str) -> str | None:
    if subtag in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[subtag]
    if len(subtag) == 2:
        found = pycountry.languages.get(alpha_2=subtag)
        return subtag if found is not None else None
    found = pycountry.languages.get(alpha_3=subtag) or pycountry.languages.get(bibliographic=subtag)
    if found is None:
        return None
    return str(getattr(found, "alpha_2", None) or found.alpha_3)


@lru_cache(maxsize=65_536)
def language_code(value: str) -> str | None:
    """The ISO 639-1 code of a language written as a code, a tag or a name.

    A regional or script subtag is kept, lower-cased, after the two-letter code; three-letter
    codes become two-letter ones where ISO 639-1 has one.

    >>> [language_code(v) for v in ("EN", "eng", "pt_BR", "en-US", "Deutsch", "Português", "Klingon!")]
    ['en', 'en', 'pt-br', 'en-us', 'de', 'pt', None]

    :param value: an ISO 639-1/639-2/639-3 code or a tag such as ``pt-BR`` (``_`` is read as
        ``-``), or a language name in English or in the language itself.
    :returns: the lower-case code, or ``None`` when the value is not recognised.
    """
    text = str(value).strip().lower().replace("_", "-")
    if not text:
        return None
    if _TAG_RE.fullmatch(text):
        primary, _, rest = text.partition("-")
        code = _primary_language(primary)
        if code is not None:
            return f"{code}-{rest}" if rest else code
    return _language_names().get(_key(text))


def _all_codes(values: Iterable[str], kind: str, convert: Callable[[str], str | None], hint: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for value in values:
        code = convert(value)
        if code is None:
            raise ValueError(f"{kind} {str(value)!r} is not a {kind} matcher recognises; {hint}")
        out[code] = None
    return tuple(out)


def country_codes(values: Iterable[str]) -> tuple[str, ...]:
    """:func:`country_code` of each value, without repeats, for a filter.

    :raises ValueError: naming the first value that is not recognised and what to write.
    """
    return _all_codes(values, "country", country_code, COUNTRY_HINT)


def language_codes(values: Iterable[str]) -> tuple[str, ...]:
    """:func:`language_code` of each value, without repeats, for a filter.

    :raises ValueError: naming the first value that is not recognised and what to write.
    """
    return _all_codes(values, "language", language_code, LANGUAGE_HINT)

"""Tests for matcher.codes: countries and languages written every which way become ISO codes."""

from __future__ import annotations

import pytest

from matcher.codes import country_code, country_codes, language_code, language_codes


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("U.S.A", "US"), ("U.S.A.", "US"), ("USA", "US"), ("usa", "US"), ("United States", "US"),
        ("united states", "US"), ("United States of America", "US"), ("US", "US"), ("us", "US"),
        ("U.K.", "GB"), ("UK", "GB"), ("United Kingdom", "GB"), ("England", "GB"), ("GBR", "GB"),
        ("Deutschland", "DE"), ("Germany", "DE"), ("DEU", "DE"), ("España", "ES"), ("Espana", "ES"),
        ("South Korea", "KR"), ("Korea, Republic of", "KR"), ("Republic of Korea", "KR"),
        ("India", "IN"), ("  india ", "IN"), ("Brasil", "BR"), ("Türkiye", "TR"), ("Turkey", "TR"),
        ("Vietnam", "VN"), ("Czech Republic", "CZ"), ("The Netherlands", "NL"), ("Côte d'Ivoire", "CI"),
        ("UAE", "AE"), ("Russia", "RU"), ("Kosovo", "XK"),
    ],
)
def test_country_names_codes_and_variants(value: str, code: str) -> None:
    assert country_code(value) == code


@pytest.mark.parametrize("value", ["", "  ", "Narnia", "XX", "ZZZ", "U", "Europe", "123", "Korea"])
def test_unknown_countries_are_not_guessed(value: str) -> None:
    assert country_code(value) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("en", "en"), ("EN", "en"), ("eng", "en"), ("English", "en"), ("english", "en"), ("en-US", "en-us"),
        ("en_GB", "en-gb"), ("pt_BR", "pt-br"), ("Português", "pt"), ("Portuguese", "pt"), ("por", "pt"),
        ("Deutsch", "de"), ("German", "de"), ("ger", "de"), ("deu", "de"), ("Español", "es"),
        ("Spanish", "es"), ("Français", "fr"), ("zh-Hans", "zh-hans"), ("Chinese", "zh"), ("日本語", "ja"),
        ("Greek", "el"), ("fil", "fil"), ("Filipino", "fil"), ("iw", "he"),
    ],
)
def test_language_names_codes_and_tags(value: str, code: str) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize("value", ["", "xx", "Elvish", "Klingon", "e", "english (us)", "xx-yy"])
def test_unknown_languages_are_not_guessed(value: str) -> None:
    assert language_code(value) is None


def test_filter_lists_map_dedupe_and_name_an_unknown_value() -> None:
    assert country_codes(["united states", "usa", "U.K."]) == ("US", "GB")
    assert language_codes(["English", "en", "pt_BR"]) == ("en", "pt-br")
    with pytest.raises(ValueError, match=r"country 'Narnia' is not a country matcher recognises; write an ISO 3166-1 code such as US"):
        country_codes(["US", "Narnia"])
    with pytest.raises(ValueError, match=r"language 'Elvish' .* such as en or pt-br"):
        language_codes(["Elvish"])

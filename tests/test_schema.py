"""Tests for matcher.schema's filters and brands: countries and languages by code or by name."""

from __future__ import annotations

import pytest

from matcher.schema import Brand, Filters


def test_filters_take_country_names_and_variants() -> None:
    for written in ("united states", "usa", "U.S.A", "US", "us"):
        assert Filters(countries=(written,)).countries == ("US",)
    assert Filters(countries=("U.K.", "Deutschland", "South Korea", "India", "UK")).countries == ("GB", "DE", "KR", "IN")


def test_filters_take_language_names_and_tags() -> None:
    assert Filters(languages=("English", "Deutsch", "Português", "pt_BR", "eng")).languages == ("en", "de", "pt", "pt-br")


def test_filters_name_an_unknown_country_and_say_what_to_write() -> None:
    with pytest.raises(ValueError) as info:
        Filters(countries=("US", "Narnia"))
    message = str(info.value)
    assert "'Narnia'" in message and "such as US or GB" in message and "'United States'" in message
    with pytest.raises(ValueError, match="'Elvish'.*such as en or pt-br"):
        Filters(languages=("Elvish",))


def test_merged_filters_intersect_on_codes() -> None:
    brand = Filters(countries=("United States", "Canada"))
    request = Filters(countries=("usa",))
    assert brand.merge(request).countries == ("US",)


def test_brand_lists_are_codes_and_an_unknown_one_names_the_brand() -> None:
    brand = Brand(brand_id="b1", description="trail shoes", countries=("USA", "U.K."), languages=("English",))
    assert (brand.countries, brand.languages) == (("US", "GB"), ("en",))
    assert brand.filters().countries == ("US", "GB")
    with pytest.raises(ValueError, match="brand 'b2': country 'Atlantis'"):
        Brand(brand_id="b2", description="trail shoes", countries=("Atlantis",))

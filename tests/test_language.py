"""Tests for matcher.language: the main language of creators whose language is blank."""

from __future__ import annotations

import pandas as pd
import pytest

from matcher.config import Config, LanguageConfig
from matcher.errors import ConfigError
from matcher.language import LanguageDetector, creator_texts, detect_creator_languages

ENGLISH = [
    "New video is up: my full morning routine and the skincare I actually use every day.",
    "Tried three trail shoes on the same muddy loop this weekend. Here is what held up.",
]
SPANISH = [
    "Hoy entrenamos piernas en el gimnasio, la rutina completa está en mi canal. ¡Vamos con todo!",
    "Receta fácil de tortilla de patatas para la cena del domingo con toda la familia.",
]
GERMAN = [
    "Heute gibt es ein neues Rezept für veganen Kuchen, ganz einfach und schnell gemacht.",
    "Meine Lieblingswanderung in den Alpen: drei Tage, zwei Hütten und sehr viel Regen.",
]
PORTUGUESE = [
    "Hoje fiz uma trilha incrível na serra, as fotos ficaram lindas demais! Bora comigo?",
    "Minha rotina de cuidados com a pele, tudo que eu uso de manhã e à noite.",
]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector().build()


@pytest.mark.parametrize(("texts", "code"), [(ENGLISH, "en"), (SPANISH, "es"), (GERMAN, "de"), (PORTUGUESE, "pt")])
def test_real_looking_posts_get_their_language(detector: LanguageDetector, texts: list[str], code: str) -> None:
    assert detector.detect(texts) == [code] * len(texts)


@pytest.mark.parametrize(
    "text",
    [
        "", "lol", "ok thanks", "🔥🔥🔥", "😍😍 #love #instagood #fitness #gym #motivation #trailrunning",
        "https://example.com/shop?ref=abc123 @someone @another", "12/05 18:00 !!!", "Nice pic",
    ],
)
def test_too_little_text_stays_blank(detector: LanguageDetector, text: str) -> None:
    assert detector.detect([text]) == [None]


def test_hashtags_mentions_and_links_are_not_read(detector: LanguageDetector) -> None:
    text = "Receta fácil de tortilla para la cena #food #recipe #dinner #healthy #yummy #foodie @chef https://t.co/x"
    assert detector.detect([text]) == ["es"]


def test_unknown_detector_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'xx'"):
        LanguageDetector(languages=("en", "xx")).build()
    with pytest.raises(ConfigError, match="at least two"):
        LanguageDetector(languages=("en",)).build()


def _creators(rows: list[tuple[str, str, object]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "creator_id": pd.array([r[0] for r in rows], dtype="string"),
            "bio": pd.array([r[1] for r in rows], dtype="string"),
            "language": pd.array([r[2] for r in rows], dtype="string"),
        }
    )


def _posts(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "post_id": pd.array([f"p{i}" for i in range(len(rows))], dtype="string"),
            "creator_id": pd.array([r[0] for r in rows], dtype="string"),
            "text": pd.array([r[1] for r in rows], dtype="string"),
        }
    )


CREATORS = _creators(
    [
        ("c1", "", "fr"),                     # given: kept as it is, whatever the posts say
        ("c2", "", None),                     # Spanish posts
        ("c3", "Ich koche jeden Tag vegan und zeige euch meine liebsten Rezepte.", None),  # no posts: the bio
        ("c4", "hi", None),                   # too little text anywhere: blank
        ("c5", "Fotógrafa de viagens", None), # Portuguese posts
        ("c6", "", "pt-br"),
    ]
)
POSTS = _posts(
    [
        ("c1", SPANISH[0]), ("c2", SPANISH[0]), ("c2", SPANISH[1]), ("c4", "🔥🔥"), ("c4", "#ootd"),
        ("c5", PORTUGUESE[0]), ("c5", PORTUGUESE[1]), ("c6", ENGLISH[0]),
    ]
)


def test_blank_languages_are_detected_and_marked(detector: LanguageDetector) -> None:
    out = detect_creator_languages(CREATORS, POSTS, detector=detector)
    assert out["language"].tolist()[:3] == ["fr", "es", "de"]
    assert pd.isna(out["language"][3])
    assert out["language"].tolist()[4:] == ["pt", "pt-br"]
    assert out["language_source"].tolist()[:3] == ["given", "detected", "detected"]
    assert pd.isna(out["language_source"][3])
    assert out["language_source"].tolist()[4:] == ["detected", "given"]
    assert out["creator_id"].tolist() == CREATORS["creator_id"].tolist()
    assert CREATORS["language"].isna().sum() == 4  # the input is not changed


def test_detection_can_be_turned_off() -> None:
    out = detect_creator_languages(CREATORS, POSTS, config=LanguageConfig(detect=False))
    assert out["language"].isna().sum() == 4
    assert out["language_source"].tolist()[0] == "given" and out["language_source"].isna().sum() == 4


def test_creator_texts_read_posts_first_up_to_the_sample_and_the_bio_when_posts_are_thin() -> None:
    texts = creator_texts(CREATORS, POSTS, sample_chars=60, min_letters=25)
    assert texts[1] == SPANISH[0][:60]
    assert texts[2] == CREATORS["bio"][2][:60]
    assert texts[3] == "hi"
    assert all(len(t) <= 60 for t in texts)


def test_language_settings_are_validated() -> None:
    assert Config.from_dict({"language": {"languages": ["EN", "es"]}}).language.languages == ("en", "es")
    with pytest.raises(ConfigError, match="language.min_letters"):
        Config.from_dict({"language": {"min_letters": 0}})

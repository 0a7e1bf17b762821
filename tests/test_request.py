"""One validation of a recommendation request: recommend(), `matcher recommend` and the HTTP API agree."""

from __future__ import annotations

import contextlib
import io

import pytest
from pydantic import ValidationError

from matcher.config import Weights
from matcher.request import (
    MAX_BRIEF_CHARS,
    RequestError,
    MAX_LIKED,
    check_brief,
    check_country,
    check_creator_ids,
    check_filters,
    check_k,
    check_mention,
    check_weights,
    validate_request,
)
from matcher.schema import Filters

TRAIL = "Lightweight trail running shoe with a rock plate"

# (CLI arguments after the brief, API body, words both must say)
REFUSED = [
    (["x" * 5000], {"brief": "x" * 5000}, "brief is 5,000 characters; the limit is 2,000"),
    (["   "], {"brief": "   "}, "brief is blank"),
    (["<p> </p>\u200b"], {"brief": "<p> </p>\u200b"}, "brief is blank"),
    ([TRAIL, "--country", "Narnia"], {"brief": TRAIL, "filters": {"countries": ["Narnia"]}}, "country 'Narnia' is not a country matcher recognises"),
    ([TRAIL, "--country", "U.S.S.A"], {"brief": TRAIL, "filters": {"countries": ["U.S.S.A"]}}, "country 'U.S.S.A' is not a country matcher recognises"),
    ([TRAIL, "--language", "elvish"], {"brief": TRAIL, "filters": {"languages": ["elvish"]}}, "language 'elvish' is not a language matcher recognises"),
    ([TRAIL, "--platform", "<script>"], {"brief": TRAIL, "filters": {"platforms": ["<script>"]}}, "platform '<script>' is not a platform name"),
    ([TRAIL, "--k", "0"], {"brief": TRAIL, "k": 0}, "k is 0; ask for between 1 and"),
    ([TRAIL, "--diversity", "1.5"], {"brief": TRAIL, "diversity": 1.5}, "diversity is 1.5; use a number between 0 (off) and 1"),
    (["--unlike", "c1"], {"unlike": ["c1"]}, "no brief and no creators to look like; give a brief, like=[creator ids], or both"),
    ([], {}, "no brief and no creators to look like"),
    (["--like", "c1", "--unlike", "c1"], {"like": ["c1"], "unlike": ["c1"]}, "creator 'c1' is in both like and unlike; keep it in one of them"),
    (["--like", "   "], {"like": ["   "]}, "like: '   ' is not a creator id"),
    ([TRAIL, "--mention", "!!!"], {"brief": TRAIL, "filters": {"mentions": ["!!!"]}}, "mentions: '!!!' has no letters or digits"),
    ([TRAIL, "--mention", ""], {"brief": TRAIL, "filters": {"mentions": [""]}}, "mentions: '' has no letters or digits"),
    ([TRAIL, "--mention", "x" * 101], {"brief": TRAIL, "filters": {"mentions": ["x" * 101]}}, "mentions: a term of 101 characters"),
]


def _cli(args: list[str], store) -> tuple[int, str]:
    from matcher.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["-q", "recommend", "--store", str(store), *args])
    return code, err.getvalue()


@pytest.mark.parametrize(("cli_args", "body", "words"), REFUSED)
def test_cli_and_api_refuse_the_same_requests_in_the_same_words(tmp_path, cli_args, body, words):
    from matcher.serve import RecommendRequest

    # The CLI refuses before it opens the store: the store need not even exist.
    code, err = _cli(cli_args, tmp_path / "no-store")
    assert code == 2, err
    assert err.startswith("matcher: error: ") and words in err and "no published snapshot" not in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(ValidationError) as info:
        RecommendRequest.model_validate(body)
    assert words in str(info.value)


def test_the_validator_accepts_and_normalises_good_requests():
    req = validate_request(TRAIL, k=7, filters=Filters(countries=("us", "US", "ca"), languages=("EN",), platforms=("TikTok",)), weights={"topic": 1})
    assert req.k == 7 and req.brief == TRAIL
    assert req.filters.countries == ("US", "CA") and req.filters.languages == ("en",) and req.filters.platforms == ("tiktok",)
    assert req.weights == Weights(topic=1.0, engagement=0.0, trust=0.0, conversation=0.0, fit=0.0)
    assert check_brief("x" * MAX_BRIEF_CHARS) == "x" * MAX_BRIEF_CHARS
    assert check_country(" gb ") == "GB" and check_country("U.S.A") == "US" and check_country("Deutschland") == "DE"
    assert check_filters(None) is None and check_weights(None) is None


def test_mentions_are_checked_and_kept_as_given():
    req = validate_request(TRAIL, filters=Filters(mentions=(" Summit Trail Co ", "@peakline", "trail running", "@peakline")))
    assert req.filters.mentions == ("Summit Trail Co", "@peakline", "trail running")
    assert Filters(mentions="Acme, Inc.").mentions == ("Acme, Inc.",)  # one name, not split at the comma
    assert Filters(mentions=("x",)).active and not Filters().active
    with pytest.raises(RequestError, match="mentions: 21 given, at most 20"):
        check_filters(Filters(mentions=tuple(f"brand {i}" for i in range(21))))
    with pytest.raises(RequestError, match="mentions: 5 is not text"):
        check_mention(5)


def test_lookalike_requests_need_a_brief_or_liked_creators():
    req = validate_request(None, like=["c2", "c1", "c2"], unlike=("c9",))
    assert req.brief is None and req.like == ("c2", "c1") and req.unlike == ("c9",)
    assert validate_request(TRAIL).like == () and validate_request(TRAIL, unlike=["c9"]).unlike == ("c9",)
    assert check_creator_ids(None, "like") == ()
    with pytest.raises(RequestError, match="like is str; give a list of creator ids"):
        check_creator_ids("c1", "like")
    with pytest.raises(RequestError, match=f"like: {MAX_LIKED + 1} given, at most {MAX_LIKED}"):
        check_creator_ids([f"c{i}" for i in range(MAX_LIKED + 1)], "like")
    with pytest.raises(RequestError, match="unlike: 5 is not a creator id"):
        check_creator_ids(["c1", 5], "unlike")
    with pytest.raises(RequestError, match="creator ids are at most 200"):
        check_creator_ids(["c" * 201], "like")


@pytest.mark.parametrize("k", [0, -1, 1001, True, 2.0, "5"])
def test_k_must_be_a_whole_number_in_range(k):
    with pytest.raises(RequestError):
        check_k(k)
    assert check_k(100, limit=100) == 100
    with pytest.raises(RequestError, match="between 1 and 100"):
        check_k(101, limit=100)


def test_request_errors_are_value_errors_with_a_fix():
    with pytest.raises(ValueError, match="such as US or GB"):
        check_country("Narnia")
    with pytest.raises(RequestError, match="unknown weight"):
        check_weights({"reach": 1})
    import pycountry

    many = tuple(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))[:51]
    with pytest.raises(RequestError, match="at most 50"):
        check_filters(Filters(languages=many))


@pytest.mark.slow
def test_recommend_refuses_what_the_cli_and_api_refuse(matcher_):
    with pytest.raises(RequestError, match="brief is 5,000 characters"):
        matcher_.recommend("x" * 5000, k=3)
    with pytest.raises(ValueError, match="country 'Narnia'"):
        matcher_.recommend(TRAIL, k=3, filters=Filters(countries=("Narnia",)))
    assert len(matcher_.recommend(TRAIL, k=3, filters=Filters(countries=("us",)))) == 3


@pytest.mark.parametrize("budget", [0, -1, float("nan"), float("inf"), True, "5000", 2e12])
def test_budget_must_be_an_amount_above_zero(budget):
    from matcher.request import check_budget

    with pytest.raises(RequestError, match="budget is"):
        check_budget(budget)


def test_budget_max_overlap_and_costs_accepted_and_refused_alike():
    from matcher.request import check_budget, check_costs, check_max_overlap
    from matcher.serve.models import ShortlistRequest

    assert check_budget(5000) == 5000.0 and check_max_overlap(None) is None and check_max_overlap(0) == 0.0
    for bad in (-0.1, 1.5, float("nan"), "0.2"):
        with pytest.raises(RequestError, match="max_overlap is"):
            check_max_overlap(bad)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValidationError, match="max_overlap"):
            ShortlistRequest(brief=TRAIL, budget=100, max_overlap=bad)
    assert check_costs({"c1": 10, " c2 ": 2.5}) == {"c1": 10.0, "c2": 2.5}
    for bad in ([("c1", 1)], {"c1": 0}, {"": 5}, {"c1": float("nan")}):
        with pytest.raises(RequestError):
            check_costs(bad)
    with pytest.raises(ValidationError, match="budget is -1"):
        ShortlistRequest(brief=TRAIL, budget=-1)
    with pytest.raises(ValidationError, match="either a brief or a brand_id"):
        ShortlistRequest(budget=10)
    with pytest.raises(ValidationError, match="budget: give the most"):
        ShortlistRequest(brief=TRAIL)
    assert ShortlistRequest(brand_id="b001").budget is None

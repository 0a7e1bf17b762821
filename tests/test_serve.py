"""HTTP API: responses mirror the engine, every limit fails clearly, snapshot switches and concurrency are safe."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.slow

fastapi = pytest.importorskip("fastapi", reason="install the service dependencies: pip install -e '.[test]'")
from fastapi.testclient import TestClient  # noqa: E402

from matcher.serve import MAX_BODY_BYTES, create_app  # noqa: E402
from matcher.store import Store  # noqa: E402

TRAIL = "Lightweight trail running shoe with a rock plate for technical singletrack and ultramarathons"
BRIEFS = [
    TRAIL,
    "Fragrance-free ceramide moisturizer for dry, sensitive, eczema-prone skin",
    "Plant-based high-protein vegan cookbook with weeknight recipes",
    "Budget backpacking guide: hostels, night buses and cheap flights",
    "Wireless mechanical keyboard for competitive gaming",
]


@pytest.fixture(scope="module")
def store_dir(built, tmp_path_factory):
    """A private copy of the sample store: other tests republish into the shared one."""
    dst = tmp_path_factory.mktemp("serve") / "store"
    shutil.copytree(built.store, dst)
    return dst


@pytest.fixture(scope="module")
def client(store_dir, encoder):
    with TestClient(create_app(store_dir, encoder=encoder)) as c:
        yield c


@pytest.fixture(scope="module")
def snap(store_dir):
    return Store(store_dir).load()


def _without_timing(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "took_ms"}


def _same_numbers(got: dict, want: dict) -> bool:
    return set(got) == set(want) and all(
        (got[k] is None and want[k] is None) or (got[k] is not None and want[k] is not None and got[k] == pytest.approx(want[k])) for k in want
    )


# -- recommend --------------------------------------------------------------------------------


def test_recommend_mirrors_the_engine(client, store_dir, encoder):
    from matcher.engine import Matcher

    r = client.post("/recommend", json={"brief": TRAIL, "k": 8})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = Matcher(store_dir, encoder=encoder).load().recommend(TRAIL, 8)
    assert body["snapshot_id"] == Store(store_dir).current_id()
    assert [m["creator_id"] for m in body["matches"]] == [m.creator_id for m in expected]
    for got, want in zip(body["matches"], expected):
        assert got["rank"] == want.rank
        assert got["score"] == pytest.approx(want.score)
        assert _same_numbers(got["components"], want.components)
        assert _same_numbers(got["contributions"], want.contributions)
        assert sum(got["contributions"].values()) == pytest.approx(got["score"], abs=1e-5)
        assert got["flags"] == list(want.flags)
        assert [e["post_id"] for e in got["evidence"]] == [e.post_id for e in want.evidence]
        assert got["evidence"], "every match names the posts that matched"
        assert got["signals"]["tier"] == want.signals["tier"]
        assert got["why"] == want.why
        # The price is a range with its basis, without the single mid figure; the confidence with its evidence.
        if want.price is None:
            assert got["price"] is None
        else:
            assert set(got["price"]) == {"low", "high", "currency", "basis", "text"}
            assert (got["price"]["low"], got["price"]["high"], got["price"]["basis"]) == (want.price.low, want.price.high, want.price.basis)
            assert got["price"]["text"].endswith(" per post") and got["price"]["currency"] == "USD"
        assert got["trust_confidence"] == dataclasses.asdict(want.trust_confidence)
    scores = [m["score"] for m in body["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert [m["rank"] for m in body["matches"]] == list(range(1, 9))


def test_mentions_give_the_same_creators_in_python_the_cli_and_the_api(client, store_dir, encoder, snap):
    """Filters(mentions=...), --mention and filters.mentions: the same creators, each with a post naming a term."""
    import contextlib
    import io
    import json
    import re

    from matcher.cli import main
    from matcher.engine import Matcher
    from matcher.schema import Filters

    terms = ["Halcyon Skin", "@scree_running"]
    lib = Matcher(store_dir, encoder=encoder).load().recommend(TRAIL, 100, filters=Filters(mentions=tuple(terms)))
    r = client.post("/recommend", json={"brief": TRAIL, "k": 100, "filters": {"mentions": terms}})
    assert r.status_code == 200, r.text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["-q", "recommend", "--store", str(store_dir), TRAIL, "--k", "100", "--json", *(a for t in terms for a in ("--mention", t))]) == 0
    cli = json.loads(out.getvalue())["matches"]
    ids = [m.creator_id for m in lib]
    assert ids and [m["creator_id"] for m in r.json()["matches"]] == ids == [m["creator_id"] for m in cli]
    # Exactly the creators (brand accounts aside) with a post naming a term: "Halcyon Skin" in any
    # case, spacing or as #halcyonskin; Scree Running as words or one word.
    named = re.compile(r"(?<![\w])[#@]?(?:halcyon[\s_-]*skin|scree[\s_-]*running)(?![\w])", re.IGNORECASE)
    posts = snap.posts
    people = set(snap.signals.loc[~snap.signals["is_brand_account"].astype(bool), "creator_id"].astype(str))
    want = set(posts.loc[posts["text"].astype(str).str.contains(named), "creator_id"].astype(str)) & people
    assert 0 < len(want) <= 100
    assert set(ids) == want


def test_matches_say_whom_the_creator_worked_with(client, snap):
    r = client.post("/recommend", json={"brief": TRAIL, "k": 30})
    assert r.status_code == 200, r.text
    stored = snap.collaborations
    with_collabs = [m for m in r.json()["matches"] if m["collaborations"]]
    assert with_collabs, "the sample's creators have sponsored posts"
    for m in r.json()["matches"]:
        mine = stored[stored["creator_id"] == m["creator_id"]]
        assert [c["post_id"] for c in m["collaborations"]] == mine["post_id"].tolist()[:50]
        assert {c["source"] for c in m["collaborations"]} <= {"sponsor", "mention", "name"}
        assert bool(m["worked_with"]) == bool(m["collaborations"])
        for c in m["collaborations"]:
            assert c["brand"] in m["worked_with"] or "more" in m["worked_with"]


def test_filters_restrict_who_is_returned(client, snap):
    flt = {"platforms": ["instagram"], "countries": ["us", "CA"], "min_followers": 1000, "max_followers": 100_000}
    r = client.post("/recommend", json={"brief": TRAIL, "k": 10, "filters": flt})
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert matches
    for m in matches:
        assert m["platform"] == "instagram"
        assert m["country"] in ("US", "CA")
        assert 1000 <= m["followers"] <= 100_000


def test_min_trust_is_applied_inside_the_search(client, snap):
    trust = snap.signals["trust_score"]
    qualifying = int((trust >= 0.9).sum())
    assert qualifying >= 20 and (trust < 0.9).any()
    r = client.post("/recommend", json={"brief": TRAIL, "k": 20, "filters": {"min_trust": 0.9}})
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert len(matches) == 20, "excluded creators are filtered before ranking, so k still fills"
    assert all(m["components"]["trust"] >= 0.9 for m in matches)
    # Without the threshold, some of the top creators for the same brief fall below it.
    loose = client.post("/recommend", json={"brief": TRAIL, "k": 100}).json()["matches"]
    assert any(m["components"]["trust"] < 0.9 for m in loose)


def test_weights_override_changes_the_score(client):
    # Components the request leaves out weigh 0, as with Weights.from_mapping.
    r = client.post("/recommend", json={"brief": TRAIL, "k": 5, "weights": {"topic": 1}})
    assert r.status_code == 200, r.text
    for m in r.json()["matches"]:
        assert all(v == 0 for name, v in m["contributions"].items() if name not in ("topic", "penalty"))
        assert m["contributions"]["topic"] == pytest.approx(m["signals"]["topic_fit"], abs=1e-4)  # the brief-calibrated fit
        assert m["score"] == pytest.approx(sum(m["contributions"].values()), abs=1e-5)


# -- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"brief": TRAIL, "k": 0}, "k"),
        ({"brief": TRAIL, "k": 101}, "k"),
        ({"brief": TRAIL, "k": "5"}, "k"),
        ({"brief": TRAIL, "k": 2.5}, "k"),
        ({"brief": "x" * 2001}, "brief"),
        ({"brief": "   \n\t "}, "brief"),
        ({"brief": "<p> </p>\u200b"}, "brief"),
        ({"brief": ""}, "brief"),
        ({"k": 5}, "brief"),
        ({"brief": TRAIL, "filters": {"countries": ["US", "Narnia"]}}, "filters.countries.1"),
        ({"brief": TRAIL, "filters": {"languages": ["elvish"]}}, "filters.languages.0"),
        ({"brief": TRAIL, "filters": {"platforms": ["<script>"]}}, "filters.platforms.0"),
        ({"brief": TRAIL, "filters": {"min_followers": -1}}, "filters.min_followers"),
        ({"brief": TRAIL, "filters": {"min_followers": "1000"}}, "filters.min_followers"),
        ({"brief": TRAIL, "filters": {"min_followers": 10**13}}, "filters.min_followers"),
        ({"brief": TRAIL, "filters": {"min_followers": 5000, "max_followers": 10}}, "filters.max_followers"),
        ({"brief": TRAIL, "filters": {"min_trust": 1.5}}, "filters.min_trust"),
        ({"brief": TRAIL, "filters": {"country": ["US"]}}, "filters.country"),
        ({"brief": TRAIL, "filters": {"exclude_creators": ["c1"] * 1001}}, "filters.exclude_creators"),
        ({"brief": TRAIL, "weights": {"topic": 2}}, "weights.topic"),
        ({"brief": TRAIL, "weights": {"topic": 0, "engagement": 0, "trust": 0}}, "weights"),
        ({"brief": TRAIL, "weights": {}}, "weights"),
        ({"brief": TRAIL, "weights": {"reach": 0.5}}, "weights.reach"),
        ({"brief": TRAIL, "diversity": -0.1}, "diversity"),
        ({"brief": TRAIL, "limit": 5}, "limit"),
    ],
)
def test_bad_requests_answer_422_naming_the_field(client, body, field):
    r = client.post("/recommend", json=body)
    assert r.status_code == 422, r.text
    out = r.json()
    assert out["message"].startswith(field + ":"), out["message"]
    assert any(".".join(str(p) for p in e["loc"][1:]) == field for e in out["detail"])


@pytest.mark.parametrize("raw", [b'{"brief": "shoe", "k": ', b"\x96\x8b\xf6", b"[1, 2]", b'"a brief"', b""])
def test_a_body_that_is_not_a_json_object_answers_422(client, raw):
    r = client.post("/recommend", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["message"]


def test_body_over_64kb_is_rejected_before_parsing(client):
    body = b'{"brief": "' + b"a" * (65 * 1024) + b'"}'
    r = client.post("/recommend", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert str(MAX_BODY_BYTES) in r.json()["detail"]


def test_body_over_64kb_without_content_length_is_rejected(client):
    def chunks():
        yield b'{"brief": "'
        for _ in range(70):
            yield b"a" * 1024
        yield b'"}'

    r = client.post("/recommend", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "64 KB" in r.json()["detail"]


def test_body_just_under_the_limit_is_parsed(client):
    # A valid body near the limit reaches validation (and fails there on the brief's length, not on size).
    body = b'{"brief": "' + b"a" * (MAX_BODY_BYTES - 100) + b'"}'
    r = client.post("/recommend", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("brief:")


def test_a_request_past_the_deadline_answers_503_not_a_hang(store_dir, encoder):
    app = create_app(store_dir, encoder=encoder, timeout_s=0.001)
    with TestClient(app) as c:
        t = time.perf_counter()
        r = c.post("/recommend", json={"brief": TRAIL, "k": 10})
        assert time.perf_counter() - t < 5
    assert r.status_code == 503
    assert "did not finish within" in r.json()["detail"]
    assert r.headers["retry-after"] == "1"


def test_create_app_rejects_bad_limits(store_dir, encoder):
    with pytest.raises(ValueError, match="timeout_s"):
        create_app(store_dir, encoder=encoder, timeout_s=0)
    with pytest.raises(ValueError, match="max_body_bytes"):
        create_app(store_dir, encoder=encoder, max_body_bytes=0)


def test_create_app_without_a_published_snapshot_says_how_to_fix(tmp_path, encoder):
    from matcher.errors import StoreError

    with pytest.raises(StoreError, match="matcher batch"):
        create_app(tmp_path / "empty", encoder=encoder)


# -- creators, brands, health -----------------------------------------------------------------


def test_creator_profile_signals_posts_and_series(client, snap):
    row = int(np.flatnonzero((snap.creators["followers"].fillna(0) > 0).to_numpy() & (np.diff(snap.post_offsets) >= 5))[0])
    cid = str(snap.creators["creator_id"].iat[row])
    r = client.get(f"/creators/{cid}", params={"posts": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["snapshot_id"] == snap.snapshot_id
    assert body["creator"]["creator_id"] == cid
    assert body["creator"]["handle"] == snap.creators["handle"].iat[row]
    assert body["creator"]["followers"] == int(snap.creators["followers"].iat[row])
    assert body["signals"]["tier"] == snap.signals["tier"].iat[row]
    assert body["signals"]["trust_score"] == pytest.approx(float(snap.signals["trust_score"].iat[row]))
    # The price as a range with its basis; no single price figure anywhere in the body.
    assert body["price"]["low"] == pytest.approx(float(snap.signals["price_low"].iat[row]), abs=0.01)
    assert body["price"]["basis"] == snap.signals["price_basis"].iat[row]
    assert not {"price_mid", "price_low", "price_high"} & set(body["signals"])
    assert body["trust_confidence"]["level"] == snap.signals["trust_confidence"].iat[row]
    assert len(body["posts"]) == 3
    lo, hi = int(snap.post_offsets[row]), int(snap.post_offsets[row + 1])
    kept = snap.posts.iloc[lo:hi]
    assert [p["post_id"] for p in body["posts"]] == kept["post_id"].head(3).tolist()
    # The series covers every kept post, oldest first, with interactions = likes + comments + shares.
    assert len(body["series"]) == kept["posted_at"].notna().sum()
    times = [p["posted_at"] for p in body["series"]]
    assert times == sorted(times)
    followers = body["creator"]["followers"]
    by_id = kept.set_index("post_id")
    for p in body["series"]:
        src = by_id.loc[p["post_id"]]
        parts = [src[c] for c in ("likes", "comments", "shares") if pd.notna(src[c])]
        assert p["interactions"] == sum(int(x) for x in parts)
        assert p["engagement"] == pytest.approx(p["interactions"] / followers)
    assert body["engagement_basis"] == "followers"


def test_creator_posts_parameter_is_bounded(client, snap):
    cid = str(snap.creators["creator_id"].iat[0])
    assert client.get(f"/creators/{cid}", params={"posts": 0}).json()["posts"] == []
    r = client.get(f"/creators/{cid}", params={"posts": 51})
    assert r.status_code == 422 and r.json()["message"].startswith("query.posts:")


def test_unknown_creator_and_brand_answer_404(client):
    r = client.get("/creators/no-such-creator")
    assert r.status_code == 404
    assert "no-such-creator" in r.json()["detail"] and "creator_id" in r.json()["detail"]
    r = client.get("/brands/no-such-brand/matches")
    assert r.status_code == 404
    assert "no-such-brand" in r.json()["detail"] and "matcher batch" in r.json()["detail"]


def test_brand_matches_are_the_stored_ones(client, store_dir, snap):
    brand = str(snap.brands["brand_id"].iat[0])
    stored = Store(store_dir).read_matches(snap.snapshot_id, brand_id=brand)
    r = client.get(f"/brands/{brand}/matches", params={"k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["brand"]["brand_id"] == brand
    assert [m["creator_id"] for m in body["matches"]] == stored["creator_id"].head(5).tolist()
    assert [m["rank"] for m in body["matches"]] == [1, 2, 3, 4, 5]
    assert body["matches"][0]["components"]["topic"] == pytest.approx(stored["topic"].iat[0])
    assert body["matches"][0]["score"] == pytest.approx(stored["score"].iat[0])
    assert body["matches"][0]["handle"]
    # The stored matches say whom each creator worked with, as a recommendation's matches do.
    from matcher.rerank import collaborations_of, worked_with

    everyone = client.get(f"/brands/{brand}/matches").json()["matches"]
    assert len(everyone) == min(50, len(stored))
    assert [m["worked_with"] for m in everyone] == [worked_with(collaborations_of(snap, snap.index.row_of(m["creator_id"]))) for m in everyone]
    assert any(m["worked_with"] for m in everyone)
    # Each stored match carries the creator's price range and trust confidence from the snapshot's table.
    signals = snap.signals.set_index("creator_id")
    for m in body["matches"]:
        row = signals.loc[m["creator_id"]]
        assert m["trust_confidence"]["level"] == row["trust_confidence"] and m["trust_confidence"]["posts"] == row["n_posts"]
        if m["price"] is not None:
            assert m["price"]["low"] == pytest.approx(row["price_low"], abs=0.01) and m["price"]["basis"] == row["price_basis"]
        else:
            assert pd.isna(row["price_low"])
    assert len(client.get(f"/brands/{brand}/matches").json()["matches"]) == min(50, len(stored))


def test_healthz_reports_the_served_snapshot(client, snap):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["snapshot_id"] == body["published_id"] == snap.snapshot_id
    assert body["creators"] == len(snap.creators)
    assert set(body["platforms"]) == set(snap.creators["platform"].dropna())


def test_a_store_without_a_published_snapshot_answers_503_and_recovers(store_dir, encoder, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    with TestClient(create_app(root, encoder=encoder)) as c:
        pointer = root / "CURRENT"
        good = pointer.read_text()
        pointer.unlink()
        r = c.get("/healthz")
        assert r.status_code == 503
        assert "matcher batch" in r.json()["detail"] and r.headers["retry-after"]
        assert c.post("/recommend", json={"brief": TRAIL}).status_code == 503
        pointer.write_text(good)
        assert c.get("/healthz").json()["status"] == "ok"
        assert c.post("/recommend", json={"brief": TRAIL}).status_code == 200


def test_a_published_snapshot_that_fails_verification_keeps_the_last_good_one_serving(store_dir, encoder, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    good = Store(root).current_id()
    with TestClient(create_app(root, encoder=encoder)) as c:
        (root / "CURRENT").write_text("no-such-snapshot\n")
        h = c.get("/healthz").json()
        assert h["status"] == "degraded" and h["snapshot_id"] == good and h["published_id"] == "no-such-snapshot"
        assert "matcher rollback" in h["detail"]
        r = c.post("/recommend", json={"brief": TRAIL, "k": 3})
        assert r.status_code == 200 and r.json()["snapshot_id"] == good


def test_docs_page_and_schema_are_served_without_a_cdn(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in r.text and "cdn." not in r.text
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/recommend", "/creators/{creator_id}", "/brands/{brand_id}/matches", "/healthz"} <= set(schema["paths"])
    req = schema["components"]["schemas"]["RecommendRequest"]["properties"]
    assert req["k"]["maximum"] == 100 and req["k"]["minimum"] == 1
    assert req["brief"]["maxLength"] == 2000


def test_page_is_self_contained(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    html = r.text
    assert "src=" not in html.replace('"src="', "")  # no external or separate scripts
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert ".innerHTML" not in html


# -- snapshot switch and concurrency ---------------------------------------------------------


def test_switches_to_a_new_snapshot_without_a_failed_request(store_dir, sample, encoder, tmp_path):
    from matcher.batch import run_batch

    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    old = Store(root).current_id()
    results: list[tuple[str, int, str | None]] = []
    stop = threading.Event()

    with TestClient(create_app(root, encoder=encoder)) as c:

        def hammer(i: int) -> None:
            while not stop.is_set():
                r = c.post("/recommend", json={"brief": BRIEFS[i % len(BRIEFS)], "k": 5})
                results.append(("recommend", r.status_code, r.json().get("snapshot_id")))
                h = c.get("/healthz")
                results.append(("healthz", h.status_code, h.json().get("snapshot_id")))

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        try:
            new = run_batch(sample.creators, sample.posts, sample.brands, root, encoder=encoder, progress=False).snapshot_id
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(sid == new for kind, _, sid in results[-6:] if kind == "recommend"):
                time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert new != old
        assert results, "no request ran"
        failed = [x for x in results if x[1] != 200]
        assert not failed, failed[:5]
        seen = [sid for _, _, sid in results]
        assert set(seen) <= {old, new}
        assert old in seen and new in seen
        # Once a request has seen the new snapshot, none sees the old one again.
        first_new = seen.index(new)
        assert old not in seen[first_new + 3 :]  # the other threads may still be finishing a request
        assert c.get("/healthz").json()["snapshot_id"] == new
        r = c.post("/recommend", json={"brief": TRAIL, "k": 3})
        assert r.status_code == 200 and r.json()["snapshot_id"] == new


def test_concurrent_requests_equal_sequential_ones(client):
    bodies = []
    for i, brief in enumerate(BRIEFS):
        bodies.append({"brief": brief, "k": 10})
        bodies.append({"brief": brief, "k": 7, "filters": {"platforms": ["tiktok", "youtube"], "min_followers": 1000 * i}})
        bodies.append({"brief": brief, "k": 5, "filters": {"min_trust": 0.6}, "weights": {"topic": 0.5, "trust": 0.5}, "diversity": 0.3})
    sequential = [_without_timing(client.post("/recommend", json=b).json()) for b in bodies]
    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(lambda b: client.post("/recommend", json=b), bodies * 2))
    assert all(r.status_code == 200 for r in concurrent)
    assert [_without_timing(r.json()) for r in concurrent] == sequential * 2


# -- property-based fuzz from the API's own schema -------------------------------------------


def test_fuzz_from_openapi_schema_finds_no_server_error(client, snap):
    """Hypothesis draws requests from the app's OpenAPI schema (valid and invalid); none may answer 5xx,
    and every answer must match the response schema the app publishes."""
    schemathesis = pytest.importorskip("schemathesis", reason="install the test dependencies: pip install -e '.[test]'")
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    known = {"creator_id": str(snap.creators["creator_id"].iat[0]), "brand_id": str(snap.brands["brand_id"].iat[0])}
    calls = itertools.count()
    statuses: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=40 if op.method.upper() == "POST" else 20, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case) -> None:
                # Every other call uses a real id, so the queries also reach the lookups behind it.
                if case.path_parameters and next(calls) % 2:
                    case.path_parameters.update({k: v for k, v in known.items() if k in case.path_parameters})
                response = case.call()
                statuses.setdefault(op.label, set()).add(response.status_code)
                assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:300])
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

            try:
                run()
            except Unsatisfiable:  # an operation without parameters has no invalid form
                assert mode is GenerationMode.NEGATIVE
    assert {"POST /recommend", "GET /creators/{creator_id}", "GET /brands/{brand_id}/matches", "GET /healthz"} <= set(statuses)
    assert {200, 422} <= statuses["POST /recommend"] and {200, 404} <= statuses["GET /creators/{creator_id}"]


def test_concurrent_requests_overlap_instead_of_taking_turns(store_dir, encoder, monkeypatch):
    """Two requests run side by side: one waiting inside the encoder does not hold back the other."""
    from matcher.config import Config, ServeConfig

    app = create_app(store_dir, encoder=encoder, config=Config(serve=ServeConfig(workers=2)))
    inside, release = threading.Event(), threading.Event()
    real = encoder.encode

    def slow_for_the_first(texts, **kw):
        if texts == ["Brief that waits"]:
            inside.set()
            assert release.wait(30)
        return real(texts, **kw)

    monkeypatch.setattr(encoder, "encode", slow_for_the_first)
    with TestClient(app) as c, ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(c.post, "/recommend", json={"brief": "Brief that waits", "k": 3})
        assert inside.wait(30)
        r = c.post("/recommend", json={"brief": TRAIL, "k": 3})  # answered while the first is still encoding
        assert r.status_code == 200 and not waiting.done()
        release.set()
        assert waiting.result(timeout=30).status_code == 200


def test_a_repeated_brief_is_served_from_the_cache_with_the_same_answer(store_dir, encoder):
    with TestClient(create_app(store_dir, encoder=encoder)) as c:
        first = c.post("/recommend", json={"brief": TRAIL, "k": 5}).json()
        # Normalised the same way (whitespace), so the same cached vector serves it.
        second = c.post("/recommend", json={"brief": "  " + TRAIL.replace(" ", "  ") + " ", "k": 5}).json()
        load = c.get("/healthz").json()["load"]
    assert _without_timing(first) == _without_timing(second)
    assert (load["brief_cache_hits"], load["brief_cache_misses"], load["brief_cache_size"]) == (1, 1, 1)


def test_an_overloaded_service_sheds_at_once_with_retry_after(store_dir, encoder):
    """When the queue ahead cannot finish before the deadline, a request answers 503 immediately."""
    import asyncio

    from matcher.config import Config, ServeConfig
    from matcher.serve import ServiceOverloaded

    # A deadline long enough that no held job times out while the queue fills.
    app = create_app(store_dir, encoder=encoder, timeout_s=5.0, config=Config(serve=ServeConfig(workers=1)))
    service = app.state.service
    gate = threading.Event()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        with TestClient(app) as c:
            assert c.post("/recommend", json={"brief": TRAIL, "k": 3}).status_code == 200  # gives the service a time per job
            # Jobs that hold the only worker until the gate opens, queued until the service refuses one:
            # at that point more than the 5 s deadline of work is queued.
            held = []
            for _ in range(10_000):
                f = asyncio.run_coroutine_threadsafe(service.run(lambda deadline: gate.wait(30)), loop)
                until = time.monotonic() + 5
                while not f.done() and service.load().queued < len(held) + 1:
                    assert time.monotonic() < until, "a job neither queued nor refused"
                    time.sleep(0.001)
                if f.done():
                    break
                held.append(f)
            assert isinstance(f.exception(), ServiceOverloaded) and held
            t = time.perf_counter()
            r = c.post("/recommend", json={"brief": TRAIL, "k": 3})
            assert time.perf_counter() - t < 0.5, "shed at once, not after the deadline"
            assert r.status_code == 503 and "overloaded" in r.json()["detail"]
            assert int(r.headers["retry-after"]) >= 1
            health = c.get("/healthz")  # answered on its own thread while the worker is held
            assert health.status_code == 200
            assert health.json()["load"]["shed"] == 2 and health.json()["load"]["queued"] == len(held)
            gate.set()
            concurrent.futures.wait(held, timeout=30)
            assert c.post("/recommend", json={"brief": TRAIL, "k": 3}).status_code == 200
    finally:
        gate.set()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=10)


def test_the_service_encodes_on_one_thread_per_request_unless_configured(store_dir):
    from matcher.config import Config, EmbedConfig

    assert create_app(store_dir).state.service.encoder.config.threads == 1
    assert create_app(store_dir, config=Config(embed=EmbedConfig(threads=2))).state.service.encoder.config.threads == 2


def test_serve_settings_are_validated_and_do_not_change_the_batch_fingerprint():
    from matcher.config import Config, ServeConfig
    from matcher.errors import ConfigError

    assert Config(serve=ServeConfig(workers=3, brief_cache=0)).fingerprint() == Config().fingerprint()
    assert Config.load(env={"MATCHER_SERVE__WORKERS": "3"}).serve.workers == 3
    with pytest.raises(ConfigError, match="serve.workers"):
        ServeConfig(workers=-1)
    with pytest.raises(ConfigError, match="serve.brief_cache"):
        Config.from_dict({"serve": {"brief_cache": -5}})


# -- niches -----------------------------------------------------------------------------------


def test_niches_listing_counts_the_served_creators(client, snap):
    r = client.get("/niches")
    assert r.status_code == 200
    body = r.json()
    tax = snap.niche_model.taxonomy_
    assert body["snapshot_id"] == snap.snapshot_id and body["version"] == tax.version
    assert [n["id"] for n in body["niches"]] == list(tax.ids)
    cells = snap.signals[[c for c in snap.signals if c.startswith("niche_") and not c.endswith("_confidence")]]
    want = cells.stack().value_counts().to_dict()
    assert {n["id"]: n["creators"] for n in body["niches"] if n["creators"]} == want
    assert all(n["description"] and n["iab_parent"] for n in body["niches"])


def test_recommend_filters_on_niches_and_returns_them(client, snap):
    r = client.post("/recommend", json={"brief": TRAIL, "k": 10, "filters": {"niches": ["Running"]}})
    assert r.status_code == 200
    body = r.json()
    assert body["brief_niches"][0]["niche_id"] == "running"
    assert len(body["matches"]) == 10
    row = {cid: i for i, cid in enumerate(snap.creators["creator_id"].astype(str))}
    for m in body["matches"]:
        assert "running" in {n["niche_id"] for n in m["niches"]}
        s = snap.signals.iloc[row[m["creator_id"]]]
        assert [n["niche_id"] for n in m["niches"]] == [s[f"niche_{j}"] for j in (1, 2, 3) if not pd.isna(s[f"niche_{j}"])]


@pytest.mark.parametrize(
    "niches,loc,words",
    [
        (["running", "jogging"], ["body", "filters", "niches", 1], ["jogging", "GET /niches"]),
        (["not an id!"], ["body", "filters", "niches", 0], ["pattern"]),
    ],
)
def test_unknown_niche_answers_422_naming_the_field(client, niches, loc, words):
    r = client.post("/recommend", json={"brief": TRAIL, "filters": {"niches": niches}})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"][0]["loc"] == loc
    assert body["message"].startswith("filters.niches.")
    assert all(w in body["message"] for w in words), body["message"]


def test_brand_matches_carry_the_briefs_niches(client, snap):
    brand = str(snap.brands["brand_id"].iat[0])
    got = client.get(f"/brands/{brand}/matches?k=1").json()["brand"]["niches"]
    stored = snap.brand_niches[snap.brand_niches["brand_id"] == brand].sort_values("rank")
    assert [n["niche_id"] for n in got] == stored["niche_id"].tolist() and got


# -- hardening: nesting, slow clients, headers --------------------------------------------------------


def test_deeply_nested_json_is_refused_for_its_depth(client):
    for raw in ("[" * 30_000, '{"brief": ' + "[" * 5000 + "]" * 5000 + "}"):
        r = client.post("/recommend", content=raw.encode(), headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        msg = r.json()["message"]
        assert "levels deep" in msg and "UTF-8" not in msg
    # A brief that merely contains brackets inside its string is not nested.
    r = client.post("/recommend", json={"brief": TRAIL + " [[[[" * 20, "k": 2})
    assert r.status_code == 200, r.text
    r = client.post("/recommend", content=b"\x96\x8b\xf6", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not UTF-8" in r.json()["message"]


@pytest.mark.parametrize("path", ["/", "/docs", "/healthz", "/openapi.json", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    r = client.get(path)
    h = r.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert "default-src 'none'" in h["content-security-policy"]
    if path == "/docs":
        assert "fastapi.tiangolo.com" not in r.text and "https://" not in r.text.split("<body>")[0]
        csp = h["content-security-policy"]
        assert "script-src 'self' 'sha256-" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]


def test_a_client_that_sends_part_of_a_body_or_its_headers_is_cut_off(store_dir, encoder):
    """A real uvicorn server on 127.0.0.1; raw sockets that stall mid-body and mid-headers."""
    import socket

    import uvicorn

    from matcher.serve import server_options

    app = create_app(store_dir, encoder=encoder, body_timeout_s=1.0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **server_options(header_timeout_s=1.0)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]

        def stall(payload: bytes) -> tuple[bytes, float]:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
                t0 = time.monotonic()
                s.sendall(payload)
                got = b""
                while True:
                    chunk = s.recv(4096)  # ends when the server closes the connection
                    if not chunk:
                        break
                    got += chunk
                return got, time.monotonic() - t0

        got, took = stall(b"POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"brief": ')
        assert got.startswith(b"HTTP/1.1 408"), got[:200]
        assert b"did not arrive within 1 s (10 bytes received)" in got
        assert took < 10

        got, took = stall(b"POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert got.startswith(b"HTTP/1.1 408"), got[:200]
        assert took < 10

        got, took = stall(b"")
        assert got.startswith(b"HTTP/1.1 408") and took < 10

        # An honest client on the same server is served.
        body = b'{"brief": "trail running shoe", "k": 2}'
        got, _ = stall(b"POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        assert got.startswith(b"HTTP/1.1 200"), got[:300]
    finally:
        server.should_exit = True
        thread.join(30)


# -- ids as the input files give them -----------------------------------------------------------


def test_creator_signals_reasons_is_an_object_as_in_recommend(client, snap):
    flagged = np.flatnonzero(snap.signals["flags"].fillna("").astype(str).str.len().to_numpy() > 0)
    assert len(flagged), "the sample has flagged creators"
    cid = str(snap.creators["creator_id"].iat[int(flagged[0])])
    reasons = client.get(f"/creators/{cid}", params={"posts": 0}).json()["signals"]["reasons"]
    assert isinstance(reasons, dict) and reasons, reasons
    flags = client.get(f"/creators/{cid}", params={"posts": 0}).json()["flags"]
    assert set(flags) <= set(reasons)
    plain = str(snap.creators["creator_id"].iat[int(np.flatnonzero(snap.signals["flags"].fillna("").astype(str).str.len().to_numpy() == 0)[0])])
    assert client.get(f"/creators/{plain}", params={"posts": 0}).json()["signals"]["reasons"] == {}
    match = client.post("/recommend", json={"brief": TRAIL, "k": 3}).json()["matches"][0]
    assert isinstance(match["signals"]["reasons"], dict)


def test_ids_with_a_slash_are_served(encoder, tmp_path):
    from matcher.batch import run_batch
    from matcher.sample import generate

    info = generate(tmp_path / "in", seed=5, n_creators=30, n_brands=3, posts_per_creator=(3, 5), bad_rows=False, comments=False, outcomes=False)
    creators = pd.read_csv(info.creators, dtype=str, keep_default_na=False)
    posts = pd.read_csv(info.posts, dtype=str, keep_default_na=False)
    brands = pd.read_csv(info.brands, dtype=str, keep_default_na=False)
    creators["creator_id"] = "youtube/" + creators["creator_id"]
    posts["creator_id"] = "youtube/" + posts["creator_id"]
    brands["brand_id"] = "acme/" + brands["brand_id"]
    brands["exclude_creators"] = ""
    for frame, path in ((creators, info.creators), (posts, info.posts), (brands, info.brands)):
        frame.to_csv(path, index=False)
    res = run_batch(info.creators, info.posts, info.brands, tmp_path / "store", encoder=encoder, progress=False)
    cid, bid = creators["creator_id"].iat[0], brands["brand_id"].iat[0]
    with TestClient(create_app(res.store, encoder=encoder)) as c:
        for url in (f"/creators/{cid}", "/creators/" + cid.replace("/", "%2F")):
            r = c.get(url, params={"posts": 1})
            assert r.status_code == 200, (url, r.text)
            assert r.json()["creator"]["creator_id"] == cid
        for url in (f"/brands/{bid}/matches", "/brands/" + bid.replace("/", "%2F") + "/matches"):
            r = c.get(url, params={"k": 3})
            assert r.status_code == 200, (url, r.text)
            body = r.json()
            assert body["brand"]["brand_id"] == bid
            assert body["matches"] and all(m["creator_id"].startswith("youtube/") for m in body["matches"])
        assert c.get("/creators/youtube/no-such-creator").status_code == 404
        assert c.get("/brands/acme/no-such-brand/matches").status_code == 404


# -- look-alikes --------------------------------------------------------------------------------


def test_recommend_like_and_unlike_mirror_the_engine(client, store_dir, encoder, sample):
    import pandas as pd

    from matcher import Filters
    from matcher.engine import Matcher

    labels = pd.read_csv(sample.labels, dtype=str, keep_default_na=False)
    running = sorted(labels.loc[labels["niche"] == "trail running", "creator_id"])[:3]
    travel = sorted(labels.loc[labels["niche"] == "budget travel", "creator_id"])[:2]
    m = Matcher(store_dir, encoder=encoder).load()
    for body, call in (
        ({"like": running, "unlike": travel, "k": 10}, dict(like=running, unlike=travel, k=10)),
        ({"brief": TRAIL, "like": travel, "k": 10, "filters": {"platforms": ["instagram"]}},
         dict(brief=TRAIL, like=travel, k=10, filters=Filters(platforms=("instagram",)))),
    ):
        r = client.post("/recommend", json=body)
        assert r.status_code == 200, r.text
        got = r.json()["matches"]
        want = m.recommend(**call)
        assert [x["creator_id"] for x in got] == [x.creator_id for x in want]
        assert [x["why"] for x in got] == [x.why for x in want]
        assert got and not {x["creator_id"] for x in got} & set(body.get("like", []) + body.get("unlike", []))
        assert all(x["platform"] == "instagram" for x in got) or "filters" not in body


def test_unknown_liked_creators_are_refused_in_the_engines_words(client, matcher_):
    from matcher.request import RequestError

    for field, body in (("like", {"like": ["nobody"]}), ("unlike", {"brief": TRAIL, "unlike": ["nobody"]})):
        r = client.post("/recommend", json=body)
        assert r.status_code == 422, r.text
        with pytest.raises(RequestError) as engine:
            matcher_.recommend(**body)
        assert r.json()["message"] == str(engine.value)
        assert r.json()["detail"][0]["loc"] == ["body", field]
    r = client.post("/recommend", json={"unlike": ["c000001"]})
    assert r.status_code == 422 and r.json()["message"].startswith("brief:") and "no brief and no creators to look like" in r.json()["message"]
    r = client.post("/recommend", json={"like": ["c000001"], "unlike": ["c000001"]})
    assert r.status_code == 422 and r.json()["message"].startswith("unlike:") and "in both like and unlike" in r.json()["message"]
    r = client.post("/recommend", json={"like": ["c1"] * 101})
    assert r.status_code == 422 and r.json()["message"].startswith("like:")


def test_shortlist_endpoint_equals_the_library(budgeted, encoder):
    from matcher.engine import Matcher

    m = Matcher(budgeted.store, encoder=encoder).load()
    with TestClient(create_app(budgeted.store, encoder=encoder)) as c:
        brand = m.brand("b001")
        want = m.shortlist(brand, budget=brand.budget, k=20)
        r = c.post("/shortlist", json={"brand_id": "b001", "k": 20})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["snapshot_id"] == m.snapshot_id and body["budget"] == 5000.0
        assert [p["match"]["creator_id"] for p in body["picks"]] == [p.match.creator_id for p in want.picks]
        assert [p["why"] for p in body["picks"]] == [p.why for p in want.picks]
        assert body["spend"] == pytest.approx(want.spend) and body["spend_low"] <= body["spend"] <= body["spend_high"]
        assert body["audience"]["distinct_share"] == want.audience.distinct_share and body["why"] == want.why
        brief = "Fragrance-free ceramide moisturizer for dry, sensitive, eczema-prone skin"
        got = c.post("/shortlist", json={"brief": brief, "budget": 800, "max_overlap": 0.1, "filters": {"platforms": ["instagram"]}}).json()
        from matcher.schema import Filters

        lib = m.shortlist(brief, budget=800, max_overlap=0.1, filters=Filters(platforms=("instagram",)))
        assert [p["match"]["creator_id"] for p in got["picks"]] == [p.match.creator_id for p in lib.picks]
        assert all(p["match"]["platform"] == "instagram" for p in got["picks"])
        for bad, field in (({"brief": "x y z", "budget": 0}, "budget"), ({"brand_id": "b002"}, "budget"), ({"brief": "shoes", "brand_id": "b001", "budget": 5}, "body"),
                           ({"brief": "shoes", "budget": 5, "max_overlap": 2}, "max_overlap"), ({"brand_id": "nope", "budget": 5}, "brand_id")):
            r = c.post("/shortlist", json=bad)
            assert r.status_code == 422, (bad, r.text)
            assert field in str(r.json()["detail"][0]["loc"]) or field == "body", (bad, r.json())

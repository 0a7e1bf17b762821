"""The web page in a real headless Chromium against the real app served by uvicorn on loopback."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
BRIEF = "Lightweight trail running shoe with a rock plate for technical singletrack and ultramarathons"
K = 8


def _need(condition: bool, what: str) -> None:
    if condition:
        return
    message = f"{what}; install it with 'apt-get install -y chromium chromium-driver' (.ci/run does this in CI)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(built, encoder, tmp_path_factory):
    """The app on 127.0.0.1 on a free port, served by uvicorn in a background thread."""
    import uvicorn

    from matcher.serve import create_app

    store = tmp_path_factory.mktemp("web") / "store"
    shutil.copytree(built.store, store)
    app = create_app(store, encoder=encoder)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield base
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing")
    _need(Path(CHROMEDRIVER).exists(), f"{CHROMEDRIVER} is missing")
    webdriver = pytest.importorskip("selenium.webdriver", reason="install the test dependencies: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1280,1600",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(predicate, timeout: float = 60, what: str = "the page") -> None:
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except StaleElementReferenceException:  # the page re-rendered between lookup and read
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _api(base: str, body: dict) -> dict:
    req = urllib.request.Request(base + "/recommend", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def test_page_shows_ranked_explained_matches(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    d.get(server + "/")
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, "#platform option")) > 1, what="the filters to load from /healthz")
    assert "snapshot" in d.find_element(By.ID, "snapshot").text
    # Before any search the legend names every score component, as the reranker has them.
    from matcher.rerank import COMPONENTS

    assert [s.text for s in d.find_elements(By.CSS_SELECTOR, "#legend span")] == list(COMPONENTS)

    brief = d.find_element(By.ID, "brief")
    brief.clear()
    brief.send_keys(BRIEF)
    k = d.find_element(By.ID, "k")
    k.clear()
    k.send_keys(str(K))
    d.find_element(By.ID, "go").click()
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, ".card")) == K, what="the match cards")
    # Every card's chart is drawn from GET /creators/{id}.
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, ".chart svg")) == K, what="the engagement charts")

    cards = d.find_elements(By.CSS_SELECTOR, ".card")
    expected = _api(server, {"brief": BRIEF, "k": K})["matches"]
    assert [c.get_attribute("data-creator-id") for c in cards] == [m["creator_id"] for m in expected]
    scores = [float(c.get_attribute("data-score")) for c in cards]
    assert scores == sorted(scores, reverse=True), "cards are ordered by score, best first"
    assert [c.find_element(By.CSS_SELECTOR, ".rank").text for c in cards] == [f"#{i}" for i in range(1, K + 1)]

    # The sample's creators have 4-10 posts: prices for all with a follower count, thin trust evidence for most.
    assert any(m["price"] for m in expected) and any(m["trust_confidence"]["level"] == "low" for m in expected)
    for card, m in zip(cards, expected):
        assert card.find_element(By.CSS_SELECTOR, ".handle").text == (m["handle"] or m["creator_id"])
        assert card.find_element(By.CSS_SELECTOR, ".score").text == f"{m['score']:.3f}"
        badge = card.find_element(By.CSS_SELECTOR, ".badge.trust")
        assert badge.text.startswith("trust ")
        assert card.find_element(By.CSS_SELECTOR, ".eng").text.startswith("engagement")
        # How sure the trust figure is, as the API says; low confidence never wears a green badge.
        conf = m["trust_confidence"]
        label = card.find_element(By.CSS_SELECTOR, ".confidence")
        assert label.text == f"{conf['level']} confidence" and label.get_attribute("data-level") == conf["level"]
        assert label.get_attribute("title").startswith(f"trust rests on {conf['posts']} posts, ")
        if conf["level"] == "low":
            assert "trust-unsure" in badge.get_attribute("class").split() and "trust-high" not in badge.get_attribute("class").split()
        # The price is a range with its basis, never one figure.
        price = card.find_element(By.CSS_SELECTOR, ".plan .price")
        if m["price"] is None:
            assert price.text == "price unknown"
        else:
            assert price.text == m["price"]["text"] and re.fullmatch(r"\$[\d,.]+–\$[\d,.]+ per post", price.text)
            assert float(price.get_attribute("data-low")) <= float(price.get_attribute("data-high"))
            assert card.find_element(By.CSS_SELECTOR, ".plan .basis").text == m["price"]["basis"]
        # Niche chips: the creator's niches from the API, best first, as text.
        chips = card.find_elements(By.CSS_SELECTOR, ".niches .niche")
        assert m["niches"], "every trail-running creator of the sample has a niche"
        assert [c.get_attribute("data-niche") for c in chips] == [n["niche_id"] for n in m["niches"]]
        assert chips[0].text == f"{m['niches'][0]['name']} {math.floor(100 * m['niches'][0]['confidence'] + 0.5)}%"
        # "worked with": the brands of the creator's sponsored posts, as the API says them; none, no line.
        worked = card.find_elements(By.CSS_SELECTOR, ".worked-with")
        if m["collaborations"]:
            assert len(worked) == 1 and worked[0].text == "worked with: " + m["worked_with"]
            assert worked[0].get_attribute("title").splitlines()[0].startswith(m["collaborations"][0]["brand"] + " ")
        else:
            assert worked == [] and m["worked_with"] == ""
        posts = card.find_elements(By.CSS_SELECTOR, ".posts li")
        assert 1 <= len(posts) <= 3
        assert posts[0].text.startswith(m["evidence"][0]["text"][:40])
        # The stacked bar: each segment's width is its contribution's share of the whole track.
        bar = card.find_element(By.CSS_SELECTOR, ".bar")
        track = bar.rect["width"]
        assert track > 100
        segs = bar.find_elements(By.CSS_SELECTOR, ".seg")
        widths = {s.get_attribute("data-part"): s.rect["width"] for s in segs}
        for part, value in m["contributions"].items():
            assert widths[part] == pytest.approx(abs(value) * track, abs=1.0), (part, value, widths)
        drawn = sum(w for p, w in widths.items() if p != "penalty") - widths.get("penalty", 0.0)
        assert drawn == pytest.approx(m["score"] * track, abs=1.5)
        # The biggest share of a brief-driven score is topical fit.
        assert max(widths, key=widths.get) == "topic"

    assert any(m["collaborations"] for m in expected), "some trail-running creators of the sample have sponsored posts"

    legend = d.find_element(By.ID, "legend").text
    for part in ("topic", "engagement", "trust"):
        assert part in legend

    # Creator text is inserted as text: nothing in the results is markup built from data.
    assert not d.find_elements(By.CSS_SELECTOR, "#results img, #results script, #results iframe")

    # Download CSV: the shown matches, in order, as a client-side file.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    d.find_element(By.ID, "csv").click()
    _wait(lambda: (downloads / "matches.csv").exists() and (downloads / "matches.csv").stat().st_size > 0, what="matches.csv")
    time.sleep(0.2)
    with open(downloads / "matches.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["creator_id"] for r in rows] == [m["creator_id"] for m in expected]
    assert [float(r["score"]) for r in rows] == pytest.approx([m["score"] for m in expected])
    assert float(rows[0]["topic_contribution"]) == pytest.approx(expected[0]["contributions"]["topic"])
    assert [r["worked_with"] for r in rows] == [m["worked_with"] for m in expected]
    assert [r["trust_confidence"] for r in rows] == [m["trust_confidence"]["level"] for m in expected]
    assert [r["price_basis"] for r in rows] == [m["price"]["basis"] if m["price"] else "" for m in expected]

    ARTIFACTS.mkdir(exist_ok=True)
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280, min(int(height) + 40, 4000))
    d.save_screenshot(str(ARTIFACTS / "web-matches.png"))

    # Filters narrow the cards; a bad filter shows the service's message naming the field.
    Select(d.find_element(By.ID, "platform")).select_by_value("instagram")
    d.find_element(By.ID, "go").click()
    pills = "return Array.from(document.querySelectorAll('.card .pill'), e => e.textContent)"
    _wait(lambda: (shown := d.execute_script(pills)) and set(shown) == {"instagram"}, what="instagram-only cards")
    assert len(d.execute_script(pills)) == K
    lo, hi = d.find_element(By.ID, "min-followers"), d.find_element(By.ID, "max-followers")
    lo.send_keys("50000")
    hi.send_keys("1000")
    d.find_element(By.ID, "go").click()
    status = d.find_element(By.ID, "status")
    _wait(lambda: "max_followers" in status.text, what="the error message")
    assert "error" in status.get_attribute("class")

    severe = [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and "422" not in e.get("message", "")]
    assert not severe, severe  # e.g. a Content-Security-Policy violation would show here


def test_docs_render_the_openapi_document(server, browser):
    """Swagger UI at /docs reads the service's OpenAPI 3.1 document and lists its endpoints, within its CSP."""
    from selenium.webdriver.common.by import By

    d = browser
    d.get_log("browser")  # drop what earlier pages logged
    d.get(server + "/docs")
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"), what="the endpoints in Swagger UI")
    paths = {e.get_attribute("data-path") or e.text for e in d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    with urllib.request.urlopen(server + "/openapi.json", timeout=30) as r:
        schema = json.load(r)
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) <= paths, (paths, set(schema["paths"]))
    assert "/recommend" in paths
    body = d.find_element(By.TAG_NAME, "body").text
    assert "Unable to render" not in body
    assert "/recommend" in body
    assert d.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("matcher")
    severe = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe  # a Content-Security-Policy violation or a remote fetch would show here


def test_page_draws_emoji_in_colour(server, browser):
    """Creators' emoji are drawn with a colour font (the Makefile installs one with Chromium), not as empty boxes."""
    _need(Path(EMOJI_FONT).exists(), f"{EMOJI_FONT} is missing (apt-get install -y fonts-noto-color-emoji)")
    d = browser
    d.get(server + "/")
    # Draw the page's own font stack onto a canvas: a colour glyph has saturated pixels, a missing-glyph box has none.
    coloured = d.execute_script(
        """
        const font = getComputedStyle(document.documentElement).fontFamily;
        const c = document.createElement("canvas"); c.width = 64; c.height = 64;
        const g = c.getContext("2d");
        g.fillStyle = "#000"; g.font = "40px " + font; g.textBaseline = "top";
        g.fillText(arguments[0], 4, 4);
        const px = g.getImageData(0, 0, 64, 64).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4) {
          if (px[i + 3] > 0 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 60) n++;
        }
        return n;
        """,
        "\U0001F3C3\U0001F6B4",
    )
    assert coloured > 50, coloured


def test_more_like_this_reruns_the_search_with_that_creator(server, browser):
    from selenium.webdriver.common.by import By

    d = browser
    d.get(server + "/")
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, "#platform option")) > 1, what="the filters to load from /healthz")
    d.find_element(By.ID, "brief").send_keys(BRIEF)
    k = d.find_element(By.ID, "k")
    k.clear()
    k.send_keys(str(K))
    d.find_element(By.ID, "go").click()
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, ".card")) == K, what="the match cards")
    ids = "return Array.from(document.querySelectorAll('.card'), e => e.dataset.creatorId)"
    first = d.execute_script(ids)[0]

    # With the brief: the brief and the creator together, the creator itself left out.
    d.find_element(By.CSS_SELECTOR, ".card .more-like").click()
    expected = [m["creator_id"] for m in _api(server, {"brief": BRIEF, "like": [first], "k": K})["matches"]]
    _wait(lambda: d.execute_script(ids) == expected, what="the look-alike cards")
    assert first not in expected
    assert d.find_element(By.ID, "liking").is_displayed() and "more like" in d.find_element(By.ID, "liking-text").text
    assert all(w.text.startswith(f"looks like {first}; ") for w in d.find_elements(By.CSS_SELECTOR, ".card .why"))

    # Without a brief: look-alikes alone; the × ends them, and the brief is required again.
    d.find_element(By.ID, "brief").clear()
    second = d.execute_script(ids)[0]
    d.find_elements(By.CSS_SELECTOR, ".card .more-like")[0].click()
    alone = [m["creator_id"] for m in _api(server, {"like": [second], "k": K})["matches"]]
    _wait(lambda: d.execute_script(ids) == alone, what="the like-only cards")
    d.find_element(By.ID, "unlike-all").click()
    assert not d.find_element(By.ID, "liking").is_displayed()
    assert d.execute_script("return document.getElementById('brief').required")
    severe = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe


def test_mentions_field_keeps_the_creators_who_name_a_brand(server, browser):
    from selenium.webdriver.common.by import By

    d = browser
    d.get(server + "/")
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, "#platform option")) > 1, what="the filters to load from /healthz")
    d.find_element(By.ID, "brief").send_keys(BRIEF)
    k = d.find_element(By.ID, "k")
    k.clear()
    k.send_keys(str(K))
    d.find_element(By.ID, "mentions").send_keys("Halcyon Skin, @scree_running")
    d.find_element(By.ID, "go").click()
    expected = [m["creator_id"] for m in _api(server, {"brief": BRIEF, "k": K, "filters": {"mentions": ["Halcyon Skin", "@scree_running"]}})["matches"]]
    everyone = [m["creator_id"] for m in _api(server, {"brief": BRIEF, "k": K})["matches"]]
    assert expected and expected != everyone
    ids = "return Array.from(document.querySelectorAll('.card'), e => e.dataset.creatorId)"
    _wait(lambda: d.execute_script(ids) == expected, what="the cards of creators naming the brands")


def test_shortlist_view_shows_the_picks_within_the_budget(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    d = browser
    d.get(server + "/")
    _wait(lambda: len(d.find_elements(By.CSS_SELECTOR, "#platform option")) > 1, what="the filters to load from /healthz")
    d.find_element(By.ID, "brief").send_keys(BRIEF)
    d.find_element(By.ID, "budget").send_keys("2000")
    d.find_element(By.ID, "max-overlap").send_keys("0.2")
    d.find_element(By.ID, "plan").click()
    _wait(lambda: d.find_element(By.ID, "shortlist").is_displayed() and d.find_elements(By.CSS_SELECTOR, "#shortlist tr.pick"), what="the shortlist")
    req = urllib.request.Request(
        server + "/shortlist", data=json.dumps({"brief": BRIEF, "budget": 2000, "max_overlap": 0.2}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        want = json.load(r)
    rows = d.find_elements(By.CSS_SELECTOR, "#shortlist tr.pick")
    assert [r.get_attribute("data-creator-id") for r in rows] == [p["match"]["creator_id"] for p in want["picks"]]
    assert sum(float(r.get_attribute("data-cost")) for r in rows) == pytest.approx(want["spend"]) and want["spend"] <= 2000
    assert d.find_element(By.ID, "shortlist-summary").text == want["why"]
    assert d.find_element(By.ID, "shortlist-audience").text.startswith("Audience: ")
    assert [r.find_elements(By.CSS_SELECTOR, "td")[-1].text for r in rows] == [p["why"] for p in want["picks"]]
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / "shortlist.png"))
    # A bad budget is the service's message, not a broken page.
    budget = d.find_element(By.ID, "budget")
    budget.clear()
    budget.send_keys("-5")
    d.find_element(By.ID, "plan").click()
    _wait(lambda: "budget" in d.find_element(By.ID, "status").text and "error" in d.find_element(By.ID, "status").get_attribute("class"), what="the budget error")
    severe = [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and "/shortlist" not in e.get("message", "")]
    assert not severe, severe

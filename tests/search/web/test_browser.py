"""The page in a real headless Chromium (Debian's, installed by scripts/ensure-browser)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from web_fixtures import live_server, web_index

from indexer.settings import PROJECT_ROOT, Settings
from search.web.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, embedder):
    from search.engine import Engine

    index_dir = web_index(tmp_path_factory.getbasetemp(), embedder)
    engine = Engine.open(Settings(index_dir=index_dir), embedder=embedder)
    with live_server(create_app(Settings(index_dir=index_dir), engine)) as url:
        yield url
    engine.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure-browser` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page that records dialogs (alert() and friends) and console errors."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield Watched(context.new_page())
    context.close()


def expect():
    from playwright.sync_api import expect

    return expect


def wait_for_search_url(page, **params: str) -> None:
    """Wait until the address is /search with exactly these parameters (any encoding)."""

    def matches(url: str) -> bool:
        parts = urlsplit(url)
        found = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return parts.path == "/search" and found == params

    page.wait_for_url(matches)


def mark_document(page) -> None:
    """A flag that survives only as long as the page is not reloaded or left."""
    page.evaluate("window.__sameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_typing_shows_results_without_a_page_load(watched, base_url):
    page = watched.page
    page.goto(base_url + "/")
    mark_document(page)
    page.locator("#q").press_sequentially("farm bill crop insurance", delay=30)
    first = page.locator(".result-title").first
    expect()(first).to_have_text("Senate passes farm bill expanding crop insurance")
    assert same_document(page)
    # The address follows the query, so it can be shared and reloaded.
    wait_for_search_url(page, q="farm bill crop insurance")
    expect()(page.locator("#announce")).to_have_text(
        re.compile(r"^\d+ results? for farm bill crop insurance$"))
    expect()(page).to_have_title("farm bill crop insurance · PressLens")
    expect()(page.locator(".passage mark").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)
    assert watched.errors == []


def test_other_outlets_of_a_story_are_one_click_away(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=farm+bill+crop+insurance")
    first = page.locator(".result").first
    summary = first.locator("details.coverage > summary")
    expect()(summary).to_contain_text("Carried by 2 outlets")
    others = first.locator(".coverage-list li")
    expect()(others.first).to_be_hidden()
    summary.click()
    expect()(others).to_have_count(1)
    expect()(others.first).to_contain_text("same text")
    expect()(others.first).to_contain_text("% of text shared")
    expect()(others.first.locator(".outlet")).to_have_text(re.compile("Daily Herald|Wire Service"))
    # The other outlet's passage on the question, on demand.
    passage = others.first.locator(".item-passage")
    expect()(passage.locator(".coverage-passage")).to_be_hidden()
    passage.locator("summary").click()
    expect()(passage.locator(".coverage-passage")).to_contain_text(
        re.compile("farm|crop", re.IGNORECASE))
    assert watched.errors == []


def test_a_query_nothing_speaks_to_says_so(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=qwxzv+plorbtang")
    expect()(page.locator("#weak-state")).to_contain_text("No passage speaks to")
    weak = page.locator(".weak-matches")
    expect()(weak.locator(".result").first).to_be_hidden()
    weak.locator("> summary").click()
    expect()(weak.locator(".result").first).to_be_visible()
    expect()(weak.locator(".similarity").first).to_contain_text("similarity 0.")
    assert watched.errors == []


def contrast(page, locator) -> float:
    """The WCAG contrast ratio of an element's text on the page's ground."""
    return locator.evaluate("""(element) => {
        const rgb = (css) => css.match(/[\\d.]+/g).slice(0, 3).map(Number);
        const lum = (css) => {
            const [r, g, b] = rgb(css).map((v) => {
                v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const fg = lum(getComputedStyle(element).color);
        const bg = lum(getComputedStyle(document.body).backgroundColor);
        return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    }""")


def test_weaker_matches_sit_under_their_heading_dimmed_and_readable(watched, base_url):
    page = watched.page
    query = "river bridge closed after inspectors find cracked girders"
    answer = page.request.get(base_url + "/api/search?q=" + query.replace(" ", "+")).json()
    weak = [r["article"]["title"] for r in answer["results"] if r["weak"]]
    strong = len(answer["results"]) - len(weak)
    assert weak and strong
    page.goto(base_url + "/search?q=" + query.replace(" ", "+"))
    expect()(page.locator("#results-summary")).to_contain_text(
        re.compile(rf"^{strong} results? for"))
    heading = page.locator("h2.weaker-heading")
    expect()(heading).to_be_visible()
    expect()(heading).to_contain_text("Weaker matches")
    dimmed = page.locator(".weaker-matches .result.weaker")
    expect()(dimmed).to_have_count(len(weak))
    # Every weak result lies below the heading on the page, every other one above it.
    top = heading.bounding_box()["y"]
    assert all(box["y"] > top for box in (dimmed.nth(i).bounding_box()
                                          for i in range(len(weak))))
    above = page.locator(".result:not(.weaker)")
    assert all(above.nth(i).bounding_box()["y"] < top for i in range(above.count()))
    expect()(dimmed.first.locator(".result-title")).to_have_text(weak[0])
    # Dimmed by colour: the title and the passage keep AA contrast (4.5:1), in both schemes.
    title = dimmed.first.locator(".result-title a")
    passage = dimmed.first.locator("blockquote.passage").first
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for element in (title, passage, heading):
            assert contrast(page, element) >= 4.5, scheme
    assert watched.errors == []


def test_a_coverage_item_loads_its_passage_when_opened(watched, base_url):
    page = watched.page
    response = page.request.get(base_url + "/api/search?q=farm+bill+crop+insurance&k=1")
    article = response.json()["results"][0]["coverage"][0]["article"]["id"]
    page.goto(base_url + f"/articles/{article}?q=farm+bill+crop+insurance")
    fragment = page.request.get(
        base_url + f"/articles/{article}/passage?q=crop+insurance+subsidies")
    assert fragment.status == 200 and "coverage-passage" in fragment.text()
    assert "Similarity 0." in fragment.text()
    missing = page.request.get(base_url + "/articles/nope/passage?q=crop")
    assert missing.status == 404


def test_enter_searches_at_once(watched, base_url):
    page = watched.page
    page.goto(base_url + "/")
    mark_document(page)
    page.locator("#q").fill("steel tariffs")
    page.locator("#q").press("Enter")
    expect()(page.locator(".result-title").first).to_have_text(
        "Administration raises tariffs on imported steel")
    assert same_document(page)


def test_open_an_article_at_its_headline_and_jump_to_its_passage(watched, base_url):
    page = watched.page
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(base_url + "/search?q=protected+bike+lanes")
    page.locator(".result-title a").first.click()
    page.wait_for_url(re.compile(r"/articles/transit\?chunk=\d+&q=protected\+bike\+lanes$"))
    # It opens at the top: headline, outlet, date and lean in view.
    assert page.evaluate("window.scrollY") == 0
    expect()(page.locator("h1")).to_have_text("City council approves protected bike lanes downtown")
    header = page.locator("article.article > header")
    for part in ("h1", ".outlet", "time", ".lean-tag"):
        expect()(header.locator(part)).to_be_in_viewport()
    expect()(header.locator(".lean-tag")).to_have_text("lean unknown")
    expect()(page.locator(".crumbs a")).to_have_attribute("href", "/search?q=protected+bike+lanes")
    passage = page.locator("#passage")
    jump = page.get_by_role("link", name="Jump to the passage")
    expect()(jump).to_be_in_viewport()
    jump.click()
    expect()(passage).to_be_in_viewport()
    assert page.url.endswith("#passage")
    # One band of colour, not an outline around each of its lines.
    style = passage.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, "
                             "s.boxShadow, s.backgroundColor]; }")
    assert style[0] == "none" and style[1] == "none" and style[2] != "rgba(0, 0, 0, 0)"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # the jump link again, from the keyboard
    assert passage.evaluate("e => getComputedStyle(e).outlineStyle") == "none"
    assert watched.errors == []


def test_the_story_view_shows_leans_a_blindspot_and_who_was_first(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=river+bridge+closed+cracked+girders")
    first = page.locator(".result").first
    expect()(first.locator(".result-title")).to_contain_text("bridge")
    split = first.locator(".lean-split")
    expect()(split).to_have_text(re.compile(r"Left 0\s+Center 0\s+Right 3"))
    expect()(split.locator(".lean-count[data-lean=right]")).to_have_text("Right 3")
    # Colour is never the only cue: the words are there for the eye and the screen reader.
    assert first.locator(".lean-bar").get_attribute("aria-hidden") == "true"
    expect()(split.locator(".visually-hidden")).to_have_text("Articles of this story by lean:")
    assert first.locator(".lean-bar rect").count() == 1
    expect()(first.locator(".blindspot")).to_have_text(
        re.compile(r"^\s*Blindspot:\s+only the right covered this\s*$"))
    expect()(first.locator(".blindspot")).to_be_visible()
    expect()(first.locator(".first-by")).to_have_text(
        re.compile(r"First reported\s+by Frontier Sentinel, 1 day before Heartland Courier"))

    page.goto(base_url + "/search?q=lead+service+pipes+replaced")
    first = page.locator(".result").first
    expect()(first.locator(".lean-split")).to_have_text(
        re.compile(r"Left 1\s+Center 1\s+Right 1\s+Unknown 1"))
    assert first.locator(".lean-bar rect").count() == 4
    expect()(first.locator(".blindspot")).to_have_count(0)
    first.locator("details.coverage > summary").click()
    items = first.locator(".coverage-list > li")
    expect()(items.first).to_be_visible()
    marked = first.locator(".coverage-list > li:has(.first-mark)")
    shown = first.locator(".result-title a").get_attribute("href")
    if "/articles/water-midland" in shown:
        expect()(marked).to_have_count(0)
        expect()(first.locator(".meta .first-mark")).to_be_visible()
    else:
        expect()(marked).to_have_count(1)
        expect()(marked).to_contain_text("Midland Wire")
        expect()(marked.locator(".first")).to_have_text(
            re.compile(r"First reported\s+2 days before Coastal Tribune"))
    unknown = first.locator(".lean-tag.lean-unknown")
    expect()(unknown.first).to_have_text("lean unknown")
    # Both stories, one with its coverage open: the picture in the README.
    page.goto(base_url + "/search?q=river+bridge+cracked+girders+and+lead+service+pipes&k=2")
    expect()(page.locator(".result")).to_have_count(2)
    page.locator(".result:has(.lean-count[data-lean=unknown]) details.coverage > summary").click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#results").screenshot(path=str(ARTIFACTS / "story-view.png"))
    assert watched.errors == []


def test_a_shared_url_reloads_to_the_same_results(watched, browser, base_url):
    page = watched.page
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("voter identification", delay=20)
    wait_for_search_url(page, q="voter identification")
    expect()(page.locator(".result-title").first).to_be_visible()
    shown = page.locator(".result-title").all_inner_texts()

    page.reload()
    expect()(page.locator("#q")).to_have_value("voter identification")
    assert page.locator(".result-title").all_inner_texts() == shown

    other = browser.new_page()
    other.goto(page.url)
    assert other.locator(".result-title").all_inner_texts() == shown
    other.close()


def test_back_returns_to_the_previous_search(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=bike+lanes")
    page.locator("#q").fill("steel tariffs")
    page.locator("#q").press("Enter")
    wait_for_search_url(page, q="steel tariffs")
    page.go_back()
    wait_for_search_url(page, q="bike lanes")
    expect()(page.locator(".result-title").first).to_have_text(
        "City council approves protected bike lanes downtown")


def test_outlet_filter_refreshes_results(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=new+city+rules+on+bike+lanes+and+power+plants")
    mark_document(page)
    page.locator("#source").select_option("Metro Times")
    wait_for_search_url(page, q="new city rules on bike lanes and power plants",
                        source="Metro Times")
    outlets = page.locator(".result .outlet")
    expect()(outlets.first).to_be_visible()
    assert set(outlets.all_inner_texts()) == {"Metro Times"}
    assert same_document(page)


def test_error_state_says_what_went_wrong(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=farm")
    page.locator("#since").fill("2025-01-01")
    page.locator("#until").fill("2024-01-01")
    expect()(page.locator("#results [role=alert]")).to_contain_text("until (2024-01-01) is before")


def test_article_markup_runs_nothing(watched, base_url):
    page = watched.page
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("library budget vote", delay=20)
    title = page.locator(".result-title a", has_text="Library budget vote")
    expect()(title).to_contain_text("<script>window.__pwned=1;alert(1)</script>")
    title.click()
    expect()(page.locator("h1")).to_contain_text('<img src=x onerror="window.__pwned=1')
    expect()(page.locator(".article-text")).to_contain_text(
        "<a href=\"javascript:window.__pwned=1;alert('link')\">Read the budget</a>")
    page.locator("select, .outlet").first.hover()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main img, main a[href^='javascript']").count() == 0
    assert watched.dialogs == []


def test_the_page_works_with_javascript_off(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/")
    page.locator("#q").fill("steel tariffs")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/search?q=steel+tariffs**")
    assert page.locator(".result-title").first.inner_text() == (
        "Administration raises tariffs on imported steel")
    context.close()


def test_on_a_phone_the_filters_fold_away_and_the_first_result_is_on_the_first_screen(
        browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.goto(base_url + "/search?q=river+bridge+closed+cracked+girders")
    first = page.locator(".result").first
    for part in (".result-title", "p.meta", ".lean-split", ".blindspot"):
        expect()(first.locator(part)).to_be_in_viewport(ratio=1)
    expect()(first.locator("blockquote.passage").first).to_be_in_viewport()
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The filters are one tap away.
    expect()(page.locator("#source")).to_be_hidden()
    toggle = page.locator(".filters-toggle")
    expect()(toggle).to_be_visible()
    toggle.tap()
    expect()(page.locator("#source")).to_be_visible()
    page.locator("#source").select_option("Frontier Sentinel")
    wait_for_search_url(page, q="river bridge closed cracked girders", source="Frontier Sentinel")
    expect()(toggle).to_have_text(re.compile(r"Filters\s+· 1 set"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "story-view-phone.png"))
    context.close()


def test_on_a_wide_screen_the_filters_are_always_shown(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=farm")
    expect()(page.locator("#source")).to_be_visible()
    expect()(page.locator("#until")).to_be_visible()
    expect()(page.locator(".filters-toggle")).to_be_hidden()


def test_usable_on_a_phone_sized_screen(browser, base_url):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.goto(base_url + "/search?q=library+budget+vote")
    expect()(page.locator(".result-title").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results-phone.png"))
    context.close()


def test_slash_jumps_to_the_search_box(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=farm")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    expect()(page.locator("#q")).not_to_be_focused()
    page.keyboard.press("/")
    expect()(page.locator("#q")).to_be_focused()


def test_typing_replaces_the_address_and_back_leaves_the_half_typed_words(watched, base_url):
    page = watched.page
    page.goto(base_url + "/search?q=bike+lanes")
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("steel", delay=20)
    wait_for_search_url(page, q="steel")
    page.wait_for_timeout(400)  # a pause while typing: one search, not a history entry
    box.press_sequentially(" tariffs", delay=20)
    wait_for_search_url(page, q="steel tariffs")
    expect()(page.locator(".result-title").first).to_have_text(
        "Administration raises tariffs on imported steel")
    page.go_back()
    wait_for_search_url(page, q="bike lanes")
    expect()(page.locator(".result-title").first).to_have_text(
        "City council approves protected bike lanes downtown")


PRIVATE_TOKEN = "browser-Tk_7Qm2Lx9Vr4Nc8Hs1"


@pytest.fixture(scope="module")
def private_url(tmp_path_factory, embedder):
    """The same collection served with a token (`presslens serve --token`)."""
    from search.engine import Engine

    index_dir = web_index(tmp_path_factory.getbasetemp(), embedder)
    engine = Engine.open(Settings(index_dir=index_dir), embedder=embedder)
    app = create_app(Settings(index_dir=index_dir), engine, token=PRIVATE_TOKEN)
    with live_server(app) as url:
        yield url
    engine.close()


def test_a_private_collection_signs_in_with_its_token_then_searches(watched, private_url):
    page = watched.page
    page.goto(private_url + "/search?q=bike+lanes")
    # Sent to sign in first; nothing of the collection shows.
    expect()(page).to_have_title("Sign in · PressLens")
    assert urlsplit(page.url).path == "/sign-in"
    assert page.locator(".result-title").count() == 0
    page.fill("#token", PRIVATE_TOKEN[:-1])
    page.click("button[type=submit]")
    expect()(page.locator(".error")).to_contain_text("That token is not right")
    page.fill("#token", PRIVATE_TOKEN)
    page.click("button[type=submit]")
    # Back to the search that was asked for, and the page's own scripts work.
    wait_for_search_url(page, q="bike lanes")
    expect()(page.locator(".result-title").first).to_have_text(
        "City council approves protected bike lanes downtown")
    mark_document(page)
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("steel tariffs", delay=20)
    expect()(page.locator(".result-title").first).to_have_text(
        "Administration raises tariffs on imported steel")
    assert same_document(page)
    # The session is in an HttpOnly cookie: no script on the page can read it.
    assert "presslens_session" not in page.evaluate("document.cookie")
    cookies = page.context.cookies()
    assert [c["sameSite"] for c in cookies if c["name"] == "presslens_session"] == ["Strict"]
    # A failed sign-in's 401 is the only console error the browser may report.
    assert all("401" in error for error in watched.errors), watched.errors


def test_a_private_page_whose_session_ends_goes_back_to_sign_in(watched, private_url):
    page = watched.page
    page.goto(private_url + "/search?q=bike+lanes")
    page.fill("#token", PRIVATE_TOKEN)
    page.click("button[type=submit]")
    expect()(page.locator(".result-title").first).to_be_visible()
    page.context.clear_cookies()
    page.locator("#q").press_sequentially(" downtown", delay=20)
    # The htmx request is refused and the whole page goes to sign in, to come back to the
    # search it showed.
    page.wait_for_url(lambda url: urlsplit(url).path == "/sign-in")
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/search?q=bike+lanes"]
    expect()(page.locator("#token")).to_be_visible()

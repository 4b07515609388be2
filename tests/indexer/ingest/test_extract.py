"""Clean text: page furniture, feed tails, inline headline lists and collection boilerplate go."""

from __future__ import annotations

from collections import Counter

from conftest import SEEDS

from indexer.ingest.extract import (
    article_id,
    clean_text,
    count_lines,
    extract,
    normalise_date,
    remove_boilerplate,
)
from indexer.ingest.sources import read_paths
from indexer.models import RawArticle, Skipped


def seed_articles():
    return {a.title[:20]: extract(a)[0] for a in read_paths([SEEDS])}


def test_seed_tails_are_removed_and_bodies_kept():
    articles = list(seed_articles().values())
    assert len(articles) == 2
    for article in articles:
        for tail in ("Để lại một bình luận", "Email của bạn", "End of content",
                     "No more pages to load", "ENOUGH IS ENOUGH", "Sandringham"):
            assert tail not in article.text
    texts = " ".join(a.text for a in articles)
    # The last real paragraphs survive.
    assert texts.count("beyond Washington’s grasp.") == 1
    assert "greater independence and collective strength." in texts
    assert "Carney" in texts and "Sheinbaum" in texts


def test_the_hill_inline_headline_lists_are_removed():
    text = ("Rep. Nancy Pelosi Nancy PelosiOn The Money: Trump signs deal | Senate to vote "
            "Thursday House delivers articles MORE (D-Calif.) reclaimed the gavel. "
            "Sen. Ted Cruz Rafael (Ted) Edward CruzCruz, Graham send well wishes MORE "
            "(R-Texas) spoke. Speaker Paul Ryan Paul Davis Ryan Retirees should say 'no' to "
            "a plan MORE (R-Wis.) had urged Trump.")
    assert clean_text(text) == ("Rep. Nancy Pelosi (D-Calif.) reclaimed the gavel. "
                                "Sen. Ted Cruz (R-Texas) spoke. Speaker Paul Ryan (R-Wis.) had "
                                "urged Trump.")


def test_furniture_lines_go_and_typography_stays():
    text = ("The bill passed.\n\nADVERTISEMENT\n\nSEE ALSO: Another story\n\n"
            "ADVERTISEMENT Thanks for watching! Visit Website\n\n"
            "Advertisement Continue reading the main story\n\n"
            "ADVERTISEMENT Critics called it “reckless”"
            " ADVERTISEMENT — loudly.\n\n"
            "Copyright © 2019 The Washington Times, LLC. Click here for reprint permission.")
    assert clean_text(text) == "The bill passed.\n\nCritics called it “reckless” — loudly."


def test_mojibake_is_repaired():
    assert clean_text("Trumpâ€™s wall") == "Trump’s wall"


def test_related_list_at_the_end_is_cut_but_not_in_the_body():
    body = [f"Paragraph {i} of the story goes on for a while." for i in range(6)]
    text = "\n\n".join(["Related stories", *body, "Related stories", "Other headline one",
                        "Other headline two"])
    cleaned = clean_text(text)
    assert cleaned.startswith("Related stories\n\nParagraph 0")
    assert "Other headline" not in cleaned


def test_repeated_lines_are_boilerplate_unless_they_are_the_article():
    notice = "Sign up for Daily Newsletters Manage Newsletters"
    words = ["budget", "border", "court", "vote", "tariff", "senate"]
    articles = [f"The {w} story opens.\n\nThe {w} story goes on.\n\n{notice}" for w in words]
    wire = "A wire story line one.\n\nA wire story line two.\n\nA wire story line three."
    texts = articles + [wire] * 6
    counts: Counter = count_lines(texts)
    assert remove_boilerplate(articles[0], counts, 5) == (
        "The budget story opens.\n\nThe budget story goes on.")
    # Six outlets carrying one wire story keep all of it.
    assert remove_boilerplate(wire, counts, 5) == wire


def test_html_page_main_text_and_metadata():
    html = """<html lang="en"><head><title>Senate passes bill - Daily</title>
    <meta property="og:site_name" content="The Daily">
    <meta property="article:published_time" content="2020-03-04T10:00:00Z"></head>
    <body><nav>Home | World | Politics</nav><article><h1>Senate passes bill</h1>
    <p>The Senate passed the infrastructure bill late on Tuesday after a long debate.</p>
    <p>Supporters said the money would repair roads and bridges across the country.</p>
    </article><div id="comments"><h3>Leave a comment</h3><form><textarea></textarea>
    </form></div></body></html>"""
    article, _ = extract(RawArticle(origin="page.html", title="", html=html))
    assert article.title == "Senate passes bill"
    assert article.source == "The Daily" and article.published == "2020-03-04"
    assert article.language == "en"
    assert article.text.startswith("The Senate passed")
    assert "Home | World" not in article.text and "Leave a comment" not in article.text


def test_a_page_without_a_date_stays_undated_whatever_years_its_text_names():
    body = "<p>Voters still argue about the 2016 election and what came after it.</p>" * 12
    page = f"<html><head><title>Looking back</title></head><body><article>{body}</article>"
    article, _ = extract(RawArticle(origin="page.html", title="", html=page + "</html>"))
    assert article.published is None
    # A date in the page's address is the page's own.
    article, _ = extract(RawArticle(origin="page.html", title="", html=page + "</html>",
                                    url="https://example.com/2018/03/02/looking-back"))
    assert article.published == "2018-03-02"


def test_article_with_only_furniture_is_skipped():
    result = extract(RawArticle(origin="x.txt", title="T", text="ADVERTISEMENT\n\nShare"))
    assert isinstance(result, Skipped) and result.reason == "article has no text"


def test_dates_and_ids():
    assert normalise_date("2019-01-02T10:00:00Z") == "2019-01-02"
    assert normalise_date("March 5, 2020") == "2020-03-05"
    assert normalise_date("not a date") is None
    assert article_id(RawArticle(origin="f", title="", id="GC79DNu8ylH1WMvm"), None) == (
        "GC79DNu8ylH1WMvm")
    unsafe = article_id(RawArticle(origin="f", title="", id="../../etc"), None)
    assert len(unsafe) == 16 and "/" not in unsafe


def test_outlet_furniture_goes_and_sentences_that_start_alike_stay():
    kept = ["When people lose their jobs, they can sign up for unemployment benefits.",
            "Follow the money, investigators said, and the trail leads to the campaign.",
            "The toggle caption feature was discussed at length by the engineers."]
    furniture = [
        "Enlarge this image toggle caption Win McNamee/Getty Images Win McNamee/Getty Images",
        "toggle caption Mario Tama/Getty Images",
        "Newsletter Sign Up Continue reading the main story Please verify you're not a robot "
        "by clicking the box. Invalid email address. Please re-enter.",
        "POLITICO Playbook newsletter Sign up today to receive the #1-rated newsletter in "
        "politics Email Sign Up By signing up you agree to receive email newsletters.",
        "Sign up for the US morning briefing",
        "Like the reporting you see here? Sign up for free news alerts from WND.com",
        "Follow Connor on Twitter",
        "Send tips to blake@dailycallernewsfoundation.org.",
        "Content created by The Daily Caller News Foundation is available without charge to "
        "any eligible news publisher that can provide a large audience.",
        "Permission is given to duplicate this electronic document for personal use only.",
    ]
    text = "\n".join(kept[:1] + furniture[:5] + kept[1:] + furniture[5:])
    cleaned = clean_text(text)
    assert cleaned.split("\n\n") == kept
    # Inside a paragraph, the caption control and its twice-printed credit go.
    inline = clean_text("Fill In The Blanks Enlarge this image toggle caption Mark Wilson/"
                        "Getty Images Mark Wilson/Getty Images There are 450 groups. Hide "
                        "Caption 1 of 9 Photos: The portrait.")
    assert inline == "Fill In The Blanks There are 450 groups. Photos: The portrait."

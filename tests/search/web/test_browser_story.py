"""The story page in a real headless Chromium: reached from a result, its articles side by
side by lean, stacked at phone width."""

from __future__ import annotations

import re

import pytest
from test_browser import ARTIFACTS, base_url, browser, expect, watched  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_result_opens_its_story_page_with_the_lean_columns(watched, base_url):  # noqa: F811
    page = watched.page
    page.goto(base_url + "/search?q=lead+service+pipes+replaced")
    first = page.locator(".result").first
    link = first.locator(".story-link a")
    expect()(link).to_have_text("All 4 articles of this story")
    link.click()
    page.wait_for_url(re.compile(r"/stories/\d+$"))
    expect()(page.locator("h1")).to_have_text(
        "Utility to replace lead pipes across the city by 2030")
    expect()(page.locator(".lean-split")).to_have_text(
        re.compile(r"Left 1\s+Center 1\s+Right 1\s+Unknown 1"))
    columns = page.locator(".lean-column")
    expect()(columns).to_have_count(4)
    expect()(columns.locator("h2")).to_have_text(
        [re.compile(r"^\s*Left\s+1"), re.compile(r"^\s*Center\s+1"),
         re.compile(r"^\s*Right\s+1"), re.compile(r"^\s*Lean unknown\s+1")])
    expect()(page.locator('[data-column="center"] .story-article')).to_contain_text(
        "Midland Wire")
    # Side by side on a wide screen: the four columns share one row.
    tops = {round(columns.nth(i).bounding_box()["y"]) for i in range(4)}
    assert len(tops) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "story-page.png"), full_page=True)
    # At phone width they stack, one under the other, and nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    boxes = [columns.nth(i).bounding_box() for i in range(4)]
    assert all(a["y"] + a["height"] <= b["y"] + 1 for a, b in zip(boxes, boxes[1:], strict=False))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Each article is linked to its page.
    page.locator('[data-column="unknown"] .story-article a').first.click()
    page.wait_for_url(re.compile(r"/articles/water-valley$"))
    assert watched.errors == []

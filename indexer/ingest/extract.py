"""Turn raw articles into clean article text: main text of pages, no mojibake, no furniture."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date

import ftfy
import trafilatura

from ..models import Article, RawArticle, Skipped
from .dates import address_date
from .language import detect_language

# Longer texts are cut, not dropped, and the cut is noted. The longest of the 37,540 US
# political news articles in the shared ABP data is 76,553 characters (the median about
# 5,000), so a real article fits; what goes past is a book, a transcript dump or junk, and
# would cost hundreds of passages to embed.
MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 500
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_HTML_LANG = re.compile(r"""<html[^>]*\blang=["']?([A-Za-z]{2,3})""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
# Bidirectional overrides and isolates: in a title they can make text display in another
# order than it reads (a spoofing trick), and the bidi algorithm needs none of them.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

# Phrases that are page furniture wherever they appear; a line made only of them goes.
_FURNITURE = r"""(?:advertisement|advertising|sponsored(?:\ content)?|thanks\ for\ watching!?
    |visit\ website|continue\ reading(?:\ the\ main\ story)?|skip\ advert(?:isement)?
    |see\ also:.*|read\ (?:more|also|next):.*|related:.*|click\ here\ (?:for|to)\ .*
    |sign\ up\ for\ .*newsletters?.*|subscribe\ (?:to|for)\ .*|share\ (?:this|on)\ .*
    |share|tweet|email|print|comments?|follow\ us\ on\ .*|story\ continues\ below.*
    |this\ article\ (?:originally\ )?appeared\ .*|getty\ images|ap\ photo.*
    |image\ (?:source|copyright).*|(?:copyright\ *)?©.{0,160}|copyright\ \d{4}.{0,160})"""
_FURNITURE_LINE = re.compile(rf"^(?:{_FURNITURE}[\s|/·.\-]*)+$", re.I | re.X)
# Furniture that some outlets put on a line of its own, in words of their own, each rule named
# by what it is (how many ABP articles held each: docs/inputs.md). A line goes when it matches
# and is short, so an article's sentence that happens to start alike stays.
_OUTLET_FURNITURE = {
    # NPR's photo caption controls with the photo credit: "Enlarge this image toggle
    # caption Win McNamee/Getty Images Win McNamee/Getty Images".
    "photo caption controls": re.compile(
        r"^(?:enlarge\ this\ image|(?:toggle|hide)\ caption)\b", re.I | re.X),
    # Newsletter forms: The New York Times' "Newsletter Sign Up Continue reading the main
    # story Please verify you're not a robot ...", POLITICO's "By signing up you agree to
    # receive email newsletters ...", TIME's "... View Sample Sign Up Now".
    "newsletter forms": re.compile(
        r"""(?:please\ verify\ you'?re\ not\ a\ robot|by\ signing\ up,?\ you\ agree\ to
        |view\ sample\ sign\ up\ now|you\ must\ select\ a\ newsletter|^newsletter\ sign\ up\b)""",
        re.I | re.X),
    # Sign-up prompts: The Guardian's "Sign up for the US morning briefing", WND's "Like the
    # reporting you see here? Sign up for free news alerts ...", POLITICO's "(Sign up for
    # POLITICO's Morning Education tip sheet)".
    "sign-up prompts": re.compile(
        r"""^(?:.{0,60}?[.?!)\]]\s*|.{0,40}?newsletter\s+|\W*)sign\ up\ (?:for|to|here|now|today)\b
        .*(?:newsletter|briefing|e-?mail|dispatch|alert|tip\ sheet|club|stories|videos)""",
        re.I | re.X),
    # Author lines at the end of wire and Daily Caller stories: "Follow Connor on Twitter",
    # "Send tips to blake@dailycallernewsfoundation.org.", and the Daily Caller News
    # Foundation's licensing notice.
    "follow and tips lines": re.compile(
        r"""^(?:follow\ .{1,60}?\ on\ (?:twitter|facebook)\b
        |(?:and\ )?send\ (?:story\ )?tips\ to\ \S+@
        |content\ created\ by\ the\ daily\ caller\ news\ foundation\ is\ available)""",
        re.I | re.X),
    # RAND's notice on its reports: "Permission is given to duplicate this electronic
    # document for personal use only ...", "RAND is a nonprofit institution that helps
    # improve policy ... RAND's publications do not necessarily reflect ...".
    "RAND's permissions notice": re.compile(
        r"""^(?:permission\ is\ given\ to\ duplicate\ this\ electronic\ document
        |rand\ is\ a\ nonprofit\ institution\ that\ helps\ improve\ policy)""", re.I | re.X),
}
_OUTLET_FURNITURE_WORDS = 60  # a longer line is an article's own


def outlet_furniture(line: str) -> str | None:
    """The name of the outlet furniture rule ``line`` matches, if any."""
    if len(line.split()) > _OUTLET_FURNITURE_WORDS:
        return None
    return next((name for name, rule in _OUTLET_FURNITURE.items() if rule.search(line)), None)


# Lines that open a tail of furniture: everything from here to the end goes.
_TAIL_START = re.compile(
    r"""^(?:leave\ a\ (?:comment|reply).*|your\ email\ address\ will\ not\ be\ published.*
    |post\ a\ comment|add\ a\ comment|\d*\s*comments?|comment\ on\ this\ (?:story|article)
    |related\ (?:stories|articles|posts|news|coverage|content|links)|you\ may\ also\ like.*
    |more\ (?:stories|news|from\ .{1,40})|recommended(?:\ for\ you|\ stories)?|trending(?:\ now)?
    |most\ (?:popular|read|viewed)|what\ to\ read\ next|don'?t\ miss.*|also\ on\ .{1,40}
    |để\ lại\ một\ bình\ luận.*|email\ của\ bạn\ sẽ\ không\ được\ hiển\ thị.*
    |laisser\ un\ commentaire.*|deja\ un\ comentario.*|hinterlasse\ einen\ kommentar.*)$""",
    re.I | re.X,
)
# Lines that only close an endless-scroll feed; the feed itself starts at its heading.
_FEED_END = re.compile(
    r"^(?:end\ of\ content|no\ more\ pages\ to\ load|load\ more(?:\ stories|\ articles)?"
    r"|show\ more|see\ more\ stories|loading\.\.\.)$",
    re.I | re.X,
)
# The Hill inlines a related-headline list after a politician's name, up to "MORE": the
# full name is usually glued to the first headline ("Nancy Pelosi Nancy PelosiOvernight
# Health Care: ... | ... MORE (D-Calif.)"), sometimes not ("Paul Ryan Paul Davis Ryan
# Retirees should ... MORE").
_INLINE_GLUED = re.compile(
    r"\b(?P<last>[A-Z][\w'’\-]+) (?:\S+ ){0,5}?(?P=last)(?=[A-Z0-9'‘\"“])[^\n]{0,700}? MORE\b")
_INLINE_ADVERT = re.compile(r"[ \t]*\bADVERTISEMENT\b[ \t]*")
# NPR's caption controls inside a paragraph, with the photo credit they print twice:
# "... Fill In The Blanks Enlarge this image toggle caption Mark Wilson/Getty Images Mark
# Wilson/Getty Images There are ...".
_INLINE_CAPTION = re.compile(
    r"[ \t]*(?:\bEnlarge this image\s+(?:(?:toggle|hide) caption\s+)?|\b(?:toggle|hide) caption\s+)"
    r"(?P<credit>[^\n]{2,80}?)\s+(?P=credit)(?=\s|$)"
    # CNN's gallery counter before each caption: "Hide Caption 1 of 9".
    r"|[ \t]*\bHide Caption \d+ of \d+\b")
_INLINE_SPACED = re.compile(
    r"\b(?P<name>(?P<first>[A-Z][\w'’\-]+) (?P<last>[A-Z][\w'’\-]+)) (?P=first) "
    r"(?:\S+ ){0,3}?(?P=last) [^\n]{0,700}? MORE\b")


def extract(raw: RawArticle) -> tuple[Article, str] | Skipped:
    """Clean one raw article. Returns the article and its text before collection-wide cleaning.

    The collection-wide step (lines repeated across many articles) is applied later by
    :func:`remove_boilerplate`, since it needs the whole collection's line counts.
    """
    title, text = raw.title, raw.text
    url, source, published, author, language = (raw.url, raw.source, raw.published,
                                                  raw.author, raw.language)
    if raw.html and not text:
        try:
            page = _from_html(raw.html, raw.url)
        except Exception as error:  # a hostile page may break the parser in any way
            return Skipped(raw.origin, f"page could not be parsed ({type(error).__name__})")
        if page is None:
            return Skipped(raw.origin, "no article text found in the page")
        title = title or page["title"]
        text = page["text"]
        url = url or page["url"]
        source = source or page["source"]
        # When a crawler fetched a page says nothing of when it was published: it stays
        # in the metadata ("fetched"), and a page with no date of its own is undated.
        published = published or page["published"]
        author = author or page["author"]
        language = language or page["language"]
    title = _clean_line(_fix(title or ""))[:MAX_TITLE_CHARS]
    # Cleaning drops furniture, so twice the cap is cleaned to fill it; never the whole of a
    # huge input, which would only cost time.
    cleaned = clean_text(text[: MAX_TEXT_CHARS * 2])
    cut = len(cleaned) > MAX_TEXT_CHARS or len(text) > MAX_TEXT_CHARS * 2
    if len(cleaned) > MAX_TEXT_CHARS:
        # At a space or line break, so the last word stays whole.
        end = max(cleaned.rfind(" ", MAX_TEXT_CHARS // 2, MAX_TEXT_CHARS),
                  cleaned.rfind("\n", MAX_TEXT_CHARS // 2, MAX_TEXT_CHARS))
        cleaned = cleaned[: end if end > 0 else MAX_TEXT_CHARS].rstrip()
    notes = [raw.truncated] if raw.truncated else []
    if cut:
        notes.insert(0, f"text cut to {len(cleaned):,} of {len(text):,} characters")
    text = cleaned
    if title and text.startswith(title):
        text = text[len(title):].lstrip()
    if not text:
        return Skipped(raw.origin, "article has no text")
    if not title:
        title = _clean_line(text.split("\n", 1)[0])[:120]
    language = (language or "").strip().lower()[:8] or None
    detected = language is None
    if detected:
        language = detect_language(text)
    metadata = dict(raw.metadata)
    if raw.published and normalise_date(raw.published) is None:
        metadata.setdefault("published_raw", raw.published)
    published = normalise_date(published)
    if published is None:
        published = _date_from_address(url, metadata)
    article = Article(
        id=article_id(raw, url),
        title=title,
        text=text,
        origin=raw.origin,
        url=url,
        source=_clean_line(_fix(source))[:200] if source else None,
        published=published,
        author=_clean_line(_fix(author))[:300] if author else None,
        language=language,
        language_detected=detected and language is not None,
        lean=raw.lean,
        metadata=metadata,
        truncated="; ".join(notes) or None,
    )
    return article, text


# Dates from the page's metadata, markup and address only: searching its text guesses (a
# page that mentions "the 2016 election" came out as published 2016-01-01).
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


def _from_html(html: str, url: str | None = None) -> dict | None:
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False,
        date_extraction_params=_DATE_PARAMS)
    # A Document unless as_dict is asked for, which it is not.
    if document is None or isinstance(document, dict) or not (document.text or "").strip():
        return None
    lang = _HTML_LANG.search(html[:5000])
    return {
        "title": document.title or "",
        "text": document.text or "",
        "url": document.url,
        "source": document.sitename,
        "published": document.date,
        "author": document.author,
        "language": document.language or (lang.group(1) if lang else None),
    }


def _fix(text: str) -> str:
    """Repair mojibake but keep the typography the outlet used (curly quotes, dashes)."""
    # An em dash whose last byte was lost before it reached us cannot be repaired by ftfy.
    return ftfy.fix_text(text, uncurl_quotes=False).replace('â€"', "—")


def clean_text(text: str) -> str:
    """Repair encoding, normalise white space and drop page furniture, keeping paragraphs."""
    text = _fix(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INLINE_GLUED.sub(lambda m: m.group("last"), text)
    text = _INLINE_SPACED.sub(lambda m: m.group("name"), text)
    text = _INLINE_ADVERT.sub(" ", text)
    text = _INLINE_CAPTION.sub(" ", text)
    lines = [_clean_line(line) for line in text.split("\n")]
    lines = [line for line in lines if line and not _FURNITURE_LINE.match(line)
             and outlet_furniture(line) is None]
    lines = _cut_tail(lines)
    return "\n\n".join(lines)


def _clean_line(line: str) -> str:
    return " ".join(_CONTROL.sub(" ", _BIDI.sub("", line)).split())


def _cut_tail(lines: list[str]) -> list[str]:
    """Drop comment forms, related-story lists and endless-scroll feeds at the end."""
    if len(lines) < 2:
        return lines
    # Only look in the last part of the article, so a heading in the body is safe.
    floor = max(1, len(lines) // 3)
    for i in range(floor, len(lines)):
        if _TAIL_START.match(lines[i]):
            lines = lines[:i]
            break
    end = next((i for i in range(len(lines) - 1, floor - 1, -1)
                if _FEED_END.match(lines[i])), None)
    if end is not None:
        # The feed starts at its short heading ("News", "Latest") above the closing lines.
        start = end
        while start > floor and _FEED_END.match(lines[start - 1]):
            start -= 1
        heading = next((i for i in range(start - 1, max(floor, start - 30) - 1, -1)
                        if len(lines[i].split()) <= 3 and not lines[i].endswith((".", "”", '"'))),
                       None)
        lines = lines[: heading if heading is not None else start]
    return lines


def line_key(line: str) -> str:
    """A line's identity for counting repeats: case, digits and spacing do not matter."""
    folded = re.sub(r"\d+", "0", line.lower())
    return hashlib.blake2b(" ".join(folded.split()).encode(), digest_size=8).hexdigest()


def count_lines(texts: Iterable[str]) -> Counter:
    """In how many articles each line occurs."""
    counts: Counter = Counter()
    for text in texts:
        counts.update({line_key(line) for line in text.split("\n\n") if line})
    return counts


def remove_boilerplate(text: str, counts: Counter, min_articles: int) -> str:
    """Drop lines repeated across many articles of the collection (copyright, sign-up lines).

    A copy of a wire story repeats every line of itself, so when most of an article's lines
    are repeated it is a copy, not boilerplate, and it is left whole.
    """
    lines = [line for line in text.split("\n\n") if line]
    repeated = [counts.get(line_key(line), 0) >= min_articles for line in lines]
    if not any(repeated) or sum(repeated) * 2 > len(lines):
        return text
    return "\n\n".join(line for line, rep in zip(lines, repeated, strict=True) if not rep)


def boilerplate_threshold(collection_size: int, min_articles: int, min_share: float) -> int:
    return max(min_articles, int(collection_size * min_share))


def normalise_date(value: str | None) -> str | None:
    """YYYY-MM-DD from the common ways dates are written, or None."""
    if not value:
        return None
    value = value.strip()
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    try:
        if match:
            return date(*map(int, match.groups())).isoformat()
        from dateutil import parser

        return parser.parse(value, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError, TypeError):
        return None


def _date_from_address(url: str | None, metadata: dict) -> str | None:
    """The day the address gives, noted as read from it; a month only goes to the metadata
    (``published_month``), since ``published`` holds days and the 1st would be a guess."""
    found = address_date(url)
    if found is None:
        return None
    metadata["published_from"] = "address"
    if found.precision == "day":
        return found.value
    metadata["published_month"] = found.value
    return None


def article_id(raw: RawArticle, url: str | None) -> str:
    """The input's own id when it is safe in a URL, else a stable hash of where it came from."""
    if raw.id and _SAFE_ID.match(raw.id):
        return raw.id
    basis = raw.id or url or raw.origin
    return hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]

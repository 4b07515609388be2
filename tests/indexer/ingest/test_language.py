"""Language detection: the language of a text whose input names none, or unknown."""

from __future__ import annotations

import pytest

from indexer.ingest.extract import extract
from indexer.ingest.language import detect_language
from indexer.models import RawArticle

ENGLISH = ("The Senate passed the spending bill late on Thursday after a long debate over "
           "border security and disaster relief, sending it to the president's desk.")


@pytest.mark.parametrize(("text", "code"), [
    (ENGLISH, "en"),
    ("Le gouvernement a annoncé mardi une nouvelle série de mesures pour soutenir les "
     "agriculteurs touchés par la sécheresse.", "fr"),
    ("Die Bundesregierung hat am Dienstag neue Maßnahmen zur Unterstützung der von der "
     "Dürre betroffenen Landwirte angekündigt.", "de"),
    ("El gobierno anunció el martes una nueva serie de medidas para apoyar a los "
     "agricultores afectados por la sequía.", "es"),
    ("Chính phủ Canada và Mexico đã ký kết một thỏa thuận hợp tác mới về thương mại và an "
     "ninh biên giới.", "vi"),
])
def test_a_text_of_a_sentence_or_more_gets_its_language(text, code):
    assert detect_language(text) == code


@pytest.mark.parametrize("text", [
    "Senate votes",  # too short to tell
    "12345 67890 2019-01-01 14:00 — 3.5% / 7,200",  # no words at all
    "",
])
def test_a_text_too_short_to_tell_stays_unknown(text):
    assert detect_language(text) is None


def test_a_mixture_the_detector_is_unsure_of_stays_unknown():
    mixed = "Obama Merkel Hollande Putin Trudeau Xi Jinping Modi Abe Zuma Temer Macri Peña"
    assert detect_language(mixed) is None


def test_extract_detects_a_language_the_input_does_not_give_and_says_so():
    article, _ = extract(RawArticle(origin="a.txt", title="Spending bill", text=ENGLISH))
    assert (article.language, article.language_detected) == ("en", True)


def test_extract_keeps_the_language_the_input_gives():
    article, _ = extract(RawArticle(origin="a.json", title="Spending bill", text=ENGLISH,
                                    language="FR"))
    assert (article.language, article.language_detected) == ("fr", False)


def test_extract_leaves_the_language_of_a_short_text_unknown():
    article, _ = extract(RawArticle(origin="a.txt", title="Note", text="Vote today."))
    assert (article.language, article.language_detected) == (None, False)

"""Outlets files: one outlet for each of its spellings, its lean, and bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import ROOT

from indexer.errors import BadOutletsFile
from indexer.outlets import lean_of_record, outlet_key, read_outlets

SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"
SAMPLE_OUTLETS = ROOT / "data" / "outlets.csv"


def write(tmp_path: Path, text: str | bytes, name: str = "outlets.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_aliases_match_whatever_the_case_and_spacing(tmp_path):
    outlets = read_outlets(write(tmp_path, "outlet,lean,aliases\n"
                                 "Fox News,right,Fox Online News|Fox News (Online)\n"
                                 "Reuters,center,\n"))
    for spelling in ("Fox News", "FOX NEWS", "fox online news", "Fox  News (Online)"):
        assert outlets.resolve(spelling, None) == ("Fox News", "right")
    assert outlets.resolve("reuters", None) == ("Reuters", "center")
    assert outlets.resolve("Daily Planet", "left") == ("Daily Planet", "left")


def test_the_file_lean_comes_first_and_an_article_lean_fills_in(tmp_path):
    outlets = read_outlets(write(tmp_path, "outlet,lean,aliases\nProPublica,,\nVox,left,\n"))
    assert outlets.resolve("ProPublica", "center") == ("ProPublica", "center")
    assert outlets.resolve("ProPublica", None) == ("ProPublica", None)
    assert outlets.resolve("Vox", "center") == ("Vox", "left")


def test_columns_may_come_in_any_order_and_lean_and_aliases_may_be_left_out(tmp_path):
    outlets = read_outlets(write(tmp_path, "Aliases,OUTLET\nAP|A.P.,Associated Press\n"))
    assert outlets.resolve("a.p.", None) == ("Associated Press", None)


def test_an_article_gives_its_own_lean_in_a_label_field_never_a_number():
    assert lean_of_record({"bias_text": "Left", "bias": 0}) == "left"
    assert lean_of_record({"lean": " lean  right "}) == "lean right"
    assert lean_of_record({"bias": 2}) is None
    assert lean_of_record({"bias": "2"}) is None
    assert lean_of_record({"title": "no lean"}) is None


@pytest.mark.parametrize(("text", "row", "words"), [
    ("outlet,lean,aliases\nReuters,center,\n,left,Something\n", 3, "no outlet name"),
    ("name,bias,aliases\nReuters,center,\n", 1, "must name the columns"),
    ("outlet,lean,aliases,notes\nReuters,center,,x\n", 1, "must name the columns"),
    ("outlet,lean,aliases\nFox News,right,Fox\nFox Business,right,fox\n", 3,
     "'fox' is claimed by 'Fox News' (row 2) and by 'Fox Business'"),
    ("outlet,lean,aliases\nFox News,right,\nFox Online News,right,Fox News\n", 3,
     "claimed by 'Fox News'"),
    ("outlet,lean,aliases\nReuters,center,\nReuters,left,\n", 3, "listed twice"),
    ("outlet,lean,aliases\nReuters,center\n", 2, "2 fields where the header has 3"),
    ("outlet,lean,aliases\nReuters,1,\n", 2, "is not a label"),
    ("", None, "empty file"),
])
def test_a_bad_row_is_refused_naming_the_file_and_the_row(tmp_path, text, row, words):
    path = write(tmp_path, text)
    with pytest.raises(BadOutletsFile) as caught:
        read_outlets(path)
    assert caught.value.row == row
    message = str(caught.value)
    assert str(path) in message and words in message
    if row is not None:
        assert f"row {row}" in message


def test_a_file_that_is_not_utf8_is_refused_naming_the_row(tmp_path):
    path = write(tmp_path, "outlet,lean,aliases\nReuters,center,\nLe Monde,left,\xe9\n"
                 .encode("latin-1"))
    with pytest.raises(BadOutletsFile) as caught:
        read_outlets(path)
    assert caught.value.row == 3 and "not valid UTF-8" in str(caught.value)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(BadOutletsFile, match="cannot be read"):
        read_outlets(tmp_path / "nowhere.csv")


def test_the_shipped_outlets_file_covers_the_sample_and_invents_no_lean():
    outlets = read_outlets(SAMPLE_OUTLETS)
    leans: dict[str, set[str]] = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        outlet = outlets.find(record["source"])
        assert outlet is not None, f"{record['source']!r} is not in {SAMPLE_OUTLETS}"
        leans.setdefault(outlet.name, set()).add(record["bias_text"])
    for outlet in outlets.outlets:
        # A lean only where every article of the outlet in the sample says that lean.
        assert outlet.lean is None or leans[outlet.name] == {outlet.lean}, outlet
    assert {o.name for o in outlets.outlets} == set(leans)
    fox = outlets.find("Fox Online News")
    assert fox is outlets.find("Fox News (Online)") is outlets.find("fox news")
    assert outlet_key(fox.name) == "fox news"

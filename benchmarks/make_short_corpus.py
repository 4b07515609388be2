"""The short-document evaluation collection, from the NeuS roundups' lead snippets.

Every member of every roundup in story_groups/neus_story_triplets_public.jsonl.gz becomes
one article: its headline as the title, its lead snippet as the text (no outlet and no date:
the roundups do not say them for every member). Each roundup gives two queries written by
its editors, its neutral headline (kind ``headline``) and its neutral summary (kind
``summary``), whose relevant articles are the roundup's members. Writes, in the formats of
story_groups/:

    articles.jsonl   id, title, text
    queries.jsonl    query_id, story_id, kind, text, neus_split
    qrels.tsv        query_id iteration doc_id relevance

    .venv/bin/python benchmarks/make_short_corpus.py --out ~/.cache/presslens/eval/short
    presslens --index ~/.cache/presslens/eval/short/index index \\
        ~/.cache/presslens/eval/short/articles.jsonl

Choices are made on the train split only; val + test are reported.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_collection(triplets: Path, out: Path) -> dict[str, int]:
    """Write the three files; returns how many of each were written."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {"articles": 0, "queries": 0, "roundups": 0}
    with gzip.open(triplets, "rt", encoding="utf-8") as source, \
            open(out / "articles.jsonl", "w", encoding="utf-8") as articles, \
            open(out / "queries.jsonl", "w", encoding="utf-8") as queries, \
            open(out / "qrels.tsv", "w", encoding="utf-8") as qrels:
        qrels.write("query_id\titeration\tdoc_id\trelevance\n")
        for line in source:
            roundup = json.loads(line)
            members = []
            for member in roundup["members"]:
                title = (member.get("title") or "").strip()
                snippet = (member.get("snippet") or "").strip()
                if not snippet:
                    continue
                aid = f"{roundup['story_id']}-{member['position']}"
                articles.write(json.dumps({"id": aid, "title": title, "text": snippet}) + "\n")
                members.append(aid)
            if not members:
                continue
            counts["roundups"] += 1
            counts["articles"] += len(members)
            for kind, field in (("headline", "neutral_title"), ("summary", "neutral_summary")):
                text = (roundup.get(field) or "").strip()
                if not text:
                    continue
                qid = f"{roundup['story_id']}-{kind}"
                queries.write(json.dumps({"query_id": qid, "story_id": roundup["story_id"],
                                          "kind": kind, "text": text,
                                          "neus_split": roundup["neus_split"]}) + "\n")
                qrels.writelines(f"{qid}\t0\t{aid}\t1\n" for aid in members)
                counts["queries"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    counts = write_collection(
        args.shared / "story_groups" / "neus_story_triplets_public.jsonl.gz", args.out)
    print(", ".join(f"{value:,} {name}" for name, value in counts.items()))


if __name__ == "__main__":
    main()

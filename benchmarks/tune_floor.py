"""Choose the relevance floor: the similarity under which a result is a weak match.

A search says "no passage speaks to this" when none of its results reaches the floor. For
each collection, every judged query of the chosen splits is searched (hybrid, top 10) and
its best result's similarity kept; so is that of three kinds of query with no good answer:

* nonsense: one to four strings of random letters ("qwxzv plorbtang");
* off-topic: questions from outside political news (recipes, sport rules, programming);
* shuffled: two to twelve words drawn at random from all the queries, in no order.

A query an article holds every word of is never weak, whatever its similarity. For each
candidate floor the table gives the share of judged queries it would wrongly call empty
(false empties) and the share of each no-answer kind it catches. The floor to choose is
the highest that keeps false empties on the train split at or under 0.25% on every
collection: people type shorter queries than the editors' headlines and summaries, and a
false empty hides good results behind "no passage speaks to this".

    .venv/bin/python benchmarks/tune_floor.py \\
        --collection ~/.cache/presslens/eval/abp-all,../shared/data/story_groups \\
        --collection ~/.cache/presslens/eval/short/index,~/.cache/presslens/eval/short
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.settings import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.evaluate import judged_in_index, load_qrels, load_queries  # noqa: E402
from search.hits import holds_all_words  # noqa: E402
from search.retrieve import query_words  # noqa: E402

OFF_TOPIC = [
    "chocolate cake recipe with butter", "how to fix a flat bicycle tire",
    "best hiking boots for winter", "python list comprehension tutorial",
    "symptoms of a cold in cats", "knitting a wool scarf pattern",
    "guitar chords for beginners", "the rules of cricket explained",
    "how long to boil an egg", "repotting a cactus without gloves",
    "sourdough starter feeding schedule", "what is a black hole made of",
    "best way to learn to juggle", "cleaning a cast iron pan",
    "how do bees make honey", "tips for a marathon training plan",
    "how to tie a bowline knot", "why is the sky blue",
    "chess opening for beginners", "homemade pizza dough",
    "removing rust from a bike chain", "how to draw a cartoon cat",
    "growing tomatoes on a balcony", "lyrics of a lullaby",
    "origami crane folding steps", "how to bake banana bread",
    "difference between alligators and crocodiles", "fixing a leaking kitchen tap",
    "how to train a puppy to sit", "watercolour painting techniques",
]
FLOORS = (0.30, 0.35, 0.40, 0.42, 0.45, 0.48, 0.50, 0.55)


def best_similarity(engine: Engine, text: str) -> float:
    """The best result's similarity, or 1.0 where an article holds every word of the query
    (which a search never calls weak)."""
    results = engine.search(text, k=10, mode="hybrid", collapse=False).results
    if holds_all_words(engine, query_words(" ".join(text.split())), None):
        return 1.0
    return max((r.similarity for r in results if r.similarity is not None), default=-1.0)


def no_answer_queries(queries: list[str], seed: int = 20261201) -> dict[str, list[str]]:
    rng = random.Random(seed)
    words = [w for q in queries for w in q.split()]
    nonsense = [" ".join("".join(rng.choice(string.ascii_lowercase)
                                 for _ in range(rng.randint(3, 9)))
                         for _ in range(rng.randint(1, 4))) for _ in range(300)]
    shuffled = [" ".join(rng.sample(words, rng.randint(2, 12))) for _ in range(300)]
    return {"nonsense": nonsense, "off-topic": OFF_TOPIC, "shuffled": shuffled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--collection", action="append", required=True,
                        help="INDEX,FOLDER where FOLDER holds queries.jsonl and qrels.tsv")
    parser.add_argument("--splits", default="train;val,test",
                        help="groups of neus_split values, separated by ;")
    args = parser.parse_args()
    print("| collection | queries | n | " + " | ".join(f"floor {f:.2f}" for f in FLOORS)
          + " |")
    print("|" + " --- |" * (len(FLOORS) + 3))
    for spec in args.collection:
        index, folder = (Path(p).expanduser() for p in spec.split(","))
        engine = Engine.open(Settings.from_env(index))
        engine.wait_for_keywords()
        qrels = load_qrels(folder / "qrels.tsv")
        every = [text for _, text in load_queries(folder / "queries.jsonl")]
        rows: list[tuple[str, np.ndarray, bool]] = []
        for group in args.splits.split(";"):
            judged = judged_in_index(
                engine, load_queries(folder / "queries.jsonl", set(group.split(","))), qrels)
            best = np.array([best_similarity(engine, text) for _, text, _ in judged])
            rows.append((f"judged {group}: false empties", best, True))
        for kind, texts in no_answer_queries(every).items():
            best = np.array([best_similarity(engine, text) for text in texts])
            rows.append((f"{kind}: caught", best, False))
        engine.close()
        for name, best, judged in rows:
            cells = [f"{np.mean(best < f if judged else best < f):.1%}" for f in FLOORS]
            print(f"| {index.name} | {name} | {len(best)} | " + " | ".join(cells) + " |",
                  flush=True)


if __name__ == "__main__":
    main()

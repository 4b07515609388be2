"""The rows that stories are made of: article vectors, MinHash signatures and their LSH
bands, edges between articles, and story membership."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np

from .database import Database
from .records import StoredEdge


class StoryRows:
    """Reads and writes of what stories are made of."""

    def __init__(self, db: Database):
        self.db = db

    def put_article_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        self.db.table("article_vectors").upsert_all(
            ({"article_id": aid, "vector": v.astype(np.float32).tobytes()}
             for aid, v in vectors.items()), pk="article_id")

    def all_article_vectors(self, dimension: int) -> tuple[list[str], np.ndarray]:
        rows = self.db.execute("select article_id, vector from article_vectors "
                               "order by article_id").fetchall()
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        return [r[0] for r in rows], matrix.reshape(len(rows), dimension)

    def put_minhashes(self, signatures: dict[str, np.ndarray],
                      bands: dict[str, list[int]]) -> None:
        ids = list(signatures)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            self.db.execute(f"delete from lsh_bands where article_id in "
                            f"({','.join('?' * len(part))})", part)
        self.db.table("minhashes").upsert_all(
            ({"article_id": aid, "signature": sig.tobytes()} for aid, sig in signatures.items()),
            pk="article_id")
        self.db.table("lsh_bands").insert_all(
            ({"band": band, "key": key, "article_id": aid}
             for aid, keys in bands.items() for band, key in enumerate(keys)),
            batch_size=2000)

    def get_minhashes(self, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
        out = {}
        for i in range(0, len(article_ids), 500):
            part = list(article_ids[i:i + 500])
            for aid, blob in self.db.execute(
                    f"select article_id, signature from minhashes where article_id in "
                    f"({','.join('?' * len(part))})", part):
                out[aid] = np.frombuffer(blob, dtype=np.uint64)
        return out

    def lsh_candidates(self, keys: Sequence[int]) -> set[str]:
        clauses = " or ".join("(band = ? and key = ?)" for _ in keys)
        params = [v for band, key in enumerate(keys) for v in (band, key)]
        return {r[0] for r in self.db.execute(
            f"select distinct article_id from lsh_bands where {clauses}", params)}

    def story_rows(self) -> list[tuple[str, int | None, str | None]]:
        """(article id, story id, published) of every article."""
        return self.db.execute("select id, story_id, published from articles").fetchall()

    def published_months(self) -> dict[str, str]:
        """Articles dated to a month only (by their address), with the month (YYYY-MM)."""
        return dict(self.db.execute(
            "select id, json_extract(metadata, '$.published_month') from articles "
            "where published is null and metadata like '%published_month%' "
            "and json_extract(metadata, '$.published_month') is not null").fetchall())

    def set_stories(self, assignments: dict[str, int]) -> None:
        self.db.conn.executemany("update articles set story_id = ? where id = ?",
                                 [(story, aid) for aid, story in assignments.items()])

    def story_mates(self, article_ids: Sequence[str]) -> list[str]:
        """Other members of the stories of these articles."""
        wanted = set(article_ids)
        stories = {row[0] for aid in wanted for row in self.db.execute(
            "select story_id from articles where id = ?", [aid]) if row[0] is not None}
        members = self.story_members(sorted(stories))
        return sorted({m for ms in members.values() for m in ms} - wanted)

    def delete_edges_of(self, article_ids: Sequence[str]) -> None:
        for i in range(0, len(article_ids), 500):
            part = list(article_ids[i:i + 500])
            marks = ",".join("?" * len(part))
            self.db.execute(f"delete from edges where a in ({marks}) or b in ({marks})",
                            part + part)

    def put_edges(self, edges: Iterable) -> None:
        self.db.table("edges").upsert_all(
            ({"a": min(e.a, e.b), "b": max(e.a, e.b), "relation": e.relation,
              "similarity": round(e.similarity, 4),
              "shared_text": None if e.shared_text is None else round(e.shared_text, 4),
              "margin": None if e.margin is None else round(e.margin, 4),
              "strength": e.strength}
             for e in edges), pk=("a", "b"), batch_size=2000)

    @cached_property
    def _strength(self) -> str:
        """The strength column to select: an index from before link strengths has none."""
        columns = {row[1] for row in self.db.execute("pragma table_info(edges)")}
        return "strength" if "strength" in columns else "null as strength"

    def edges_of(self, article_id: str) -> list[StoredEdge]:
        """Every edge of one article, seen from its side."""
        return [StoredEdge(other, relation, similarity, shared, strength)
                for other, relation, similarity, shared, strength in self.db.execute(
                    f"select case when a = :id then b else a end as other, relation, "
                    f"similarity, shared_text, {self._strength} from edges "
                    f"where a = :id or b = :id", {"id": article_id})]

    def edges_among(self, article_ids: Sequence[str]) -> dict[tuple[str, str], StoredEdge]:
        """Every edge touching these articles, keyed (article, other) from their side."""
        out: dict[tuple[str, str], StoredEdge] = {}
        wanted = set(article_ids)
        for i in range(0, len(article_ids), 400):
            part = list(article_ids[i:i + 400])
            marks = ",".join("?" * len(part))
            for a, b, relation, similarity, shared, strength in self.db.execute(
                    f"select a, b, relation, similarity, shared_text, {self._strength} "
                    f"from edges where a in ({marks}) or b in ({marks})", part + part):
                if a in wanted:
                    out[(a, b)] = StoredEdge(b, relation, similarity, shared, strength)
                if b in wanted:
                    out[(b, a)] = StoredEdge(a, relation, similarity, shared, strength)
        return out

    def story_members(self, story_ids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        if not story_ids:
            return out
        marks = ",".join("?" * len(story_ids))
        for aid, story in self.db.execute(
                f"select id, story_id from articles where story_id in ({marks})",
                list(story_ids)):
            out.setdefault(story, []).append(aid)
        return out

"""Vector indexes: exact for small collections, HNSW above the limit, filters in both."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.vectors import VectorIndex


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.arange(10, 3010, dtype=np.int64), vectors


@pytest.mark.parametrize("exact_limit, kind", [(10_000, "exact"), (100, "hnsw")])
def test_kind_by_size_and_neighbours_agree_with_exact(tmp_path, data, exact_limit, kind):
    ids, vectors = data
    index = VectorIndex.build(ids, vectors, 32, exact_limit=exact_limit)
    index.save(tmp_path / "v.faiss")
    index = VectorIndex.load(tmp_path / "v.faiss")
    assert index.kind == kind and index.size == 3000
    truth = np.argsort(-(vectors @ vectors[:50].T), axis=0)[:10].T + 10
    found = [index.search(q, 10)[0] for q in vectors[:50]]
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95
    allowed = ids[ids % 7 == 0]
    got, _ = index.search(vectors[0], 10, allowed=allowed)
    assert len(got) == 10 and all(g % 7 == 0 for g in got)

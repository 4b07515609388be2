"""Vector indexes: exact for small collections, HNSW above the limit, filters in both."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.storage.vectors import VectorIndex


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


@pytest.mark.parametrize("exact_limit", [10_000, 100])
def test_removed_passages_are_never_returned_and_added_ones_are(tmp_path, data, exact_limit):
    ids, vectors = data
    index = VectorIndex.build(ids[:2000], vectors[:2000], 32, exact_limit=exact_limit)
    gone = ids[:500]
    index.remove(gone)
    index.add(ids[2000:], vectors[2000:])
    index.save(tmp_path / "v.faiss")
    index = VectorIndex.load(tmp_path / "v.faiss")
    assert sorted(index.ids()) == sorted(ids[500:])
    # An exact index drops removed vectors; an HNSW graph keeps their slots without ids.
    assert index.removed == (0 if index.kind == "exact" else 500)
    for q in range(0, 3000, 100):
        found, _ = index.search(vectors[q], 10)
        assert not set(found) & set(gone)
        if q >= 500:
            assert found[0] == ids[q]  # each vector is its own nearest neighbour
    found, _ = index.search(vectors[0], 10, allowed=ids[:600])
    assert set(found) <= set(ids[500:600]) and len(found) > 0


def _above(vectors, ids, query, floor, wanted):
    scores = vectors @ query
    return {int(i) for i, s in zip(ids, scores, strict=True) if s >= floor and wanted(i)}


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_above_finds_every_passage_past_a_score(tmp_path, data, kind):
    ids, vectors = data
    if kind == "ivf":
        index = VectorIndex.trained(32, vectors, 16)
        index.add(ids, vectors)
    else:
        index = VectorIndex.build(ids, vectors, 32, exact_limit=10_000 if kind == "exact"
                                  else 100)
    index.save(tmp_path / "v.faiss")
    index = VectorIndex.load(tmp_path / "v.faiss", mmap=True)
    assert index.kind == kind
    query = vectors[3]
    found, scores = index.above(query, 0.3)
    truth = _above(vectors, ids, query, 0.3, lambda i: True)
    assert len(truth) > 20  # more than a search's first few
    assert np.all(scores[:-1] >= scores[1:]) and np.all(scores >= 0.3)
    if kind == "ivf":  # the lists a search visits: most of them here, not always all
        assert len(set(found.tolist()) & truth) >= 0.9 * len(truth)
        # Its 8-bit codes move scores a little: what it finds is past the line, give or take.
        assert set(found.tolist()) <= _above(vectors, ids, query, 0.28, lambda i: True)
        return
    assert set(found.tolist()) == truth and len(found) == len(truth)
    allowed, excluded = ids[ids % 3 == 0], ids[ids % 2 == 0]
    found, _ = index.above(query, 0.3, allowed=allowed, excluded=excluded)
    assert set(found.tolist()) == _above(vectors, ids, query, 0.3,
                                         lambda i: i % 3 == 0 and i % 2 != 0)
    assert index.above(query, 0.3, allowed=ids[:0])[0].tolist() == []


def test_above_leaves_out_passages_removed_from_a_graph(data):
    ids, vectors = data
    index = VectorIndex.build(ids, vectors, 32, exact_limit=100)
    gone = ids[:1500]
    index.remove(gone)
    found, _ = index.above(vectors[3], 0.3)
    assert set(found.tolist()) == _above(vectors, ids, vectors[3], 0.3, lambda i: i >= 1510)


@pytest.mark.parametrize("exact_limit", [10_000, 100])
def test_stored_vectors_come_back_as_they_were_added(tmp_path, data, exact_limit):
    ids, vectors = data
    index = VectorIndex.build(ids, vectors, 32, exact_limit=exact_limit)
    index.save(tmp_path / "v.faiss")
    index = VectorIndex.load(tmp_path / "v.faiss")
    wanted = np.array([10, 11, 2999, 1500], dtype=np.int64)
    np.testing.assert_allclose(index.stored(wanted), vectors[wanted - 10], atol=1e-6)
    # The scores a search gives are the inner products of those vectors.
    found, scores = index.search(vectors[3], 5)
    np.testing.assert_allclose(index.stored(found) @ vectors[3], scores, atol=1e-5)

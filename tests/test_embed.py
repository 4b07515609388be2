"""Query vectors: the lean OpenVINO path gives the vectors sentence-transformers gives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

QUERIES = ["border wall funding", "Canada and Mexico join forces against US tariffs",
           "Who voted against the farm bill in the Senate, and what did they say about the "
           "crop insurance changes for small growers? " * 4, "中国 关税", "!!!", "a"]


def test_query_vectors_match_the_sentence_transformers_path(embedder):
    assert embedder._direct is not None  # the default backend takes the lean path
    expected = embedder.model.encode(QUERIES, normalize_embeddings=True,
                                     convert_to_numpy=True, batch_size=1)
    got = np.stack([embedder.encode_query(q) for q in QUERIES])
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_concurrent_queries_each_get_their_own_vector(embedder):
    one_by_one = [embedder.encode_query(q) for q in QUERIES]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(embedder.encode_query, QUERIES * 4))
    for i, vector in enumerate(together):
        assert np.allclose(vector, one_by_one[i % len(QUERIES)], atol=1e-5)

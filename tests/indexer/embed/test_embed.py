"""Vectors: the lean OpenVINO path gives the vectors sentence-transformers gives."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from processes import ROOT


def sample_passages(count: int) -> list[str]:
    """Title-prefixed pieces of the shipped sample, the way passages are embedded."""
    texts = []
    with open(ROOT / "data" / "sample" / "articles.jsonl", encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            words = article["text"].split()
            for start in range(0, len(words), 90):
                texts.append(f"{article['title']}. {' '.join(words[start:start + 90])}")
            if len(texts) >= count:
                return texts[:count]
    return texts


@pytest.fixture(scope="module")
def reference_model(embedder):
    """sentence-transformers running the same exported model as the default backend."""
    from sentence_transformers import SentenceTransformer

    from indexer.embed import export as openvino_export
    from indexer.embed import resolve_model

    folder, file_name, config = openvino_export.ensure(resolve_model(embedder.name),
                                                       embedder.backend)
    return SentenceTransformer(str(folder), backend="openvino", device="cpu",
                               model_kwargs={"file_name": file_name, "ov_config": config})

QUERIES = ["border wall funding", "Canada and Mexico join forces against US tariffs",
           "Who voted against the farm bill in the Senate, and what did they say about the "
           "crop insurance changes for small growers? " * 4, "中国 关税", "!!!", "a"]


def test_the_default_backend_needs_neither_torch_nor_sentence_transformers(tmp_path):
    import subprocess

    script = ("import sys; from indexer.embed import load_embedder;"
              " e = load_embedder('all-MiniLM-L6-v2');"
              " e.encode(['a passage']); e.encode_query('a query');"
              " print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
              " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_passage_vectors_match_the_sentence_transformers_path(embedder, reference_model):
    texts = sample_passages(80) + ["a", "中国 关税", "x " * 600]  # one is cut at the model's length
    got = embedder.encode(texts)
    expected = reference_model.encode(texts, batch_size=16, normalize_embeddings=True)
    assert got.shape == expected.shape and got.dtype == np.float32
    cosines = (got * expected).sum(axis=1)
    # int8 rounds activations per batch, so padding to other lengths moves vectors a little.
    assert cosines.min() > 0.9995, cosines.min()


def test_the_default_backend_agrees_with_torch(embedder):
    """The rule the default was chosen by: mean cosine to torch's vectors at least 0.99."""
    from indexer.embed import load_embedder

    if embedder.backend == "torch":
        pytest.skip("the default backend is torch")
    texts = sample_passages(120)
    torch_vectors = load_embedder(embedder.name, backend="torch").encode(texts)
    cosines = (embedder.encode(texts) * torch_vectors).sum(axis=1)
    assert cosines.mean() >= 0.99 and cosines.min() > 0.95, (cosines.mean(), cosines.min())


def test_query_vectors_match_the_sentence_transformers_path(embedder, reference_model):
    from indexer.embed.openvino import OpenVINOEmbedder

    assert isinstance(embedder, OpenVINOEmbedder)  # the default backend takes the lean path
    expected = reference_model.encode(QUERIES, normalize_embeddings=True,
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


def test_passage_batches_and_overlapping_queries_compile_the_model_once(embedder):
    from indexer.embed import load_embedder

    if embedder.backend == "torch":
        pytest.skip("the default backend is torch")
    fresh = load_embedder(embedder.name, backend=embedder.backend)
    compiles = []
    compile_once = fresh._query_compile
    fresh._query_compile = lambda: compiles.append(1) or compile_once()
    texts = sample_passages(200)  # several batches, so they go through the pipeline
    assert np.allclose(fresh.encode(texts), embedder.encode(texts), atol=1e-5)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fresh.encode_query, QUERIES * 2))
    assert len(compiles) == 1


def test_the_model_compiles_where_its_compiled_cache_cannot_be_written(tmp_path):
    import openvino as ov

    from indexer.embed import export, resolve_model
    from indexer.embed.openvino import _compiled

    folder, name, config = export.ensure(resolve_model("all-MiniLM-L6-v2"), "openvino-int8")
    (tmp_path / "compiled").write_text("a file where the cache folder would go")
    feed = {"input_ids": np.array([[101, 7592, 2088, 102]]),
            "attention_mask": np.ones((1, 4), dtype=np.int64),
            "token_type_ids": np.zeros((1, 4), dtype=np.int64)}
    core = ov.Core()
    blocked = _compiled(core, str(folder / name), config, tmp_path)
    cached = _compiled(core, str(folder / name), config, folder)  # the usual place
    plain = core.compile_model(str(folder / name), "CPU", config)
    want = plain.create_infer_request().infer(feed)[0]
    for compiled in (blocked, cached):
        assert np.allclose(compiled.create_infer_request().infer(feed)[0], want, atol=1e-5)

"""A deterministic stand-in for the embedding model, for tests that do not test the model.

Like llm's ``EmbedDemo``: each word is hashed to a signed coordinate, so texts that share
words get similar vectors, the same text always gets the same vector, and nothing is loaded.
Tokens are words. Storage, CLI and web tests build their indexes with it; the end-to-end
tests of search quality, stories and the browser keep the real model.

Importing this module registers the fake under ``FAKE_MODEL``, as a plugin does: the test
session and every process a test starts name it in ``PRESSLENS_PLUGINS`` (conftest.py,
processes.py), so ``--model fake-hashed-words`` loads it wherever a model is loaded.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace

from indexer.embed import Embedder, register_embedder

FAKE_MODEL = "fake-hashed-words"
_WORD = re.compile(r"\w+")


class FakeEmbedder(Embedder):
    def __init__(self, name: str = FAKE_MODEL, backend: str = "openvino-int8",
                 batch_size: int = 32, dimension: int = 64):
        words = Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
        words.pre_tokenizer = Whitespace()
        super().__init__(name, backend, batch_size, dimension=dimension, max_tokens=256,
                         fast_tokenizer=words)
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            vector[value % self.dimension] += 1.0 if value >> 63 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vector(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def load_fake(name: str, backend: str, batch_size: int, device: str) -> FakeEmbedder:
    """The fake as ``load_embedder`` hands it out: named, on the backend and device asked
    for, so an index built with it records them as it would a real model's."""
    fake = FakeEmbedder(name, backend, batch_size)
    fake.device = device
    return fake


register_embedder(FAKE_MODEL, load_fake)

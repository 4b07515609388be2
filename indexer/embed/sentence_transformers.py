"""Models run by sentence-transformers: the torch backend, and OpenVINO models whose folder
is not of the usual shape (see ``openvino.py``).

The only module of the package that imports sentence-transformers or transformers (the
absolute imports below reach the library, not this module, whatever its name).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sentence_transformers import SentenceTransformer
from transformers.utils import logging as transformers_logging

from .base import Embedder


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model, called by one thread at a time.

    ``location`` is a loadable model folder (``indexer.embed.resolve_model``).
    """

    def __init__(self, name: str, location: str, backend: str, batch_size: int = 32,
                 device: str = "cpu"):
        self.model = _load(location, backend, device)
        self.device = device
        fast = getattr(self.model.tokenizer, "backend_tokenizer", None)
        dimension = self.model.get_embedding_dimension()
        if dimension is None:  # load_embedder reports it as a model it cannot load
            raise ValueError("the model does not say the dimension of its vectors")
        super().__init__(name, backend, batch_size, dimension=int(dimension),
                         max_tokens=self.model.max_seq_length or 256,
                         fast_tokenizer=fast, slow_tokenizer=self.model.tokenizer)
        # A sentence-transformers model is called by one thread at a time.
        self._lock = threading.Lock()
        # Queries waiting for the model; see encode_query.
        self._waiting: list[_Query] = []
        self._waiting_lock = threading.Lock()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's unit vector.

        A server answers many queries at once. Queries that arrive while the model is busy
        wait together, and the first of them to get the model embeds all of them in one
        batch: one call instead of several, each with its own overhead.
        """
        query = _Query(text)
        with self._waiting_lock:
            self._waiting.append(query)
        with self._lock:
            if not query.done:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    vectors = self.model.encode(
                        [q.text for q in batch], batch_size=len(batch),
                        normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)
                except Exception as error:
                    for waiting in batch:
                        waiting.error, waiting.done = error, True
                else:
                    for waiting, vector in zip(batch, vectors, strict=True):
                        waiting.vector, waiting.done = vector.astype(np.float32), True
        if query.error is not None:
            raise query.error
        assert query.vector is not None  # done, and without an error
        return query.vector


def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU here."""
    import torch

    return bool(torch.cuda.is_available())


def _load(location: str, backend: str, device: str = "cpu") -> SentenceTransformer:
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    if backend == "torch":
        model = SentenceTransformer(location, device=device)
        # On a GPU, half precision: about twice the speed, vectors within rounding of fp32
        # (cached apart from them, see base.cache_key).
        return model.half() if device == "cuda" else model
    from . import export as openvino_export

    openvino_export.quiet()
    folder, file_name, config = openvino_export.ensure(location, backend)
    return SentenceTransformer(str(folder), backend="openvino", device="cpu",
                               model_kwargs={"file_name": file_name, "ov_config": config})


@dataclass
class _Query:
    text: str
    vector: np.ndarray | None = None
    error: Exception | None = None
    done: bool = False

"""What every embedding backend offers: token counts for chunking, and unit vectors.

The backends differ only in how a batch of texts becomes vectors and how one query does;
everything else (the cache-key rule, longest-first grouping, token counting and splitting)
is the same for all and lives here, so the backends cannot drift apart on it.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# The precision each device runs the torch backend in.
PRECISION = {"cpu": "fp32", "cuda": "fp16"}


def cache_key(model: str, backend: str, device: str = "cpu") -> str:
    """What a model's vectors are cached under: each backend's vectors differ slightly, and
    so do torch's on a GPU in half precision, which are never mixed with the CPU's.

    A function as well as ``Embedder.cache_key``, so the indexer can name an index's cached
    vectors from its metadata without loading the model.
    """
    if backend != "torch":
        return f"{model}@{backend}"
    return model if device == "cpu" else f"{model}@torch-{device}-{PRECISION[device]}"


def plan_batches(lengths: Sequence[int] | np.ndarray, budget: int, multiple: int, max_tokens: int,
                 max_rows: int) -> list[tuple[int, int, int]]:
    """Batches of texts sorted longest first, as (start, end, padded length).

    Each batch is padded to its first (longest) text rounded up to ``multiple`` tokens, and
    holds as many texts as fit in ``budget`` tokens of input, padding included, up to
    ``max_rows``: short texts go many to a batch, long ones few, and every input shape is a
    multiple the CPU kernels handle well.
    """
    batches = []
    start = 0
    while start < len(lengths):
        width = min(max_tokens, max(multiple, -(-int(lengths[start]) // multiple) * multiple))
        rows = max(1, min(max_rows, budget // width))
        end = min(len(lengths), start + rows)
        batches.append((start, end, width))
        start = end
    return batches


class Embedder(ABC):
    """One loaded model: counts tokens for chunking and turns texts into unit vectors.

    Made by ``indexer.embed.load_embedder``, which picks the backend class. A subclass sets
    ``dimension`` and ``max_tokens``, hands its tokenizer to ``__init__``, and implements
    ``_encode_batch`` and ``encode_query``.
    """

    name: str
    backend: str
    # Where the model runs (see indexer.settings.DEVICES); only torch runs elsewhere.
    device: str = "cpu"
    batch_size: int
    dimension: int
    max_tokens: int

    def __init__(self, name: str, backend: str, batch_size: int, *, dimension: int,
                 max_tokens: int, fast_tokenizer: Any = None, slow_tokenizer: Any = None):
        """``fast_tokenizer`` is a ``tokenizers.Tokenizer``; ``slow_tokenizer`` (a
        transformers tokenizer) is used only for a model that has no fast one."""
        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        self.dimension = dimension
        self.max_tokens = max_tokens
        self._slow_tokenizer: Any = None if fast_tokenizer is not None else slow_tokenizer
        # The fast tokenizer itself, without truncation, counts a quarter faster than the
        # transformers wrapper and sees past the model's length.
        self._counter = copy.deepcopy(fast_tokenizer) if fast_tokenizer is not None else None
        if self._counter is not None:
            self._counter.no_truncation()
            self._counter.no_padding()

    @property
    def cache_key(self) -> str:
        """What this model's vectors are cached under (see ``cache_key``)."""
        return cache_key(self.name, self.backend, self.device)

    @property
    def passage_tokens(self) -> int:
        """Room for text in one model input (the model adds two special tokens)."""
        return self.max_tokens - 2

    # Tokenizer protocol used by chunking -------------------------------------------------
    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens in each text, without the special tokens the model adds."""
        if not texts:
            return []
        if self._counter is None:  # a model without a fast tokenizer
            encoded = self._slow_tokenizer(list(texts), add_special_tokens=False)
            return [len(ids) for ids in encoded["input_ids"]]
        return [len(e.ids) for e in self._counter.encode_batch(list(texts),
                                                                add_special_tokens=False)]

    def split(self, text: str, max_tokens: int) -> list[tuple[int, int]]:
        """Character spans of consecutive windows of at most ``max_tokens`` tokens."""
        if self._counter is None:
            offsets = self._slow_tokenizer(text, add_special_tokens=False,
                                           return_offsets_mapping=True)["offset_mapping"]
        else:
            offsets = self._counter.encode(text, add_special_tokens=False).offsets
        spans = []
        for i in range(0, len(offsets), max_tokens):
            window = offsets[i:i + max_tokens]
            spans.append((window[0][0], window[-1][1]))
        # Extend each window to the start of the next so no character is lost.
        return [(s, spans[k + 1][0] if k + 1 < len(spans) else len(text))
                for k, (s, _) in enumerate(spans)]

    # Vectors ------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str],
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, in the order of ``texts``.

        Texts are embedded longest first in groups, so each batch pads to similar lengths;
        ``progress`` is called with the number of texts done after each group.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for idx in self.plan(texts):
            vectors = self._encode_batch([texts[j] for j in idx])
            out[idx] = vectors.astype(np.float32, copy=False)
            if progress:
                progress(len(idx))
        return out

    def plan(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The groups ``encode`` runs through the model, in its order, as indices into
        ``texts``: longest first, ``batch_size`` × 8 texts a group.

        ``encode`` of the texts of consecutive groups, in this order, runs exactly these
        groups again, so the work can be cut at group boundaries and sent elsewhere (the Ray
        engine does) without changing what the model sees.
        """
        order = np.argsort([-len(t) for t in texts], kind="stable")
        group = self.batch_size * 8
        return [order[i:i + group] for i in range(0, len(order), group)]

    @abstractmethod
    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors of one group of texts of similar length (up to eight batches of
        ``batch_size``), in order; the backend cuts it into batches."""

    @abstractmethod
    def encode_query(self, text: str) -> np.ndarray:
        """One query's unit float32 vector; safe to call from many threads at once."""

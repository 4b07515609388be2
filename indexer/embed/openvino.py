"""A sentence-transformers model run straight through OpenVINO: tokenize, infer, mean-pool,
normalize.

sentence-transformers' own path costs more than the model for one short text (measured
here: 15.8 ms against 5.0 ms a query, the same vectors to a cosine of 0.99999), and
loading it means importing torch and transformers. This reads the exported model, the fast
tokenizer and the pooling settings from the model folder, and imports neither: only
OpenVINO, tokenizers and numpy (tests/test_embed.py holds it to that).
"""

from __future__ import annotations

import copy
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
from tokenizers import Tokenizer

from . import export as openvino_export
from .base import Embedder, plan_batches

_USUAL_MODULES = (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
# Inputs are padded to a multiple of this many tokens, and a batch holds batch_size × 128
# tokens of input (see plan_batches and docs/embedding.md for the measurements).
PAD_MULTIPLE = 16
TOKENS_PER_ROW = 128
# Passage batches run one per core, several in flight, instead of each batch split across
# every core (see docs/embedding.md for the measurement).
OVERLAP = True
# A query that follows another by less than this many seconds finds the server busy: it runs
# on one core (the compilation with a stream per core) rather than on all of them. Measured
# with 8 concurrent callers on 2 cores: 2.4 ms of CPU a query that way, against 4.1 ms on
# every core, whose worker threads also spin on after each query while the caller goes on
# with the rest of the search. A query alone gets every core: 1.5 ms against 2.6 ms.
BUSY_WITHIN = 0.05


def _usual_shape(root: Path) -> tuple[dict, bool] | None:
    """The folder's sentence-transformers settings and whether it normalizes, when its
    modules are a transformer with mean pooling and a fast tokenizer; else None."""
    try:
        modules = json.loads((root / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in _USUAL_MODULES:
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
    return settings, len(kinds) == 3


def _compiled(core: ov.Core, model: str, config: dict, folder: Path):
    """The model compiled for the CPU, through OpenVINO's cache of compiled models beside
    the export (0.1-0.2 s a compilation once cached, against 0.5 s; each process compiles
    twice). A cache that cannot be written only costs the time."""
    try:
        return core.compile_model(model, "CPU", {**config, "CACHE_DIR": str(folder / "compiled")})
    except RuntimeError:
        return core.compile_model(model, "CPU", config)


class OpenVINOEmbedder(Embedder):
    """A model of the usual shape on an OpenVINO backend, with no sentence-transformers.

    A query on a quiet server runs on all cores at once (OpenVINO's latency setting), for the
    lowest latency. Queries that come close together (``BUSY_WITHIN``) or overlap get a
    second compilation of the same model, made on the first query, with one stream per core
    and one thread per stream: they then run side by side, each on a core of its own,
    instead of every query splitting both cores with the others and paying for the threads
    that wait. Passage batches run on that one too, several in flight (see ``encode``).
    """

    def __init__(self, name: str, backend: str, batch_size: int, compiled, tokenizer,
                 max_tokens: int, normalize: bool, query_compile: Callable[[], Any]):
        self._query_compile = query_compile
        self._queries_ready = threading.Lock()
        self._output = compiled.outputs[0]
        self._inputs = {i.get_any_name() for i in compiled.inputs}
        super().__init__(name, backend, batch_size,
                         dimension=int(self._output.get_partial_shape()[-1].get_length()),
                         max_tokens=max_tokens, fast_tokenizer=tokenizer)
        self._single = copy.deepcopy(tokenizer)
        self._single.no_padding()
        self._single.enable_truncation(max_tokens)
        pad = tokenizer.padding or {}
        self._pad_id = pad.get("pad_id", tokenizer.token_to_id("[PAD]") or 0)
        self._normalize = normalize
        self._batches: queue.Queue = queue.Queue()
        self._batches.put(compiled.create_infer_request())
        self._queries: queue.Queue | None = None
        self._streams: tuple[Any, int] | None = None
        self._async: ov.AsyncInferQueue | None = None
        self._encoding = threading.Lock()
        self.overlap = OVERLAP
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._last_query = float("-inf")  # when the last query began (time.monotonic)

    @classmethod
    def load(cls, name: str, location: str, backend: str,
             batch_size: int = 32) -> OpenVINOEmbedder | None:
        """The model in ``location`` on an OpenVINO backend, or None when its modules are not
        a transformer with mean pooling (then sentence-transformers runs it)."""
        root = Path(location)
        shape = _usual_shape(root)
        if shape is None:
            return None
        settings, normalize = shape
        tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        max_tokens = int(settings.get("max_seq_length") or 256)
        folder, file_name, config = openvino_export.ensure(location, backend)
        core = ov.Core()
        model = str(folder / file_name)
        compiled = _compiled(core, model, config, folder)
        streams = str(max(1, min(4, os.cpu_count() or 1)))
        query_config = {**config, "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": streams}
        return cls(name, backend, batch_size, compiled, tokenizer, max_tokens,
                   normalize=normalize,
                   query_compile=lambda: _compiled(core, model, query_config, folder))

    def _per_core(self) -> tuple[Any, int]:
        """The compilation with a stream per core, made once on first need (queries that
        overlap and passage batches both run on it), and its number of requests."""
        with self._queries_ready:
            if self._streams is None:
                compiled = self._query_compile()
                self._streams = (compiled, max(1, int(
                    compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))))
        return self._streams

    def _query_requests(self) -> queue.Queue:
        compiled, count = self._per_core()
        with self._queries_ready:
            if self._queries is None:
                requests: queue.Queue = queue.Queue()
                for _ in range(count):
                    requests.put(compiled.create_infer_request())
                self._queries = requests
        return self._queries

    def _infer(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray,
               requests: queue.Queue) -> np.ndarray:
        request = requests.get()
        try:
            tokens = np.array(request.infer(self._feed(ids, mask, types))[0], dtype=np.float32)
        finally:
            requests.put(request)
        return self._pool(tokens, mask)

    def _padded(self, encodings: list, width: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token ids, attention mask and token types of ``encodings``, padded to ``width``."""
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
            types[row, :len(e.ids)] = e.type_ids
        return ids, mask, types

    def _feed(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> dict:
        """The model's inputs, token types only where the model takes them."""
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = types
        return feed

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean of the token vectors the mask keeps, then unit length."""
        weights = mask.astype(np.float32)[:, :, None]
        vectors = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        if self._normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms > 0, norms, 1.0)
        return vectors.astype(np.float32)

    def _pipeline(self) -> ov.AsyncInferQueue:
        """Requests on the compilation with a stream per core, to keep a batch in flight on
        each core while the next one is made ready (see ``encode``)."""
        compiled, count = self._per_core()
        with self._queries_ready:
            if self._async is None:
                self._async = ov.AsyncInferQueue(compiled, max(2, count))
        return self._async

    def encode_query(self, text: str) -> np.ndarray:
        """One text's vector (thread-safe); see the class docstring for which compilation."""
        e = self._single.encode(text)
        queries = self._query_requests()
        with self._in_flight_lock:
            self._in_flight += 1
            now = time.monotonic()
            alone = (self._in_flight == 1 and now - self._last_query >= BUSY_WITHIN
                     and not self._batches.empty())
            self._last_query = now
        # Padded to a multiple of PAD_MULTIPLE, as passage batches are: a handful of shapes
        # rather than one per length (measured on one core: 2.9 ms a judged query padded to
        # 16 against 3.4 ms unpadded, and 3.5 against 5.3 ms on the stream-per-core
        # compilation, which meets a new shape more often).
        ids, mask, types = self._padded([e], -(-len(e.ids) // PAD_MULTIPLE) * PAD_MULTIPLE)
        try:
            return self._infer(ids, mask, types, self._batches if alone else queries)[0]
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def encode(self, texts: Sequence[str],
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit vectors in the order of ``texts``: tokenized once, sorted by token count,
        and cut into batches by a token budget (``plan_batches``)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encoded = self._single.encode_batch(list(texts))
        order, batches = self._planned(encoded)
        with self._encoding:  # one caller at a time on the pipeline's requests
            return self._run(encoded, order, batches, out, progress)

    def _planned(self, encoded: list) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """The order of the texts (most tokens first) and the batches cut from it."""
        lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64,
                              count=len(encoded))
        order = np.argsort(-lengths, kind="stable")
        return order, plan_batches(lengths[order], self.batch_size * TOKENS_PER_ROW,
                                   PAD_MULTIPLE, self.max_tokens, 4 * self.batch_size)

    def plan(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The batches ``encode`` runs, by token budget (``plan_batches``), as indices into
        ``texts``; ``encode`` of consecutive ones, in this order, runs the same batches."""
        if not texts:
            return []
        order, batches = self._planned(self._single.encode_batch(list(texts)))
        return [order[start:end] for start, end, _ in batches]

    def _run(self, encoded: list, order: np.ndarray, batches: list[tuple[int, int, int]],
             out: np.ndarray, progress: Callable[[int], None] | None) -> np.ndarray:
        pipeline = self._pipeline() if self.overlap and len(batches) > 1 else None
        failed: list[BaseException] = []

        def done(request, job) -> None:
            rows, mask = job
            try:
                out[rows] = self._pool(np.array(request.get_output_tensor(0).data,
                                                dtype=np.float32), mask)
                if progress:
                    progress(len(rows))
            except BaseException as error:  # raised again in the caller's thread
                failed.append(error)

        if pipeline is not None:
            pipeline.set_callback(done)
        for start, end, width in batches:
            rows = order[start:end]
            ids, mask, types = self._padded([encoded[j] for j in rows], width)
            if pipeline is None:
                out[rows] = self._infer(ids, mask, types, self._batches)
                if progress:
                    progress(len(rows))
                continue
            pipeline.start_async(self._feed(ids, mask, types), (rows, mask))
        if pipeline is not None:
            pipeline.wait_all()
        if failed:
            raise failed[0]
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

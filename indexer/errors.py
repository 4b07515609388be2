"""What can go wrong with an index or a model, as typed errors that carry their facts.

Library code raises these; only the command line and the web service turn them into words
a person acts on (``search/messages.py``), because only they know which command was run and
with which index folder. ``str()`` of each is a plain sentence for logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PressLensError(Exception):
    """Something a person can cause or fix; the fields say what."""

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:  # pragma: no cover - every subclass has its own
        return type(self).__name__


@dataclass(eq=False)
class IndexNotFound(PressLensError):
    """There is no index in ``index_dir``."""

    index_dir: Path

    def describe(self) -> str:
        return f"no index in {self.index_dir}"


@dataclass(eq=False)
class IndexOutdated(PressLensError):
    """The index was written by an older release; indexing again brings it up to date."""

    index_dir: Path

    def describe(self) -> str:
        return f"the index in {self.index_dir} was made by an older PressLens"


@dataclass(eq=False)
class IndexMismatch(PressLensError):
    """The index was built with one setting and another was asked for.

    ``setting`` is one of model, backend, device, chunk_tokens, title_prefix or dimension.
    """

    index_dir: Path
    setting: str
    built_with: object
    asked: object

    def describe(self) -> str:
        return (f"the index in {self.index_dir} was built with {self.setting} "
                f"{self.built_with!r}, not {self.asked!r}")


@dataclass(eq=False)
class IndexBusy(PressLensError):
    """Another build holds the index's write lock."""

    index_dir: Path

    def describe(self) -> str:
        return f"another build is updating the index in {self.index_dir}"


@dataclass(eq=False)
class IndexDamaged(PressLensError):
    """A generation failed verification; ``problem`` says how. The live one is untouched."""

    generation: str
    problem: str

    def describe(self) -> str:
        return f"generation {self.generation}: {self.problem}"


@dataclass(eq=False)
class ModelNotAvailable(PressLensError):
    """The embedding model cannot be loaded here; ``reason`` says why."""

    model: str
    backend: str | None
    reason: str
    # The package that would provide it, when a missing package is the reason.
    package: str | None = None

    def describe(self) -> str:
        on = f" with backend {self.backend}" if self.backend else ""
        return f"cannot load model {self.model!r}{on}: {self.reason}"


@dataclass(eq=False)
class DeviceUnsupported(PressLensError):
    """The model cannot run on ``device`` with ``backend``: the backend does not run there,
    or (``present`` false) the device is not on this machine."""

    model: str
    backend: str
    device: str
    present: bool = True

    def describe(self) -> str:
        said = f"cannot load model {self.model!r} with backend {self.backend}"
        if not self.present:
            return (f"{said}: the {self.device} device is not on this machine "
                    "(torch.cuda.is_available() is false)")
        return (f"{said}: the {self.device} device runs only the torch backend (OpenVINO "
                "runs on the CPU)")


@dataclass(eq=False)
class NothingRead(PressLensError):
    """No article could be read from any of the paths; the index was left as it was.

    ``skipped`` holds (origin, reason) of what was found and not read, if anything.
    """

    index_dir: Path
    paths: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        where = ", ".join(map(str, self.paths))
        return f"no article could be read from {where}; the index in {self.index_dir} is unchanged"


@dataclass(eq=False)
class DiskFull(PressLensError):
    """The disk filled during a build; the build was rolled back, the live state stays."""

    index_dir: Path
    detail: str

    def describe(self) -> str:
        return (f"the disk holding {self.index_dir} is full ({self.detail}); the build was "
                "rolled back and the index is as it was")


@dataclass(eq=False)
class BadOutletsFile(PressLensError):
    """An outlets file (given to a build) that cannot be used as it is; nothing
    was indexed. ``row`` is the row of the file at fault, counting the header as row 1."""

    path: Path
    reason: str
    row: int | None = None

    def describe(self) -> str:
        where = f"{self.path}, row {self.row}" if self.row is not None else f"{self.path}"
        return f"outlets file {where}: {self.reason}; nothing was indexed"


@dataclass(eq=False)
class ClusterUnavailable(PressLensError):
    """The Ray cluster a build embeds on cannot be reached or started;
    nothing was indexed."""

    address: str | None
    reason: str

    def describe(self) -> str:
        where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
        return f"cannot use {where}: {self.reason}; nothing was indexed"


@dataclass(eq=False)
class ClusterFailed(PressLensError):
    """Embedding on the Ray cluster failed part way; the vectors that came back are cached,
    and the live index is as it was."""

    address: str | None
    reason: str
    cached: int = 0

    def describe(self) -> str:
        where = f"the Ray cluster at {self.address}" if self.address else "the local Ray"
        return (f"embedding on {where} failed ({self.reason}); {self.cached:,} new vector(s) "
                "that came back are cached, the live index is unchanged, and a rerun embeds "
                "only the rest")

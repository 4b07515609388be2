"""The words for what went wrong: each typed error as one line that names the command to run.

Only the command line and the web service speak to people, and only they know the index
folder a person asked for, so the exact command (with ``--index``) is written here, from the
error's fields, for both.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from indexer.errors import (
    DeviceUnsupported,
    IndexBusy,
    IndexDamaged,
    IndexMismatch,
    IndexNotFound,
    IndexOutdated,
    ModelNotAvailable,
    NothingRead,
    PressLensError,
)


def presslens(index_dir: Path | None, *args: str) -> str:
    """A ``presslens`` command line, with ``--index`` when a folder was named."""
    where = ["--index", str(index_dir)] if index_dir is not None else []
    return shlex.join(["presslens", *where, *args])


def _setting_flag(setting: str, value: object) -> list[str]:
    if setting == "title_prefix":
        return ["--title-prefix" if value else "--no-title-prefix"]
    return [f"--{setting.replace('_', '-')}", str(value)]


def explain(error: PressLensError, index_dir: Path | None, searching: bool = False) -> str:
    """One line for ``error``; ``index_dir`` is the folder as the person named it (None for
    the default), and ``searching`` says the index was opened to be searched, not built."""
    if isinstance(error, IndexNotFound):
        return (f"no index in {error.index_dir}. Build one with: "
                f"{presslens(index_dir, 'index', 'PATH')} (a file or folder of articles)")
    if isinstance(error, IndexOutdated):
        return (f"the index in {error.index_dir} was made by an older PressLens; update it "
                f"with: {presslens(index_dir, 'index')}")
    if isinstance(error, IndexMismatch):
        return _mismatch(error, index_dir, searching)
    if isinstance(error, IndexBusy):
        return (f"another `presslens index` is updating {error.index_dir}; wait for it to "
                "finish")
    if isinstance(error, IndexDamaged):
        return (f"the new generation failed its check and was not switched to ({error}); "
                f"the live one is unchanged. Build again with: "
                f"{presslens(index_dir, 'index')}")
    if isinstance(error, NothingRead):
        reasons = "; ".join(f"{origin}: {reason}" for origin, reason in error.skipped[:5])
        more = f" (and {len(error.skipped) - 5} more)" if len(error.skipped) > 5 else ""
        return f"{error}" + (f" ({reasons}{more})" if reasons else " (no article files found)")
    if isinstance(error, DeviceUnsupported):
        return _device(error)
    if isinstance(error, ModelNotAvailable):
        if error.package:
            return (f"{error}. The model comes from the package {error.package}: install it "
                    "with `make setup`")
        return (f"{error}. Give a sentence-transformers model folder with --model; nothing "
                "is downloaded at run time")
    return str(error)


def _device(error: DeviceUnsupported) -> str:
    said = f"cannot load model {error.model!r} with backend {error.backend}"
    if not error.present:
        reason = (f"--device {error.device} asks for a CUDA GPU, and torch sees none on this "
                  "machine (torch.cuda.is_available() is false); give --device cpu")
    else:
        reason = (f"the {error.device} device runs only the torch backend (OpenVINO runs on "
                  f"the CPU): give --backend torch with --device {error.device}, or "
                  "--device cpu")
    return (f"{said}: {reason}. Give a sentence-transformers model folder with --model; "
            "nothing is downloaded at run time")


def _mismatch(error: IndexMismatch, index_dir: Path | None, searching: bool) -> str:
    if error.setting == "dimension":
        return (f"the vector index in {error.index_dir} has dimension {error.built_with}, "
                f"the model makes {error.asked}; rebuild it with: "
                f"{presslens(index_dir, 'index', '--rebuild', 'PATH')}")
    rebuild = presslens(index_dir, "index", "--rebuild",
                        *_setting_flag(error.setting, error.asked), "PATH")
    said = (f"the index in {error.index_dir} was built with {error.setting} "
            f"{error.built_with!r}")
    if searching:
        return (f"{said}; it cannot be searched with {error.asked!r}. Search without "
                f"--{error.setting.replace('_', '-')}, or rebuild it: {rebuild}")
    return f"{said}, not {error.asked!r}; re-embed everything with: {rebuild}"


def for_page(error: PressLensError, index_dir: Path) -> str:
    """The sentence a page or a 503 answer shows when the index cannot be served."""
    line = explain(error, index_dir, searching=True)
    if isinstance(error, IndexNotFound):
        return (f"No search index is loaded from {index_dir}. Build one with "
                f"`{presslens(index_dir, 'index', 'PATH')}` (PATH: a file or folder of "
                "collected articles), then reload this page.")
    if isinstance(error, IndexOutdated):
        return line[:1].upper() + line[1:]
    return f"The index in {index_dir} cannot be searched: {line}"

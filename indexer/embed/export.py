"""OpenVINO copies of a sentence-transformers model, made locally and cached.

The fp32 IR is exported from the model folder; the int8 model is quantized statically with
NNCF, calibrated on real passages (the shipped sample collection), never on a data set
fetched from a hub.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

INT8_FILE = "openvino/openvino_model_int8_static.xml"
FP32_FILE = "openvino/openvino_model.xml"
CALIBRATION_SIZE = 300
# Passage-sized pieces of the shipped sample collection (the first 100-word pieces of its
# first articles), shipped inside the package so that an installed copy quantizes the
# model exactly as a checkout does.
CALIBRATION = Path(__file__).resolve().parent / "calibration.txt"


def cache_root() -> Path:
    configured = os.environ.get("PRESSLENS_MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "presslens" / "models"


def quiet() -> None:
    """The exporters warn about things that do not matter for inference; keep output clean."""
    # Importing optimum sets its loggers' levels, so set them after it is imported.
    import optimum.intel.openvino  # noqa: F401

    for name in ("optimum", "nncf", "openvino", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="optimum")
    warnings.filterwarnings("ignore", module="transformers")
    warnings.filterwarnings("ignore", module="torch")


def export_dir(location: str) -> Path:
    """Where the OpenVINO copy of a model lives: one folder per model content."""
    digest = hashlib.sha1()
    root = Path(location)
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and path.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(str(path.stat().st_size).encode())
    digest.update(location.encode())
    return cache_root() / f"{root.name or 'model'}-{digest.hexdigest()[:12]}"


def ensure_fp32(location: str) -> Path:
    """The exported OpenVINO IR folder for a model, made once."""
    target = export_dir(location)
    if (target / FP32_FILE).exists():
        return target
    quiet()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(location, backend="openvino", device="cpu")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Export beside the target and rename, so another process never sees half a folder.
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".export-"))
    model.save_pretrained(str(tmp))
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def ensure_int8(location: str) -> Path:
    """The folder holding the int8 model, quantized once from the fp32 IR, calibrated on
    passages of the shipped sample tokenized by the exported folder's own tokenizer."""
    target = ensure_fp32(location)
    if (target / INT8_FILE).exists():
        return target
    tokenize = _folder_tokenize(target)
    quiet()
    import nncf
    import openvino as ov

    texts = sample_passages()[:CALIBRATION_SIZE]
    model = ov.Core().read_model(str(target / FP32_FILE))
    names = [port.get_any_name() for port in model.inputs]
    items = []
    for text in texts:
        encoded = tokenize(text)
        items.append({name: encoded[name] for name in names})
    quantized = nncf.quantize(model, nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
                              subset_size=len(items))
    tmp = target / f"{INT8_FILE}.{os.getpid()}.xml"
    ov.save_model(quantized, str(tmp))
    os.replace(tmp, target / INT8_FILE)
    os.replace(tmp.with_suffix(".bin"), (target / INT8_FILE).with_suffix(".bin"))
    return target


def ensure(location: str, backend: str) -> tuple[Path, str, dict]:
    """The exported folder, model file and OpenVINO settings for an OpenVINO backend."""
    if backend == "openvino-int8":
        return ensure_int8(location), INT8_FILE, {"PERFORMANCE_HINT": "LATENCY"}
    precision = {"openvino-fp32": "f32", "openvino-bf16": "bf16"}[backend]
    return ensure_fp32(location), FP32_FILE, {"PERFORMANCE_HINT": "LATENCY",
                                             "INFERENCE_PRECISION_HINT": precision}


def _folder_tokenize(folder: Path) -> Callable[[str], dict]:
    import numpy as np
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)

    def tokenize(text: str) -> dict:
        e = tokenizer.encode(text)
        return {"input_ids": np.array([e.ids], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids], dtype=np.int64)}

    return tokenize


def sample_passages() -> list[str]:
    """The calibration passages, in a fixed order."""
    if not CALIBRATION.exists():
        raise FileNotFoundError(f"{CALIBRATION} is needed to calibrate int8 quantization")
    passages = CALIBRATION.read_text(encoding="utf-8").splitlines()
    return [passage for passage in passages if passage][:CALIBRATION_SIZE]

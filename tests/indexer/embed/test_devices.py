"""Where the torch backend runs: the CPU in full precision or a CUDA GPU in half precision,
recorded in the index, with vectors of each cached apart."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.build import build_index
from indexer.embed import cache_key, cuda_available, load_embedder
from indexer.errors import DeviceUnsupported, IndexMismatch
from indexer.settings import DEFAULT_MODEL, Settings
from indexer.storage import generations
from indexer.storage.config import choose, recorded
from indexer.storage.reader import IndexReader
from search.cli import cli
from search.engine import query_device

NO_CUDA = not cuda_available()


def live_meta(index_dir) -> dict[str, str]:
    return IndexReader.open(generations.live_database(index_dir)).get_meta()


def test_gpu_vectors_are_cached_apart_from_cpu_vectors_and_cpu_keys_are_unchanged():
    keys = {cache_key("m", "torch", "cpu"), cache_key("m", "torch", "cuda"),
            cache_key("m", "openvino-int8")}
    assert len(keys) == 3
    # The CPU's keys are those of indexes built before devices existed: their caches hold.
    assert cache_key("m", "torch", "cpu") == "m"
    assert cache_key("m", "openvino-int8") == "m@openvino-int8"
    assert cache_key("m", "torch", "cuda") == "m@torch-cuda-fp16"


def test_an_index_records_its_device_and_older_indexes_read_as_cpu(fake_settings, seeds_dir,
                                                                    fake_embedder):
    build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    assert live_meta(fake_settings.index_dir)["device"] == "cpu"
    assert recorded({"model": "m", "backend": "torch"})["device"] == "cpu"


def test_an_index_built_on_a_gpu_keeps_its_device_and_refuses_another():
    meta = {"model": "m", "backend": "torch", "device": "cuda"}
    assert choose(Settings(), meta).device == "cuda"
    with pytest.raises(IndexMismatch) as caught:
        choose(Settings(device="cpu"), meta)
    assert caught.value.setting == "device"
    # A new index takes the default device of its backend, which is the CPU's for OpenVINO.
    assert choose(Settings(), {}, default_device=lambda backend: "cpu").device == "cpu"


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a CUDA device")
def test_an_index_built_on_a_gpu_is_searched_from_the_cpu_where_there_is_none():
    assert query_device("cuda") == "cpu"
    assert query_device("cpu") == "cpu"


def test_cuda_with_an_openvino_backend_asks_for_torch(seeds_dir, tmp_path):
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "index",
                                      "--device", "cuda", str(seeds_dir)])
    assert result.exit_code == 1
    assert "runs only the torch backend" in result.output
    assert "give --backend torch with --device cuda" in result.output
    assert result.output == (
        "Error: cannot load model 'all-MiniLM-L6-v2' with backend openvino-int8: the cuda "
        "device runs only the torch backend (OpenVINO runs on the CPU): give --backend torch "
        "with --device cuda, or --device cpu. Give a sentence-transformers model folder with "
        "--model; nothing is downloaded at run time\n")
    assert generations.live_name(tmp_path / "index") is None


def test_an_unsupported_device_is_a_typed_error_with_its_facts():
    with pytest.raises(DeviceUnsupported) as caught:
        choose(Settings(device="cuda", backend="openvino-int8"), {})
    assert (caught.value.backend, caught.value.device, caught.value.present) == (
        "openvino-int8", "cuda", True)
    with pytest.raises(DeviceUnsupported) as caught:
        load_embedder(DEFAULT_MODEL, backend="openvino-fp32", device="cuda")
    assert "--" not in str(caught.value)


def test_an_unknown_device_is_a_usage_error(seeds_dir, tmp_path):
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "index",
                                      "--device", "gpu", str(seeds_dir)])
    assert result.exit_code == 2
    assert "'gpu' is not one of 'cpu', 'cuda'" in result.output


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_a_clear_error_and_indexes_nothing(seeds_dir, tmp_path):
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "index",
                                      "--backend", "torch", "--device", "cuda",
                                      str(seeds_dir)])
    assert result.exit_code == 1
    assert "torch sees none on this machine" in result.output
    assert "give --device cpu" in result.output
    assert result.output.endswith(
        "Error: cannot load model 'all-MiniLM-L6-v2' with backend torch: --device cuda asks "
        "for a CUDA GPU, and torch sees none on this machine (torch.cuda.is_available() is "
        "false); give --device cpu. Give a sentence-transformers model folder with --model; "
        "nothing is downloaded at run time\n")
    assert generations.live_name(tmp_path / "index") is None


@pytest.mark.skipif(NO_CUDA, reason="no CUDA device on this machine")
def test_on_a_gpu_torch_runs_in_half_precision_and_matches_the_cpu(seeds_dir, tmp_path):
    texts = ["Senate passes the border security bill", "Tariffs on steel imports rise"]
    gpu = load_embedder(DEFAULT_MODEL, backend="torch", device="cuda")
    cpu = load_embedder(DEFAULT_MODEL, backend="torch", device="cpu")
    assert gpu.cache_key != cpu.cache_key
    on_gpu, on_cpu = gpu.encode(texts), cpu.encode(texts)
    assert on_gpu.dtype == np.float32
    assert np.allclose(np.linalg.norm(on_gpu, axis=1), 1.0, atol=1e-2)
    assert (np.sum(on_gpu * on_cpu, axis=1) > 0.995).all()
    assert np.allclose(gpu.encode_query(texts[0]), on_gpu[0], atol=1e-2)
    # A new torch index goes to the GPU unless told, and says so.
    settings = Settings(index_dir=tmp_path / "index", backend="torch")
    build_index(settings, [seeds_dir])
    assert live_meta(settings.index_dir)["device"] == "cuda"

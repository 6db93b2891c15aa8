"""Exact inner-product search over unit vectors, on the CPU or (with faiss-gpu) the GPU.

The index is a FAISS ``IndexFlatIP``: catalogs are thousands of texts, where exact
search is both the fastest and the only one that never misses the nearest neighbour.
The GPU path only moves the same index to the device; everything else is shared. A
stored index is memory-mapped read-only, not copied into each process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normalizer.errors import IndexStoreError, MissingExtraError

__all__ = ["VectorIndex", "faiss_module"]


def faiss_module() -> Any:
    """Import faiss, or say which extra installs it."""
    try:
        import faiss
    except ImportError as exc:
        raise MissingExtraError("faiss", "cpu") from exc
    return faiss


def _mapped_flags(faiss: Any) -> int:
    """read_index flags that map a flat index read-only; faiss before 1.9 lacks them and
    copies the vectors instead (correct, only each process holds its own copy)."""
    return int(getattr(faiss, "IO_FLAG_MMAP_IFC", 0) | getattr(faiss, "IO_FLAG_READ_ONLY", 0))


class VectorIndex:
    """One locale's vectors; ``search`` returns (scores, row ids), best first."""

    def __init__(self, index: Any, device: str = "cpu") -> None:
        self.size = int(index.ntotal)
        self.dimensions = int(index.d)
        self._gpu_resources = None
        if device == "gpu":
            faiss = faiss_module()
            if not hasattr(faiss, "StandardGpuResources"):
                raise MissingExtraError("faiss with GPU support (faiss-gpu)", "gpu")
            self._gpu_resources = faiss.StandardGpuResources()
            index = faiss.index_cpu_to_gpu(self._gpu_resources, 0, index)
        self._index = index

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, device: str = "cpu") -> VectorIndex:
        faiss = faiss_module()
        index = faiss.IndexFlatIP(int(vectors.shape[1]))
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, device)

    @classmethod
    def read(cls, path: str, device: str = "cpu") -> VectorIndex:
        """Map the file's vectors read-only rather than copy them: the page cache holds one
        copy for every worker process serving the version (``serve --workers N``)."""
        faiss = faiss_module()
        try:
            return cls(faiss.read_index(path, _mapped_flags(faiss)), device)
        except RuntimeError as exc:
            raise IndexStoreError(f"cannot read FAISS index {path}: {exc}") from exc

    def write(self, path: str) -> None:
        faiss = faiss_module()
        index = self._index
        if self._gpu_resources is not None:
            index = faiss.index_gpu_to_cpu(index)
        try:
            faiss.write_index(index, path)
        except RuntimeError as exc:
            raise IndexStoreError(f"cannot write FAISS index {path}: {exc}") from exc

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

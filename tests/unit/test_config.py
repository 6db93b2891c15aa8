"""Settings: precedence flags > env > file > default, checks at the edge, secrets redacted."""

from pathlib import Path

import pytest

from normalizer.config import load_settings
from normalizer.errors import ConfigError


def test_defaults() -> None:
    s = load_settings({}, environ={})
    assert (s.embedder, s.host, s.port, s.metrics_port) == ("local", "127.0.0.1", 50051, 9464)
    assert s.min_confidence is None


def test_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("port: 1000\nmetrics-port: 1001\ntop_k: 3\n")
    env = {"NORMALIZER_PORT": "2000", "NORMALIZER_METRICS_PORT": "2001"}
    s = load_settings({"port": "3000", "host": None}, cfg, env)
    assert (s.port, s.metrics_port, s.top_k, s.host) == (3000, 2001, 3, "127.0.0.1")


@pytest.mark.parametrize(("flags", "message"), [
    ({"port": "70000"}, "--port=70000 must be at most 65535"),
    ({"port": "x"}, "--port='x' is not a valid int"),
    ({"embedder": "torch"}, "--embedder='torch' is not one of local, openai"),
    ({"min_confidence": "nan"}, "must be a finite number"),
    ({"min_confidence": "1.5"}, "must be at most 1.0"),
    ({"embedder": "openai"}, "--embedder openai needs --embedder-url URL and --embedder-model"),
    ({"workers": "0"}, "--workers=0 must be at least 1"),
    ({"embed_max_wait_ms": "-0.5"}, "--embed-max-wait-ms=-0.5 must be at least 0.0"),
    ({"embed_max_inflight": "0"}, "--embed-max-inflight=0 must be at least 1"),
    ({"answer_cache_mb": "0"}, "--answer-cache-mb=0.0 must be at least 0.01"),
    ({"load_shedding": "maybe"}, "--load-shedding='maybe' is not a valid boolean"),
])
def test_bad_values_name_the_setting(flags: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(flags, environ={})


def test_env_value_is_checked() -> None:
    with pytest.raises(ConfigError, match="environment NORMALIZER_TOP_K"):
        load_settings({}, environ={"NORMALIZER_TOP_K": "0"})


def test_unknown_config_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("prot: 1\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'prot'"):
        load_settings({}, cfg, {})


def test_optional_value_can_be_cleared() -> None:
    s = load_settings({}, environ={"NORMALIZER_EMBEDDER_DIMENSIONS": ""})
    assert s.embedder_dimensions is None


def test_secret_is_redacted() -> None:
    s = load_settings({"embedder": "openai", "embedder_url": "http://x", "embedder_model": "m",
                       "embedder_api_key": "sk-secret"}, environ={})
    assert "sk-secret" not in repr(s)
    assert "embedder_api_key='***'" in repr(s)


def test_flags_come_from_settings_with_aliases() -> None:
    import argparse

    from normalizer.config import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser, ("embedder_dimensions", "port"))
    args = parser.parse_args(["--dimensions", "256", "--port", "7"])
    s = load_settings(vars(args), environ={})
    assert (s.embedder_dimensions, s.port) == (256, 7)
    assert load_settings(vars(parser.parse_args([])), environ={}).embedder_dimensions is None


@pytest.mark.parametrize(("flags", "message"), [
    ({"tls_cert": "c.pem"}, "--tls-cert and --tls-key go together"),
    ({"tls_key": "k.pem"}, "--tls-cert and --tls-key go together"),
    ({"tls_client_ca": "ca.pem"}, "--tls-client-ca (mutual TLS) needs --tls-cert and --tls-key"),
    ({"breaker_probe_interval": "5", "breaker_probe_max": "1"},
     "--breaker-probe-max=1.0 must be at least --breaker-probe-interval=5.0"),
    ({"breaker_failures": "0"}, "--breaker-failures=0 must be at least 1"),
])
def test_settings_that_go_together(flags: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(flags, environ={})


def test_metrics_on_loopback_and_transcripts_hashed_unless_configured() -> None:
    s = load_settings({"host": "0.0.0.0"}, environ={})
    assert s.metrics_host == "127.0.0.1"
    assert s.log_transcripts is False


def test_a_boolean_flag_alone_means_true() -> None:
    from argparse import ArgumentParser

    from normalizer.config import add_arguments

    parser = ArgumentParser()
    add_arguments(parser, ("log_transcripts", "guard"))
    assert load_settings(vars(parser.parse_args(["--log-transcripts"])),
                         environ={}).log_transcripts is True
    assert load_settings(vars(parser.parse_args(["--guard", "false"])), environ={}).guard is False


def test_log_salt_is_redacted() -> None:
    s = load_settings({"log_salt": "pepper-42"}, environ={})
    assert "pepper-42" not in repr(s)

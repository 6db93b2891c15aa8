"""The exact-match key: NFKC, case folding, no punctuation or spaces."""

import pytest

from normalizer.catalog import surface_key


@pytest.mark.parametrize(("a", "b"), [
    ("  Turn ON the Lights!", "turn on the lights"),
    ("今天，天气怎么样？", "今天天气怎么样"),
    ("ＡＢＣ１２３", "abc123"),            # full-width forms
    ("打开 客厅 的 灯。", "打开客厅的灯"),
    ("what's\tthe\u3000weather", "whats the weather"),
    ("STRASSE", "straße"),                # case folding, not lowercasing
])
def test_same_key(a: str, b: str) -> None:
    assert surface_key(a) == surface_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("turn on the lights", "turn off the lights"),
    ("打开客厅的灯", "打开书房的灯"),
    ("set a timer for 10 minutes", "set a timer for 1 minutes"),
])
def test_different_key(a: str, b: str) -> None:
    assert surface_key(a) != surface_key(b)


def test_only_punctuation_is_empty() -> None:
    assert surface_key(" ?!。， ") == ""

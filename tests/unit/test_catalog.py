"""Catalog validation: every error kind is reported as file:line with what to fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from normalizer.catalog import canonical_locale, load_catalog
from normalizer.errors import CatalogError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(folder)
    return info.value.problems


GOOD = """\
locale: zh-CN
queries:
  - id: weather.today
    text: 今天的天气怎么样
    variants:
      - 今天天气如何
  - id: lights.on
    text: 打开灯
"""


def test_loads_valid_catalog_in_order(tmp_path: Path) -> None:
    write(tmp_path, "zh/a.yaml", GOOD)
    write(tmp_path, "en/b.yaml", "locale: en-us\nqueries:\n  - id: a\n    text: turn it on\n")
    catalog = load_catalog(tmp_path)
    assert list(catalog.locales) == ["en-US", "zh-CN"]
    zh = catalog.locales["zh-CN"]
    assert [q.id for q in zh] == ["weather.today", "lights.on"]
    assert zh[0].texts == ("今天的天气怎么样", "今天天气如何")
    assert zh[0].source.endswith("a.yaml:3")
    assert len(catalog) == 3


@pytest.mark.parametrize(("text", "line", "pattern"), [
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: x\n  - id: a\n    text: y\n",
     5, r"duplicate id 'a' in zh-CN; first defined at .*:3"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: x\n    colour: red\n",
     5, r"unknown key 'colour' in a query; allowed keys: id, text, variants"),
    ("locale: zh-CN\nversion: 2\nqueries: []\n", 2, r"unknown key 'version' in the file"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: ''\n", 4, r"text is empty"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: '   '\n", 4, r"text is empty"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: x\n    variants: ['']\n", 5,
     r"variant is empty"),
    ("locale: zh-CN\nqueries:\n  - id: Bad Id\n    text: x\n", 3, r"may only use a-z"),
    ("locale: zh-CN\nqueries:\n  - text: x\n", 3, r"query is missing 'id'"),
    ("locale: zh-CN\nqueries:\n  - id: a\n", 3, r"query is missing 'text'"),
    ("queries:\n  - id: a\n    text: x\n", 1, r"missing key 'locale'"),
    ("locale: chinese!\nqueries: []\n", 1, r"not a BCP-47 tag"),
    ("locale: zh-CN\nqueries: {a: 1}\n", 2, r"queries must be a list"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: [x]\n", 4, r"text must be a string"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: x\n    variants: y\n", 5,
     r"variants must be a list"),
    ("locale: zh-CN\nqueries:\n  - id: a\n    text: 打开灯\n  - id: b\n    text: 关灯\n"
     "    variants: ['打开 灯！']\n", 5, r"is the same text as '打开灯' of query 'a'"),
    ("locale: zh-CN\nqueries:\n  - id: a\n   text: x\n", 4, r"invalid YAML"),
    ("", 1, r"the file is empty"),
])
def test_every_error_names_file_and_line(tmp_path: Path, text: str, line: int,
                                         pattern: str) -> None:
    path = write(tmp_path, "cat.yaml", text)
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}:{line}: ") and re.search(pattern, p) for p in found), found


def test_duplicate_id_across_files_of_one_locale(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "locale: en-US\nqueries:\n  - id: x\n    text: one\n")
    second = write(tmp_path, "b.yaml", "locale: en-US\nqueries:\n  - id: x\n    text: two\n")
    (problem,) = problems(tmp_path)
    assert problem.startswith(f"{second}:3: duplicate id 'x'")


def test_same_id_in_two_locales_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "locale: en-US\nqueries:\n  - id: x\n    text: one\n")
    write(tmp_path, "b.yaml", "locale: zh-CN\nqueries:\n  - id: x\n    text: 一\n")
    assert set(load_catalog(tmp_path).locales) == {"en-US", "zh-CN"}


def test_reports_all_problems_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "locale: en-US\nqueries:\n  - id: A\n    text: x\n  - id: b\n"
                              "    text: ''\n")
    assert len(problems(tmp_path)) == 2


def test_missing_folder_and_no_files(tmp_path: Path) -> None:
    assert "not a directory" in problems(tmp_path / "nope")[0]
    assert "no *.yaml files" in problems(tmp_path)[0]


def test_shipped_catalog_is_valid_and_large(catalog_dir: Path) -> None:
    catalog = load_catalog(catalog_dir)
    assert set(catalog.locales) == {"zh-CN", "en-US"}
    for queries in catalog.locales.values():
        assert len(queries) >= 150


@pytest.mark.parametrize(("raw", "tag"), [("zh_cn", "zh-CN"), ("EN-us", "en-US"),
                                          ("zh-hans-cn", "zh-Hans-CN"), ("en", "en")])
def test_canonical_locale(raw: str, tag: str) -> None:
    assert canonical_locale(raw) == tag

"""Canonical-query catalog: load ``**/*.yaml``, validate, report every problem as ``file:line``.

A catalog file holds one locale::

    locale: zh-CN
    slots:                         # optional: values whose exchange changes the request
      room: [客厅, 卧室, 书房]
    queries:
      - id: weather.today          # unique within the locale: [a-z0-9_.-]+
        text: 今天的天气怎么样      # the standard phrasing Normalize returns
        variants: [今天天气如何]     # optional: other phrasings of the same request

YAML is read as a node tree (not plain dicts) so that each problem can name the
line it stands on. All problems are collected before raising ``CatalogError``.

Hostile files are problems like any other: a file over ``MAX_FILE_BYTES``, bytes
that are not UTF-8, nesting too deep to read, and keys that are not plain strings
(where an alias could make even printing the key take exponential time: "billion
laughs") are each reported as ``file:line: message``. Aliases are never expanded:
the reader only walks the few levels a catalog has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from normalizer.errors import CatalogError

__all__ = ["CanonicalQuery", "Catalog", "LocaleChanges", "SlotDeclaration", "canonical_locale",
           "diff_catalog", "load_catalog", "surface_key"]

ID_PATTERN = re.compile(r"^[a-z0-9_.-]+$")
LOCALE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
FILE_KEYS = ("locale", "queries", "slots")
REQUIRED_FILE_KEYS = ("locale", "queries")
SLOT_NAME_PATTERN = re.compile(r"^[a-z0-9_]+$")
MAX_FILE_BYTES = 8 * 1024 * 1024     # the shipped catalog is ~30 KB per file
SHOWN_KEY_CHARS = 40
QUERY_KEYS = ("id", "text", "variants")


_DROPPED_CATEGORIES = ("P", "S", "Z", "C")  # punctuation, symbols, separators, controls


def surface_key(text: str) -> str:
    """The surface form two texts must share to be the same request: NFKC, case-folded,
    without punctuation, symbols, separators and controls.

    ``" Turn ON the Lights!"`` -> ``"turnonthelights"``; ``"今天，天气？"`` -> ``"今天天气"``.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in _DROPPED_CATEGORIES)


@dataclass(frozen=True)
class CanonicalQuery:
    """One standard phrasing and the other phrasings of the same request."""

    id: str
    text: str
    variants: tuple[str, ...]
    source: str  # "file:line" of the entry, for messages

    @property
    def texts(self) -> tuple[str, ...]:
        """Every text indexed for this query: the canonical text first."""
        return (self.text, *self.variants)


@dataclass(frozen=True)
class SlotDeclaration:
    """Values a catalog file declares as one slot: exchanging them changes the request.

    Slot roles are derived from the catalog (matching/slots.py); a declaration adds what
    derivation cannot see, e.g. rooms that appear in one query each."""

    name: str
    values: tuple[str, ...]
    source: str  # "file:line" of the declaration


@dataclass(frozen=True)
class Catalog:
    """Canonical queries per locale, in file order, and the slots the files declare."""

    locales: dict[str, tuple[CanonicalQuery, ...]]
    slots: dict[str, tuple[SlotDeclaration, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(queries) for queries in self.locales.values())


@dataclass(frozen=True)
class LocaleChanges:
    """Query ids added, removed, and changed (text or variants) in one locale."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.removed)} removed, "
                f"{len(self.changed)} changed" if self else "no changes")


def diff_catalog(old: Mapping[str, Sequence[CanonicalQuery]], new: Catalog
                 ) -> dict[str, LocaleChanges]:
    """What ``new`` changes against ``old``, per locale of either (ids in catalog order)."""
    out = {}
    for locale in [*new.locales, *(loc for loc in old if loc not in new.locales)]:
        before = {q.id: q.texts for q in old.get(locale, ())}
        after = {q.id: q.texts for q in new.locales.get(locale, ())}
        out[locale] = LocaleChanges(
            added=tuple(i for i in after if i not in before),
            removed=tuple(i for i in before if i not in after),
            changed=tuple(i for i in after if i in before and before[i] != after[i]))
    return out


def canonical_locale(tag: str) -> str:
    """BCP-47 case conventions: ``zh_cn`` -> ``zh-CN``, ``EN-us`` -> ``en-US``."""
    parts = tag.replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2:
            out.append(part.upper())
        elif len(part) == 4:
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)


class _FileReader:
    """Reads one YAML file into queries, appending problems instead of raising."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems

    def where(self, node: Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(f"{self.where(node)}: {message}")

    def string(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.problem(node, f"{what} must be a string")
            return None
        value = str(node.value).strip()
        if not value:
            self.problem(node, f"{what} is empty; write the text or remove the entry")
            return None
        return value

    def mapping(self, node: Node, allowed: tuple[str, ...], what: str) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping with keys {', '.join(allowed)}")
            return None
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, f"a key in {what} is a list or mapping; keys are "
                                       f"plain words: {', '.join(allowed)}")
                continue
            key = str(key_node.value)
            if key not in allowed:
                self.problem(key_node, f"unknown key {key[:SHOWN_KEY_CHARS]!r} in {what}; "
                                       f"allowed keys: {', '.join(allowed)}")
            elif key in out:
                self.problem(key_node, f"key {key!r} appears twice in {what}")
            else:
                out[key] = value_node
        return out

    def read(self) -> tuple[str, list[CanonicalQuery], list[SlotDeclaration]] | None:
        text = self.text()
        if text is None:
            return None
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except ReaderError as exc:   # a character YAML does not allow
            line = text.count("\n", 0, exc.position) + 1
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            self.problems.append(f"{self.path}:{line}: invalid YAML: the control character "
                                 f"U+{code:04X} is not allowed; remove it")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(f"{self.path}:{line}: invalid YAML: {reason}")
            return None
        except RecursionError:
            self.problems.append(f"{self.path}:1: invalid YAML: nested too deeply to read; "
                                 "a catalog has three levels (file, query, variants)")
            return None
        if root is None:
            self.problems.append(f"{self.path}:1: the file is empty; "
                                 "it needs 'locale:' and 'queries:'")
            return None
        top = self.mapping(root, FILE_KEYS, "the file")
        if top is None:
            return None
        for key in REQUIRED_FILE_KEYS:
            if key not in top:
                self.problem(root, f"missing key {key!r}")
        if "locale" not in top or "queries" not in top:
            return None
        locale = self.string(top["locale"], "locale")
        if locale is not None and not LOCALE_PATTERN.match(locale):
            self.problem(top["locale"], f"locale {locale!r} is not a BCP-47 tag like zh-CN")
            locale = None
        queries_node = top["queries"]
        if not isinstance(queries_node, SequenceNode):
            self.problem(queries_node, "queries must be a list of entries with id and text")
            return None
        queries = [q for q in (self.query(n) for n in queries_node.value) if q is not None]
        slots = self.slots(top["slots"]) if "slots" in top else []
        return (canonical_locale(locale), queries, slots) if locale is not None else None

    def slots(self, node: Node) -> list[SlotDeclaration]:
        """``slots: {name: [value, value, ...]}``: each value a non-empty string, 2+ of them."""
        if not isinstance(node, MappingNode):
            self.problem(node, "slots must be a mapping of slot name: [values], "
                               "e.g. 'room: [kitchen, bedroom]'")
            return []
        out = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = str(key_node.value)
            if not SLOT_NAME_PATTERN.match(name):
                self.problem(key_node, f"slot name {name!r} may only use a-z, 0-9 and '_'")
                continue
            if name in seen:
                self.problem(key_node, f"slot {name!r} appears twice in the file")
                continue
            seen.add(name)
            if not isinstance(value_node, SequenceNode):
                self.problem(value_node, f"slot {name!r} must be a list of values")
                continue
            values: list[str] = []
            for item in value_node.value:
                value = self.string(item, f"a value of slot {name!r}")
                if value is None:
                    continue
                if surface_key(value) in {surface_key(v) for v in values}:
                    self.problem(item, f"value {value!r} appears twice in slot {name!r}")
                    continue
                values.append(value)
            if len(values) < 2:
                self.problem(value_node, f"slot {name!r} needs at least two values: a slot is "
                                         "a choice between values")
                continue
            out.append(SlotDeclaration(name, tuple(values), self.where(key_node)))
        return out

    def text(self) -> str | None:
        """The file as text, or None after reporting why it cannot be read."""
        try:
            size = self.path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.problems.append(
                    f"{self.path}:1: {size} bytes is over the limit of {MAX_FILE_BYTES} per "
                    "catalog file; split the catalog into more files")
                return None
            data = self.path.read_bytes()
        except OSError as exc:
            self.problems.append(f"{self.path}:1: cannot read the file: {exc.strerror}")
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            self.problems.append(
                f"{self.path}:{line}: byte 0x{data[exc.start]:02x} at column {column} is not "
                "UTF-8; save the file as UTF-8")
            return None

    def query(self, node: Node) -> CanonicalQuery | None:
        entry = self.mapping(node, QUERY_KEYS, "a query")
        if entry is None:
            return None
        for key in ("id", "text"):
            if key not in entry:
                self.problem(node, f"query is missing {key!r}")
        qid = self.string(entry["id"], "id") if "id" in entry else None
        if qid is not None and not ID_PATTERN.match(qid):
            self.problem(entry["id"], f"id {qid!r} may only use a-z, 0-9, '_', '.' and '-'")
            qid = None
        text = self.string(entry["text"], "text") if "text" in entry else None
        variants: list[str] = []
        if "variants" in entry:
            vnode = entry["variants"]
            if not isinstance(vnode, SequenceNode):
                self.problem(vnode, "variants must be a list of strings")
            else:
                for item in vnode.value:
                    variant = self.string(item, "variant")
                    if variant is not None:
                        variants.append(variant)
        if qid is None or text is None:
            return None
        return CanonicalQuery(qid, text, tuple(variants), self.where(node))


def _check_locale(locale: str, queries: list[CanonicalQuery], problems: list[str]) -> None:
    """Duplicate ids, and a text shared by two queries (it could not say which one it means)."""
    ids: dict[str, CanonicalQuery] = {}
    owners: dict[str, tuple[CanonicalQuery, str]] = {}
    for query in queries:
        if query.id in ids:
            problems.append(f"{query.source}: duplicate id {query.id!r} in {locale}; "
                            f"first defined at {ids[query.id].source}")
            continue
        ids[query.id] = query
        for text in query.texts:
            key = surface_key(text)
            if not key:
                problems.append(f"{query.source}: {text!r} has no letters or digits")
                continue
            owner = owners.get(key)
            if owner is None:
                owners[key] = (query, text)
            elif owner[0].id != query.id:
                problems.append(
                    f"{query.source}: {text!r} (query {query.id!r}) is the same text as "
                    f"{owner[1]!r} of query {owner[0].id!r} at {owner[0].source}; "
                    "a text may belong to one query only")


def load_catalog(root: str | Path) -> Catalog:
    """Read and validate every ``*.yaml`` under ``root``.

    Raises ``CatalogError`` listing every problem found.
    """
    base = Path(root)
    if not base.is_dir():
        raise CatalogError([f"{base}: not a directory; pass the folder holding the *.yaml files"])
    files = sorted(p for p in base.rglob("*.yaml") if p.is_file())
    if not files:
        raise CatalogError([f"{base}: no *.yaml files found"])
    problems: list[str] = []
    by_locale: dict[str, list[CanonicalQuery]] = {}
    slots: dict[str, list[SlotDeclaration]] = {}
    for path in files:
        read = _FileReader(path, problems).read()
        if read is not None:
            by_locale.setdefault(read[0], []).extend(read[1])
            slots.setdefault(read[0], []).extend(read[2])
    for locale, queries in by_locale.items():
        _check_locale(locale, queries, problems)
    if problems:
        raise CatalogError(problems)
    return Catalog({loc: tuple(qs) for loc, qs in sorted(by_locale.items())},
                   {loc: tuple(ds) for loc, ds in sorted(slots.items()) if ds})


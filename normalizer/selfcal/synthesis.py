"""Development cases made from a catalog alone, for self-calibration.

A confidence model needs examples of transcripts that should be rewritten and of ones that
should not. With no labelled data, ``synthesize`` makes them from the catalog, per locale:

* **held out**: every text of a query with two or more, scored as if the catalog did not
  hold it (``hidden`` row): an unseen phrasing of its query, expected to be rewritten;
* **noised**: a text or variant with recogniser-like noise (noise.py: same-sound Chinese
  characters, accent mergers, dropped particles; English homophones, dropped function
  words, split and merged words), expected to be rewritten; some held out as well;
* **slot changes**: a text whose slot value (slots.py: a hard value of a confirmed group)
  is swapped for a value of the same role that the catalog does not hold ("turn on the
  garage lights" for the kitchen's), or whose number is changed: expected to pass through;
* **out of domain**: ordinary requests from the corpus shipped with the package
  (``data/ood.<locale>.txt``: facts, chit-chat, booking, other apps ...), minus any a
  catalog text equals: expected to pass through.

Every draw comes from ``random.Random`` seeded with a CRC32 of the case's coordinates, so a
catalog always gives the same cases. ``SIZES`` bounds how many of each kind a locale gets:
self-calibration must stay within a few times the plain build's embedding work.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from normalizer.catalog import CanonicalQuery, surface_key
from normalizer.matching.lang import Language
from normalizer.matching.slots import SlotIndex
from normalizer.matching.tokens import Kind
from normalizer.matching.utterance import Utterance
from normalizer.selfcal import noise

__all__ = ["SIZES", "Synthetic", "ood_corpus", "synthesize"]

# Cases per kind and locale, at most: 650, as many texts as the plain build of a
# 200-query catalog embeds (about 570), so that self-calibration costs about one more build.
SIZES = {"held_out": 150, "noised": 200, "slot_change": 150, "out_of_domain": 150}


@dataclass(frozen=True)
class Synthetic:
    """One synthesised case: a transcript, the query it means (None: pass through), the
    catalog row hidden from its search (-1: none), and how it was made."""

    transcript: str
    expected_id: str | None
    kind: str
    hidden: int = -1


# How a changed number's unit is said: (Chinese, English).
_UNIT_WORDS = {"second": ("秒", "seconds"), "minute": ("分钟", "minutes"),
               "hour": ("小时", "hours"), "day": ("天", "days"), "week": ("周", "weeks"),
               "degree": ("度", "degrees")}


def _rng(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("\x1f".join(map(str, parts)).encode("utf-8")))


@cache
def ood_corpus(code: str) -> tuple[str, ...]:
    """The shipped out-of-domain requests for a language code (``zh``, ``en``)."""
    name = {"zh": "ood.zh-CN.txt", "en": "ood.en-US.txt"}.get(code)
    if name is None:
        return ()
    text = resources.files("normalizer.selfcal").joinpath("data").joinpath(name).read_text(
        "utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def synthesize(locale: str, queries: Sequence[CanonicalQuery], rows: Sequence[Utterance],
               row_query: Sequence[int], slots: SlotIndex) -> list[Synthetic]:
    """Cases for one locale; ``rows`` are the catalog's texts prepared, in index order."""
    language = slots.language
    out: list[Synthetic] = []
    texts = [u.text for u in rows]
    catalog_keys = {surface_key(t) for t in texts}
    by_query: dict[int, list[int]] = {}
    for r, q in enumerate(row_query):
        by_query.setdefault(int(q), []).append(r)

    # held out: each text of a multi-text query, scored without itself
    held = [(r, q) for q, rs in by_query.items() if len(rs) > 1 for r in rs]
    _rng(locale, "held").shuffle(held)
    for r, q in held[:SIZES["held_out"]]:
        out.append(Synthetic(texts[r], queries[q].id, "held_out", r))

    # noised: a text with recogniser-like noise; half of them held out too
    order = list(range(len(texts)))
    _rng(locale, "noised").shuffle(order)
    made = 0
    for k, r in enumerate(order):
        if made >= SIZES["noised"]:
            break
        noisy = noise.apply(texts[r], language, _rng(locale, "noise", r))
        if noisy is None or surface_key(noisy) in catalog_keys:
            continue
        q = int(row_query[r])
        hide = r if k % 2 and len(by_query[q]) > 1 else -1
        out.append(Synthetic(noisy, queries[q].id, "noised", hide))
        made += 1

    # slot changes: a hard slot value swapped for one of its role the catalog lacks
    out.extend(_slot_changes(locale, rows, slots, catalog_keys)[:SIZES["slot_change"]])

    # out of domain, from the shipped corpus
    corpus = [t for t in ood_corpus(language.code) if surface_key(t) not in catalog_keys]
    picked = _rng(locale, "ood").sample(corpus, min(len(corpus), SIZES["out_of_domain"]))
    out.extend(Synthetic(t, None, "out_of_domain") for t in picked)
    return out


def _slot_changes(locale: str, rows: Sequence[Utterance], slots: SlotIndex,
                  catalog_keys: set[str]) -> list[Synthetic]:
    language = slots.language
    # every value any catalog text says: a swap to one of them may be another query
    catalog_values = {v for g in slots.groups for v in g.catalog} | {
        v for said in slots.said.values() for v in said}
    made: list[Synthetic] = []
    seen: set[str] = set()
    order = list(range(len(rows)))
    _rng(locale, "slots").shuffle(order)
    for r in order:
        u = rows[r]
        rng = _rng(locale, "slot", r)
        changed = _swap_value(u, slots, catalog_values, rng) or _change_number(u, language, rng)
        if changed is None:
            continue
        key = surface_key(changed)
        if key in catalog_keys or key in seen:
            continue
        seen.add(key)
        made.append(Synthetic(changed, None, "slot_change"))
    return made


def _swap_value(u: Utterance, slots: SlotIndex, catalog_values: set[tuple[str, ...]],
                rng: random.Random) -> str | None:
    """The text with one of its hard slot values replaced by another of the same group
    that no catalog text holds."""
    language = slots.language
    for h in sorted(slots.heard(u), key=lambda h: (-(h.end - h.start), h.start)):
        if not h.exact:
            continue
        for gid in slots.groups_of.get(h.value, ()):
            group = slots.groups[gid]
            if h.value not in group.hard:
                continue
            others = sorted(v for v in group.hard - catalog_values if v and v != h.value)
            if not others:
                continue
            new = rng.choice(others)
            tokens = [t.surface for t in u.tokens]
            return language.show([*tokens[:h.start], *new, *tokens[h.end:]])
    return None


def _change_number(u: Utterance, language: Language, rng: random.Random) -> str | None:
    """The text with its (first) number changed to another value, said in digits."""
    for k, tok in enumerate(u.tokens):
        if tok.kind is not Kind.NUM or not u.numbers:
            continue
        number = u.numbers[0]
        if number.value != int(number.value):
            return None
        value = int(number.value)
        other = value + rng.choice((1, 2, 5, 10)) if value < 12 or rng.random() < 0.5 else \
            max(value - rng.choice((1, 5, 10)), 1)
        if other == value:
            return None
        tokens = [t.surface for t in u.tokens]
        zh = language.character_tokens
        unit = (_UNIT_WORDS[number.unit][0 if zh else 1] if number.unit else "")
        said = f"{other}{unit}" if zh else f"{other} {unit}".strip()
        if number.time:
            said = f"{other}点" if zh else f"{other} o'clock"
        return language.show([*tokens[:k], said, *tokens[k + 1:]])
    return None

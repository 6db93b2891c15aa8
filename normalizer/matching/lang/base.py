"""The base language pack: the protocol every pack implements, and the fallback for locales
without a pack of their own (case-folded words compared exactly, digits read as numbers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from rapidfuzz.distance import Levenshtein

from normalizer.matching.numbers import Mention, Number, digits_value
from normalizer.matching.tokens import Kind, Token, normalize, scan

__all__ = ["Found", "Language", "Sound"]

SLOT_VALUES = "slot_values.yaml"     # in a pack's package: role -> values


@dataclass(frozen=True, slots=True)
class Sound:
    """The sound of a token sequence as units (syllables, phonemes, words), with the token
    each unit came from."""

    units: tuple[str, ...]
    token_of: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Found:
    """Where a needle's sound was found in a haystack: the tokens it spans and the cost
    (0 = the same sound; the pack says up to which cost it is the same value)."""

    cost: float
    start: int
    end: int


@cache
def _slot_roles(module: str) -> dict[str, tuple[str, ...]]:
    try:
        text = resources.files(module).joinpath(SLOT_VALUES).read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError, TypeError):
        return {}
    loaded = yaml.safe_load(text) or {}
    return {str(role): tuple(str(v).strip().lower() for v in values if str(v).strip())
            for role, values in loaded.items()}


class Language:
    """The pack for languages without one: exact words, digits, nothing more."""

    code = "other"
    # Whether a token is a character rather than a word (Chinese): a contrast found between
    # single tokens may then be part of a word (书/厨 of 书房/厨房), and is grown to it.
    character_tokens = False
    # Slot values: the longest contrast, in tokens (slots.py); the fewest sound units of a
    # value a query owns by saying it; and of a value a transcript says outside the query's
    # own slots (one Chinese character - 后, 大 - is as often another word).
    max_slot_tokens = 3
    min_owned_units = 2
    min_foreign_tokens = 1
    # Words of the language's grammar (pronouns, auxiliaries, prepositions): never a slot
    # value of the lexicon, even where a list of names holds them ("will", "may").
    stop_words: frozenset[str] = frozenset()
    fillers: tuple[tuple[str, ...], ...] = ()
    antonyms: tuple[tuple[str, str], ...] = ()
    equivalents: tuple[frozenset[str], ...] = ()
    # Classes of action words (add / remove / cancel ...): a request that does another
    # thing to the same object is another request. The first word names the class.
    actions: tuple[tuple[str, ...], ...] = ()
    # Slot values a request means when it names none of its group: "what's my schedule"
    # asks for today's.
    implicit_values: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self._fillers_by_first: dict[str, tuple[tuple[str, ...], ...]] = {}
        for phrase in sorted(self.fillers, key=len, reverse=True):
            self._fillers_by_first.setdefault(phrase[0], ())
            self._fillers_by_first[phrase[0]] += (phrase,)
        opposites: dict[str, set[str]] = {}
        for x, y in self.antonyms:
            opposites.setdefault(x, set()).add(y)
            opposites.setdefault(y, set()).add(x)
        self.opposites = {w: frozenset(o) for w, o in opposites.items()}
        self.equivalent_of = {w: group for group in self.equivalents for w in group}

    def slot_roles(self) -> dict[str, tuple[str, ...]]:
        """Slot values by role (room, person, city, day ...), from the pack's
        ``slot_values.yaml``; none for a language without a pack."""
        return _slot_roles(type(self).__module__)

    def spellings(self, value: str) -> frozenset[str]:
        """Other spellings of a slot value: its ``equivalents`` (and, in a pack that says
        so, its inflections)."""
        return self.equivalent_of.get(value, frozenset()) - {value}

    def show(self, tokens: Iterable[str]) -> str:
        """Token surfaces as text: words spaced, characters not."""
        return ("" if self.character_tokens else " ").join(tokens)

    def implicit(self, values: Iterable[tuple[str, ...]]) -> bool:
        """Whether one of the values is what a request means when it names none."""
        return any(self.show(v) in self.implicit_values for v in values)

    # -- tokens and numbers ---------------------------------------------------------------

    def tokenize(self, text: str) -> tuple[Token, ...]:
        out = []
        for piece in scan(normalize(text).casefold()):
            out.append(Token(piece.text, piece.kind, piece.text, piece.text))
        return tuple(out)

    def find_numbers(self, tokens: Sequence[Token]) -> list[Mention]:
        mentions = []
        for i, tok in enumerate(tokens):
            if tok.kind is Kind.DIGITS:
                value, is_time = digits_value(tok.surface)
                mentions.append(Mention(i, i + 1, Number(value, time=is_time)))
        return mentions

    def number_sound(self, number: Number) -> tuple[str, str]:
        """(raw, key) of a NUM token: by default the value itself."""
        return number.key, "#" + number.key + "#"

    # -- words that do not change the request ----------------------------------------------

    def filler_length(self, tokens: Sequence[Token], i: int) -> int:
        """Length of the longest filler phrase starting at token ``i`` (0 if none)."""
        tok = tokens[i]
        if tok.kind is not Kind.HAN and tok.kind is not Kind.WORD:
            return 0
        for phrase in self._fillers_by_first.get(tok.surface, ()):
            size = len(phrase)
            if i + size <= len(tokens) and all(
                tokens[i + k].kind in (Kind.HAN, Kind.WORD) and tokens[i + k].surface == phrase[k]
                for k in range(1, size)
            ):
                return size
        return 0

    def negations(self, tokens: Sequence[Token]) -> tuple[str, ...]:
        """The negation cues of a token sequence, in order (none known here)."""
        return ()

    # -- sound ----------------------------------------------------------------------------

    def sound(self, tokens: Sequence[Token]) -> Sound:
        return Sound(tuple(t.key for t in tokens), tuple(range(len(tokens))))

    def similarity(self, a: Sound, b: Sound) -> float:
        """How alike two sounds are, in [0, 1]: 1 - unit edit distance / the longer length."""
        return float(Levenshtein.normalized_similarity(a.units, b.units))

    def find(self, needle: Sound, haystack: Sound) -> Found | None:
        """The needle's units as a contiguous run of the haystack's (exact here)."""
        n = len(needle.units)
        if not n:
            return None
        for k in range(len(haystack.units) - n + 1):
            if haystack.units[k:k + n] == needle.units:
                return Found(0.0, haystack.token_of[k], haystack.token_of[k + n - 1] + 1)
        return None

    def same_value(self, found: Found, needle: Sound) -> bool:
        """Whether a ``find`` result is the needle's value said again (exact here)."""
        return found.cost == 0.0

    def cover(self, a: Sound, b: Sound) -> tuple[float, float]:
        """(share of a's units that b accounts for, share of b's units that a accounts for),
        from the matching blocks of their alignment."""
        if not a.units or not b.units:
            return (0.0, 0.0)
        matched = sum(block.size for block in
                      Levenshtein.opcodes(a.units, b.units).as_matching_blocks())
        return matched / len(a.units), matched / len(b.units)

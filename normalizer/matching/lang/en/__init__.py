"""English (``en-*``): words, contractions spelt out, number words, sound as phonemes.

Tokens: a run of letters is one word (inner apostrophes kept); unambiguous contractions
are spelt out ("what's"/"whats" -> "what is", "don't" -> "do not"), also when the
recogniser fused them with the next word ("what'sthe"). Sound: every word's phonemes from
the CMU Pronouncing Dictionary, or letter-to-sound rules for words it lacks (phonemes.py),
as one sequence per text, so that a recogniser's broken word boundaries ("kit chin" for
kitchen, "having a key to" for "navigate to") are compared by sound, not by word.
A word's ``key`` is its phonemes: homophones share it ("bred" = bread; "bed room" = bedroom
once concatenated). (Keys with the vowels blurred were tried and dropped: on the dev split
they made "wake" the value "work" and "phone" the value "fan".)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from normalizer.matching.lang.base import Found, Language, Sound
from normalizer.matching.lang.en import numbers, phonemes
from normalizer.matching.numbers import Mention, Number
from normalizer.matching.tokens import Kind, Token, normalize, scan

__all__ = ["English"]

# Hesitations, discourse fillers, politeness and articles: removing them never changes the
# request. Negations (not, never, don't) are deliberately absent: they are content.
FILLERS = (
    "uh", "um", "er", "erm", "ah", "oh", "hmm", "mm",
    "like", "just", "hey", "so", "well", "yo", "alright",
    "please", "can you", "could you", "would you", "will you", "kindly", "go ahead and",
    "okay", "ok", "thanks", "thank you",
    "the", "a", "an",
)

ANTONYMS = (
    ("on", "off"), ("open", "close"), ("opened", "closed"), ("up", "down"), ("in", "out"),
    ("start", "stop"), ("enable", "disable"), ("lock", "unlock"), ("mute", "unmute"),
    ("increase", "decrease"), ("raise", "lower"), ("higher", "lower"), ("high", "low"),
    ("more", "less"), ("next", "previous"), ("next", "last"), ("hot", "cold"),
    ("warmer", "cooler"), ("add", "remove"), ("show", "hide"), ("play", "pause"),
    ("yes", "no"), ("left", "right"), ("before", "after"), ("max", "min"),
    ("maximum", "minimum"), ("louder", "quieter"), ("louder", "softer"),
    ("brighter", "dimmer"), ("forward", "backward"), ("forward", "back"),
    ("activate", "deactivate"), ("connect", "disconnect"), ("arm", "disarm"),
    ("all", "none"), ("front", "back"), ("inside", "outside"), ("indoor", "outdoor"),
    ("sunrise", "sunset"), ("upstairs", "downstairs"), ("answer", "decline"),
    ("accept", "decline"), ("first", "last"), ("above", "below"), ("north", "south"),
    ("east", "west"), ("morning", "evening"),
)

# What a request does to its object; synonyms in one class, the class named by its first.
ACTIONS = (
    ("add", "put"),
    ("remove", "delete", "take off", "get rid of", "erase", "scratch"),
    ("cancel", "call off"),
    ("clear", "empty", "wipe"),
    ("postpone", "push back", "move"),
    ("snooze",),
    ("repeat", "loop"),
    ("shuffle",),
    ("save", "like", "favorite"),
)

NEGATIONS = frozenset(("not", "never", "no", "without"))
# Phrases that hold a negation without negating the request ("don't let me forget to buy
# milk" asks for a reminder), the way 不错 or 差不多 do in Chinese.
NOT_NEGATING = (("do", "not", "forget"), ("do", "not", "let", "me", "forget"),
                ("never", "mind"))

# Pronouns, determiners, auxiliaries, prepositions, conjunctions (after spaCy's English
# stop words): grammar, never a slot value, even where a list of names holds one ("will").
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is
it its itself just me might more most must my myself no nor not now of off on once only
or other our ours out over own same shall she should so some such than that the their
them then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself
""".split())

# Spellings of one slot value.
EQUIVALENTS = (
    frozenset(("tv", "television", "telly")),
    frozenset(("mom", "mother", "mum", "mommy", "mama")),
    frozenset(("dad", "father", "daddy", "papa")),
    frozenset(("wifi", "wi fi", "wireless")),
    frozenset(("tonight", "this evening")),
    frozenset(("airplane mode", "flight mode")),
    frozenset(("all", "every", "all the", "everything")),
    frozenset(("ac", "a c", "air conditioner", "air conditioning")),
)
# What a request means when it names no day: today's weather, today's schedule.
IMPLICIT = frozenset(("today", "now", "right now"))

_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    word: tuple(expansion.split()) for word, expansion in {
        "what's": "what is", "that's": "that is", "it's": "it is", "there's": "there is",
        "here's": "here is", "who's": "who is", "where's": "where is", "how's": "how is",
        "when's": "when is", "let's": "let us", "i'm": "i am", "you're": "you are",
        "we're": "we are", "they're": "they are", "i'll": "i will", "you'll": "you will",
        "we'll": "we will", "i've": "i have", "you've": "you have", "we've": "we have",
        "i'd": "i would", "don't": "do not", "doesn't": "does not", "didn't": "did not",
        "can't": "can not", "cannot": "can not", "won't": "will not", "isn't": "is not",
        "aren't": "are not", "wasn't": "was not", "weren't": "were not",
        "shouldn't": "should not", "wouldn't": "would not", "couldn't": "could not",
        "gonna": "going to", "wanna": "want to", "gotta": "got to",
    }.items()
}
# Recognisers often drop the apostrophe; these spellings are not words of their own
# ("its", "lets", "cant", "wont" are, and stay).
_CONTRACTIONS.update({
    word.replace("'", ""): expansion for word, expansion in _CONTRACTIONS.items()
    if word.replace("'", "") not in ("its", "lets", "cant", "wont", "id", "ill", "well", "were")
})
_MERIDIEM_DOTS = re.compile(r"\b([ap])\.\s?m\.?(?=\W|$)")


@lru_cache(maxsize=8192)
def _fused_contraction(word: str) -> tuple[str, ...]:
    """A contraction fused with the next word by the recogniser, spelt out:
    ``what'sthe`` -> ``what is the``. Any other word comes back as itself."""
    cut = word.find("'")
    if cut > 0:
        for size in (1, 2):            # 's 'm 'd 't / 're 'll 've
            head = word[:cut + 1 + size]
            if len(head) < len(word) and head in _CONTRACTIONS:
                return (*_CONTRACTIONS[head], *_fused_contraction(word[len(head):]))
    return (word,)


@lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """A word's phonemes as one string: ``kitchen`` -> ``K.IH.CH.AH.N.``."""
    return "".join(p + "." for p in phonemes.word_phonemes(word))


@dataclass(frozen=True, slots=True)
class EnglishSound(Sound):
    pronounced: phonemes.Pronounced


class English(Language):
    code = "en"
    min_owned_units = 3          # phonemes: "mom", not "on"
    stop_words = STOP_WORDS
    implicit_values = IMPLICIT
    fillers = tuple(tuple(phrase.split()) for phrase in FILLERS)
    antonyms = ANTONYMS
    equivalents = EQUIVALENTS
    actions = ACTIONS

    def spellings(self, value: str) -> frozenset[str]:
        """Equivalents, and the value with its last word in the other number: "light" for
        "lights", "lights" for "light" (what people and recognisers interchange)."""
        out = set(super().spellings(value))
        *head, last = value.split(" ")
        if len(last) >= 3:
            other = last[:-1] if last.endswith("s") and not last.endswith("ss") else last + "s"
            out.add(" ".join((*head, other)))
        return frozenset(out - {value})

    def tokenize(self, text: str) -> tuple[Token, ...]:
        norm = _MERIDIEM_DOTS.sub(r"\1m", normalize(text))          # "6 a.m." -> "6 am"
        tokens: list[Token] = []
        for piece in scan(norm):
            if piece.kind is Kind.WORD:
                for word in _CONTRACTIONS.get(piece.text) or _fused_contraction(piece.text):
                    tokens.append(Token(word, Kind.WORD, word, word_key(word)))
            else:
                tokens.append(Token(piece.text, piece.kind, piece.text, piece.text))
        return tuple(tokens)

    def find_numbers(self, tokens: Sequence[Token]) -> list[Mention]:
        return numbers.find_numbers(tokens)

    def number_sound(self, number: Number) -> tuple[str, str]:
        value = number.value
        if value != int(value) or not 0 <= value < 1_000_000_000:
            return super().number_sound(number)
        words = numbers.reading(int(value))
        return words, "".join(word_key(w) for w in words.split())

    def negations(self, tokens: Sequence[Token]) -> tuple[str, ...]:
        words = [t.surface if t.kind is Kind.WORD else "" for t in tokens]
        masked = [False] * len(words)
        for phrase in NOT_NEGATING:
            n = len(phrase)
            for k in range(len(words) - n + 1):
                if tuple(words[k:k + n]) == phrase:
                    masked[k:k + n] = [True] * n
        return tuple(w for w, m in zip(words, masked, strict=True) if w in NEGATIONS and not m)

    def sound(self, tokens: Sequence[Token]) -> Sound:
        words: list[str] = []
        token_of_word: list[int] = []
        for i, tok in enumerate(tokens):
            spoken = tok.raw.split() if tok.kind is Kind.NUM else [tok.surface]
            words.extend(w for w in spoken if w.isalpha() or "'" in w)
            token_of_word.extend(i for w in spoken if w.isalpha() or "'" in w)
        pronounced = phonemes.pronounce(words)
        return EnglishSound(pronounced.phonemes,
                            tuple(token_of_word[w] for w in pronounced.word_of), pronounced)

    def similarity(self, a: Sound, b: Sound) -> float:
        if isinstance(a, EnglishSound) and isinstance(b, EnglishSound):
            return phonemes.similarity(a.pronounced, b.pronounced)
        return super().similarity(a, b)

    def find(self, needle: Sound, haystack: Sound) -> Found | None:
        if not (isinstance(needle, EnglishSound) and isinstance(haystack, EnglishSound)):
            return super().find(needle, haystack)
        if not needle.units or not haystack.units:
            return None
        found = phonemes.find(needle.pronounced, haystack.pronounced)
        token_of_word = {w: haystack.token_of[k] for k, w in
                         enumerate(haystack.pronounced.word_of)}
        start = token_of_word.get(found.start, 0)
        end = token_of_word.get(found.end - 1, start) + 1
        return Found(found.cost, start, end)

    def same_value(self, found: Found, needle: Sound) -> bool:
        return found.cost <= same_value_limit(len(needle.units))


def same_value_limit(phoneme_count: int) -> float:
    """The highest ``phonemes.find`` cost at which a slot value counts as said by sound.

    Short values must match closely (mom/tom, dad/bad are other words); longer ones keep
    their identity through a recogniser's slips ("kit chin" for kitchen)."""
    if phoneme_count <= 3:
        return 0.0
    if phoneme_count <= 5:
        return 0.15
    return 0.25

"""A text prepared once for comparison: tokens, numbers, fillers removed, negations, sound.

Catalog texts are prepared when an index version is loaded, a transcript once per request;
the guard and the features then only compare prepared utterances.
"""

from __future__ import annotations

from dataclasses import dataclass

from normalizer.matching.lang import Language, Sound, for_locale
from normalizer.matching.numbers import Number, collapse
from normalizer.matching.tokens import Kind, Token, join_surfaces

__all__ = ["Utterance", "prepare"]


@dataclass(frozen=True, eq=False)
class Utterance:
    text: str
    language: Language
    tokens: tuple[Token, ...]        # content: numbers collapsed to NUM, fillers removed
    numbers: tuple[Number, ...]      # the numbers said, in order
    negations: tuple[str, ...]       # the negation cues said, in order
    fillers: tuple[str, ...]         # the filler phrases removed, in order
    sound: Sound                     # the language's sound of ``tokens``

    @property
    def surfaces(self) -> tuple[str, ...]:
        return tuple(t.surface for t in self.tokens)

    @property
    def content(self) -> str:
        """The content as display text: equal content is the same words."""
        return join_surfaces(self.tokens)


def prepare(text: str, locale: str | Language) -> Utterance:
    """Tokenize, read numbers, remove fillers, find negations, prepare the sound."""
    language = for_locale(locale) if isinstance(locale, str) else locale
    raw = language.tokenize(text)
    tokens, numbers = collapse(raw, language.find_numbers(raw), language.number_sound)
    content: list[Token] = []
    fillers: list[str] = []
    i = 0
    while i < len(tokens):
        size = language.filler_length(tokens, i) if tokens[i].kind is not Kind.NUM else 0
        if size:
            fillers.append(join_surfaces(tokens[i:i + size]))
            i += size
            continue
        content.append(tokens[i])
        i += 1
    return Utterance(
        text=text,
        language=language,
        tokens=tuple(content),
        numbers=tuple(n for n in numbers if n is not None),
        negations=language.negations(content),
        fillers=tuple(fillers),
        sound=language.sound(content),
    )

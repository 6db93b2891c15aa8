"""Language packs: everything matching knows about one language, behind one small class.

The aligner, the guard and the features are language-independent; they ask a
``Language`` for what differs between languages (spaCy's ``spacy/lang/<code>/`` is the
model):

* ``tokenize``: text -> ``Token``s with raw and folded sound (tokens.py);
* ``find_numbers`` and ``number_sound``: numbers said in words or digits (numbers.py);
* ``fillers`` (and ``filler_length``): hesitations, politeness and particles whose removal
  never changes the request;
* ``negations``: the negation cues of a text (不, 没, not, never ...);
* ``antonyms``: pairs whose exchange is another request even when they sound alike;
* ``equivalents``: spellings of one slot value (明儿 = 明天);
* sound: ``sound`` prepares a token sequence's sound once, ``similarity`` compares two,
  ``find`` looks for a slot value's sound inside a transcript, ``cover`` says how much of
  each text the other one accounts for.

````for_locale("zh-CN")`` picks the pack by the locale's language subtag; a locale without a
pack gets ``Language`` itself: case-folded words compared exactly, digits read as numbers,
no fillers. A new locale is one new pack (and its tests), nothing else.
"""

from __future__ import annotations

import importlib
from functools import cache

from normalizer.matching.lang.base import Found, Language, Sound

__all__ = ["Found", "Language", "Sound", "for_locale"]

# Packs by the locale's language subtag: (module, class). Imported on first use, so that
# a process serving one language never loads another's dictionaries.
PACKS: dict[str, tuple[str, str]] = {
    "zh": ("normalizer.matching.lang.zh", "Chinese"),
    "en": ("normalizer.matching.lang.en", "English"),
}


@cache
def for_locale(locale: str) -> Language:
    """The pack of a locale's language subtag (``zh-CN`` -> Chinese); ``Language`` itself
    for a language without a pack."""
    subtag = locale.strip().lower().replace("_", "-").split("-")[0]
    if subtag not in PACKS:
        return Language()
    module, name = PACKS[subtag]
    pack: type[Language] = getattr(importlib.import_module(module), name)
    return pack()

